import * as path from 'path';
import { TracedService, environments, serviceSamplerEnv } from '../../config';
import { jaegerDown, jaegerUp } from '../../tools/local-jaeger';
import { CACHE_DIR } from '../../tools/paths';

/**
 * The test run's trace backend: every service a test starts (services/harness.ts) exports its
 * spans to it at the ratio workloads-stack deploys, so the pipeline, ordering and chaos tests run
 * with tracing on, as the services run deployed. Its own ports and files: `npm start`'s Jaeger and
 * the trace test's own (__tests__/services/traces.test.ts, which counts spans) are apart.
 */
export const RUN_JAEGER = { dir: path.join(CACHE_DIR, 'test-run-jaeger'), otlpPort: 29358, queryPort: 29726, maxTraces: 20_000 };

/** The trace test's own backend (__tests__/services/traces.test.ts), apart from the run's: it counts spans. */
export const TRACE_TEST_JAEGER = { dir: path.join(CACHE_DIR, 'test-jaeger'), otlpPort: 29338, queryPort: 29706 };

/** Set by the global setup for the test workers (forked after it). */
export const TEST_OTLP_ENDPOINT_VARIABLE = 'KAFKA_PLATFORM_TEST_OTLP_ENDPOINT';

export async function testTraceBackendUp(log: (line: string) => void): Promise<void> {
  const jaeger = await jaegerUp({ ...RUN_JAEGER, log });
  process.env[TEST_OTLP_ENDPOINT_VARIABLE] = jaeger.otlpEndpoint;
}

export async function testTraceBackendDown(log: (line: string) => void): Promise<void> {
  await jaegerDown({ dir: RUN_JAEGER.dir, log });
}

/** The OTel variables a test's service gets; none when the run has no trace backend (a suite run on its own with a no-op setup). */
export function testTracingEnv(service: TracedService): Record<string, string> {
  const endpoint = process.env[TEST_OTLP_ENDPOINT_VARIABLE];
  if (!endpoint) return {};
  return { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...serviceSamplerEnv(service, environments.dev.services.traceSampleRatio) };
}
