import * as http from 'http';
import { AddressInfo } from 'net';
import pino, { Logger } from 'pino';
import { Counter, Histogram, LabelValues, Registry, collectDefaultMetrics } from 'prom-client';
import { LogLevel } from './config';

export type { Logger } from 'pino';

/**
 * One JSON object per line on stdout: what the cluster's log collector expects. Writes are
 * synchronous: a message's log line is its processing, so it must be out of the process
 * before the offset is committed, or a crash would lose it.
 */
export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}

/** What prom-client keeps per label set of a histogram (lib/histogram.js, createBaseValues). */
interface HistogramValues {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/**
 * prom-client's Histogram with a cheaper observe for a label set fixed up front: its own
 * `labels(...).observe` builds the label hash and turns the bucket bound into a property name on
 * every call (0.25 µs, the consumer's largest cost per message after parsing). `series` finds the
 * label set's values, made by prom-client (`zero`) if new, and observing adds to them in place;
 * exporting stays prom-client's. __tests__/services/shared/observability.test.ts holds both
 * observes to the same output, so a prom-client that keeps its values otherwise fails there.
 */
export class SeriesHistogram<T extends string> extends Histogram<T> {
  /** An observe for one label set: the bucket search and three additions, nothing allocated. */
  series(labels: LabelValues<T>): (value: number) => void {
    const own = this as unknown as { hashMap: Record<string, HistogramValues>; upperBounds: readonly number[] };
    const bounds = own.upperBounds;
    // The property names prom-client gives the buckets: each bound as a string.
    const keys = bounds.map(String);
    const wanted = Object.entries(labels as Record<string, string | number>);
    const find = () => Object.values(own.hashMap).find((v) => Object.keys(v.labels).length === wanted.length && wanted.every(([k, x]) => v.labels[k] === x));
    let map: Record<string, HistogramValues> | undefined;
    let values: HistogramValues | undefined;
    return (value: number) => {
      // Looked up on the first observe, and again after a reset() replaced prom-client's map.
      if (own.hashMap !== map) {
        if (!find()) this.zero(labels);
        values = find();
        if (!values || keys.some((k) => !(k in values!.bucketValues))) throw new Error(`histogram ${(this as unknown as { name: string }).name}: prom-client keeps no buckets ${keys.join(', ')} for ${JSON.stringify(labels)}`);
        map = own.hashMap;
      }
      if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
      let i = 0;
      while (i < bounds.length && value > bounds[i]) i++;
      if (i < bounds.length) values!.bucketValues[keys[i]] += 1;
      values!.sum += value;
      values!.count += 1;
    };
  }
}

/** The counters and histogram both services export; each service moves the ones it uses. */
export interface Metrics {
  readonly registry: Registry;
  readonly produced: Counter<'topic'>;
  readonly consumed: Counter<'topic'>;
  readonly duplicates: Counter<'topic'>;
  readonly errors: Counter<'stage'>;
  readonly dlq: Counter<'topic'>;
  readonly latency: SeriesHistogram<'topic'>;
}

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const prefix = 'kafka_platform_';
  return {
    registry,
    produced: new Counter({ name: `${prefix}messages_produced_total`, help: 'Messages acknowledged by all in-sync replicas', labelNames: ['topic'], registers: [registry] }),
    consumed: new Counter({ name: `${prefix}messages_consumed_total`, help: 'Valid messages processed (offset committed afterwards)', labelNames: ['topic'], registers: [registry] }),
    duplicates: new Counter({ name: `${prefix}messages_duplicate_total`, help: 'Messages whose id this process had already processed (redeliveries)', labelNames: ['topic'], registers: [registry] }),
    errors: new Counter({ name: `${prefix}errors_total`, help: 'Failures by stage', labelNames: ['stage'], registers: [registry] }),
    dlq: new Counter({ name: `${prefix}dlq_messages_total`, help: 'Malformed messages forwarded to the dead-letter topic', labelNames: ['topic'], registers: [registry] }),
    latency: new SeriesHistogram({
      name: `${prefix}end_to_end_latency_seconds`,
      help: 'From the createdAt timestamp in the message to the end of its processing',
      labelNames: ['topic'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  };
}

export interface HttpServer {
  /** The port actually bound (differs from the configured one when that was 0). */
  readonly port: number;
  /** The address bound: `::` or `0.0.0.0` for every interface, else HTTP_HOST's. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * /healthz: the process is alive. /readyz: connected to Kafka (503 otherwise, so the
 * pod leaves Service endpoints and a rollout waits). /metrics: Prometheus text format.
 */
export async function startHttpServer(
  port: number,
  ready: () => boolean,
  metrics: Metrics,
  logger: Logger,
  // HTTP_HOST as readCommonConfig validated it (every service reads its config first).
  host: string | undefined = process.env.HTTP_HOST || undefined,
): Promise<HttpServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, '{"error":"method not allowed"}');
    switch (path) {
      case '/healthz':
        return reply(200, '{"status":"ok"}');
      case '/readyz':
        return ready() ? reply(200, '{"status":"ready"}') : reply(503, '{"status":"not ready"}');
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => reply(200, text, metrics.registry.contentType),
          (err: unknown) => reply(500, JSON.stringify({ error: String(err) })),
        );
        return;
      default:
        return reply(404, '{"error":"not found"}');
    }
  });
  // Probes and scrapes are tiny: a short timeout keeps idle sockets from delaying shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound, address } = server.address() as AddressInfo;
  logger.info({ event: 'http_listening', port: bound, address }, `http server on ${address}:${bound} (/healthz, /readyz, /metrics)`);
  return {
    port: bound,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
