import { EnvReader } from './config';

/**
 * The standard OpenTelemetry variables the services read (the SDK environment specification),
 * validated like every other setting: a bad value stops the service at start with the variable,
 * the value and the expected form. Anything the services cannot honour (a gRPC exporter, another
 * propagator) is refused rather than silently ignored.
 */

/** Samplers of the specification's OTEL_TRACES_SAMPLER. */
export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/** The OTLP transport the services' exporter speaks: protobuf over HTTP. */
export type OtlpProtocol = 'http/protobuf';

/** The batch span processor's limits (OTEL_BSP_*). */
export interface BatchLimits {
  readonly scheduleDelayMs: number;
  readonly exportTimeoutMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

export interface TracingConfig {
  /**
   * Off unless an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT), and
   * OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none turn it off: a service without a collector
   * then does no tracing work at all.
   */
  readonly enabled: boolean;
  /** Full URL spans are POSTed to, e.g. `http://alloy.monitoring.svc.cluster.local:4318/v1/traces`. */
  readonly tracesUrl: string;
  readonly protocol: OtlpProtocol;
  /** `service.name` (OTEL_SERVICE_NAME, default the service). */
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: TraceSampler;
  /** Share of new traces kept by the *traceidratio samplers, 0 to 1. */
  readonly samplerRatio: number;
  readonly batch: BatchLimits;
}

const RESOURCE_KEY = /^[A-Za-z0-9._\-/]{1,255}$/;

/** OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs, comma separated, values percent-encoded (the W3C Baggage format). */
function readResourceAttributes(r: EnvReader): Record<string, string> {
  const raw = r.optionalString('OTEL_RESOURCE_ATTRIBUTES');
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    let value: string | undefined;
    try {
      value = eq > 0 ? decodeURIComponent(pair.slice(eq + 1).trim()) : undefined;
    } catch {
      value = undefined;
    }
    if (!RESOURCE_KEY.test(key) || value === undefined) {
      r.problem(`OTEL_RESOURCE_ATTRIBUTES="${raw}" is invalid at "${pair}": expected comma-separated key=value pairs (keys of A-Z a-z 0-9 . _ - /, values percent-encoded), e.g. "k8s.namespace.name=workloads,k8s.pod.name=consumer-1"`);
      continue;
    }
    out[key] = value;
  }
  return out;
}

/** An OTLP/HTTP URL without credentials: a password in a URL would end up in logs and process listings. */
function readEndpoint(r: EnvReader, name: string): URL | undefined {
  const raw = r.optionalString(name);
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    r.problem(`${name}="${raw}" is invalid: expected an http:// or https:// URL of an OTLP/HTTP receiver, e.g. "http://alloy.monitoring.svc.cluster.local:4318"`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    r.problem(`${name} contains credentials: expected a URL without user or password (the services send OTLP to an in-cluster collector without authentication)`);
    return undefined;
  }
  return url;
}

function readProtocol(r: EnvReader): OtlpProtocol {
  const name = r.optionalString('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = r.optionalString(name);
  if (value !== undefined && value !== 'http/protobuf') {
    r.problem(`${name}="${value}" is not supported by the services: expected http/protobuf (the default), which Alloy and the local trace backend receive on port 4318`);
  }
  return 'http/protobuf';
}

/** Reads the OTEL_* variables; `service` is the default service.name. */
export function readTracingConfig(r: EnvReader, service: string): TracingConfig {
  const disabled = r.bool('OTEL_SDK_DISABLED', false);
  const exporter = r.optionalString('OTEL_TRACES_EXPORTER');
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') {
    r.problem(`OTEL_TRACES_EXPORTER="${exporter}" is invalid: expected otlp or none (the services export spans over OTLP only)`);
  }
  const propagators = r.optionalString('OTEL_PROPAGATORS');
  // The specification's default is "tracecontext,baggage"; the services carry no baggage, so it may be listed but does nothing.
  const listed = propagators?.split(',').map((p) => p.trim());
  if (listed !== undefined && (!listed.includes('tracecontext') || listed.some((p) => p !== 'tracecontext' && p !== 'baggage'))) {
    r.problem(`OTEL_PROPAGATORS="${propagators}" is invalid: expected tracecontext (the W3C trace context the services put in every record's headers), optionally with baggage`);
  }
  const tracesEndpoint = readEndpoint(r, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = readEndpoint(r, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  // The signal-specific variable is the URL as it is; the base one gets the signal's path appended.
  const tracesUrl = tracesEndpoint?.href ?? (baseEndpoint ? `${baseEndpoint.href.replace(/\/$/, '')}/v1/traces` : '');
  const protocol = readProtocol(r);

  const serviceName = r.string('OTEL_SERVICE_NAME', service, /^[\x21-\x7e]{1,255}$/, '1-255 printable characters without spaces');
  const resourceAttributes = readResourceAttributes(r);

  const sampler = r.oneOf('OTEL_TRACES_SAMPLER', TRACE_SAMPLERS, 'parentbased_always_on');
  const ratioSampler = sampler === 'traceidratio' || sampler === 'parentbased_traceidratio';
  const argRaw = r.optionalString('OTEL_TRACES_SAMPLER_ARG');
  let samplerRatio = 1;
  if (argRaw !== undefined) {
    const n = Number(argRaw);
    if (!ratioSampler) {
      // An unknown sampler is its own problem; the argument is judged against a known one only.
      if ((TRACE_SAMPLERS as readonly string[]).includes(r.optionalString('OTEL_TRACES_SAMPLER') ?? sampler)) {
        r.problem(`OTEL_TRACES_SAMPLER_ARG="${argRaw}" is set but OTEL_TRACES_SAMPLER=${sampler} takes no argument: unset it, or use parentbased_traceidratio`);
      }
    } else if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(argRaw) || !(n >= 0 && n <= 1)) {
      r.problem(`OTEL_TRACES_SAMPLER_ARG="${argRaw}" is invalid: expected the share of traces to keep, a number from 0 to 1, e.g. 0.1`);
    } else {
      samplerRatio = n;
    }
  }

  const batch: BatchLimits = {
    scheduleDelayMs: r.int('OTEL_BSP_SCHEDULE_DELAY', 5000, 0, 600_000),
    exportTimeoutMs: r.int('OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1, 600_000),
    maxQueueSize: r.int('OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1, 10_000_000),
    maxExportBatchSize: r.int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1, 10_000_000),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    r.problem(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${batch.maxExportBatchSize} is invalid: expected at most OTEL_BSP_MAX_QUEUE_SIZE (${batch.maxQueueSize})`);
  }

  return {
    enabled: !disabled && exporter !== 'none' && tracesUrl !== '',
    tracesUrl,
    protocol,
    serviceName,
    resourceAttributes,
    sampler,
    samplerRatio,
    batch,
  };
}
