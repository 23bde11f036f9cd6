/**
 * Traces of the services with the OpenTelemetry SDK: a producer span per message sent, its W3C
 * trace context in the record's headers, a consumer span per message processed (a child of the
 * producer's), and for a dead-lettered message an error span and a DLQ send span whose context
 * the DLQ record carries on. Spans carry Kafka coordinates only (topic, partition, offset, group),
 * never a key, a payload or other content.
 *
 * Cost: with tracing off the services never call into this module. A produced message whose
 * trace is sampled out costs a trace id and the sampler's decision: no span, no header. A consumed
 * record without a header costs one property lookup (the consumer starts no trace of its own:
 * config/tracing.ts); one whose sender sampled it out, one look at two bytes of its traceparent. Error and DLQ spans are always kept: they are
 * started with `error.type` set, which the sampler keeps whatever the ratio, and are exported
 * through a queue of their own, so a flood of ordinary spans cannot push them out.
 */
import {
  Attributes,
  Context,
  Link,
  ROOT_CONTEXT,
  Span,
  SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  Tracer,
  trace,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  IdGenerator,
  ParentBasedSampler,
  RandomIdGenerator,
  ReadableSpan,
  Sampler,
  SamplingDecision,
  SamplingResult,
  Span as SdkSpan,
  SpanExporter,
  SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { IncomingMessage, OutgoingMessage } from './kafka';
import type { TracingConfig } from './tracing-config';

/** Semantic-convention attribute names (messaging spans, v1.3x); spelled out, they are stable strings. */
const ATTR = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  offset: 'messaging.kafka.offset',
  group: 'messaging.consumer.group.name',
  clientId: 'messaging.client.id',
  errorType: 'error.type',
} as const;

/** The `error.type` of a message that is not in the expected format. */
export const INVALID_MESSAGE_ERROR = 'invalid_message';

/** The W3C header names, as they travel in Kafka record headers. */
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

type Headers = Readonly<Record<string, Buffer | string | undefined>>;

const text = (v: Buffer | string) => (typeof v === 'string' ? v : v.toString('latin1'));

/** The W3C traceparent of a span context (version 00), written here: the propagator's general path cost microseconds per message. */
function traceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Writes `ctx` into a record's headers as the W3C headers. */
function injectInto(headers: Record<string, string | Buffer>, ctx: SpanContext): void {
  headers[TRACEPARENT_HEADER] = traceparent(ctx);
  const state = ctx.traceState?.serialize();
  if (state) headers[TRACESTATE_HEADER] = state;
  else delete headers[TRACESTATE_HEADER];
}

/**
 * The configured sampler, except that a span started with `error.type` is always kept, and so is
 * a span whose parent is a sampled span of this process (a DLQ send under a kept error span, also
 * with a plain ratio sampler).
 */
export class KeepErrorsSampler implements Sampler {
  constructor(private readonly inner: Sampler) {}

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (attributes[ATTR.errorType] !== undefined) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    const parent = trace.getSpanContext(ctx);
    if (parent && !parent.isRemote && (parent.traceFlags & TraceFlags.SAMPLED) !== 0) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `KeepErrorsSampler{${this.inner.toString()}}`;
  }
}

/** The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name. */
export function configuredSampler(cfg: Pick<TracingConfig, 'sampler' | 'samplerRatio'>): Sampler {
  const root = (name: string): Sampler =>
    name.endsWith('always_on') ? new AlwaysOnSampler() : name.endsWith('always_off') ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(cfg.samplerRatio);
  return new KeepErrorsSampler(cfg.sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root: root(cfg.sampler) }) : root(cfg.sampler));
}

/**
 * Sends the spans of error and DLQ traces through their own batch queue: the ordinary queue drops
 * spans when it is full (by design, under load), which must never cost the spans of a failure.
 */
class PriorityRouting implements SpanProcessor {
  constructor(
    private readonly isPriority: (span: ReadableSpan) => boolean,
    private readonly normal: SpanProcessor,
    private readonly priority: SpanProcessor,
  ) {}

  onStart(span: SdkSpan, parent: Context): void {
    this.normal.onStart(span, parent);
  }

  onEnd(span: ReadableSpan): void {
    (this.isPriority(span) ? this.priority : this.normal).onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await Promise.all([this.normal.forceFlush(), this.priority.forceFlush()]);
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.normal.shutdown(), this.priority.shutdown()]);
  }
}

/** `trace_id`, `span_id` and `trace_flags` for a log line, so Grafana links it to its trace. */
export function traceLogFields(span: Span | SpanContext | undefined): { trace_id?: string; span_id?: string; trace_flags?: string } {
  const ctx = span === undefined ? undefined : 'spanContext' in span ? span.spanContext() : span;
  if (!ctx || !trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: ctx.traceFlags.toString(16).padStart(2, '0') };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE_ID = /^0{32}$/;
const INVALID_SPAN_ID = /^0{16}$/;

/** The sender's span context from a record's W3C headers; undefined when there is none or it is malformed (the specification's rules). */
export function traceparentOf(message: Pick<IncomingMessage, 'headers'>): SpanContext | undefined {
  const header = message.headers[TRACEPARENT_HEADER];
  const m = header === undefined ? null : TRACEPARENT.exec(text(header));
  if (!m || INVALID_TRACE_ID.test(m[1]) || INVALID_SPAN_ID.test(m[2])) return undefined;
  const state = message.headers[TRACESTATE_HEADER];
  return { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true, ...(state === undefined ? {} : { traceState: new TraceState(text(state)) }) };
}

/**
 * Is this traceparent header (version 00) one whose trace its sender did not sample? Read from
 * the bytes, without making a string or a closure: it is asked for every consumed message.
 * Undefined when it cannot tell (no header, another version), and the SDK decides.
 */
function notSampledTraceparent(header: Buffer | string | undefined): boolean | undefined {
  if (header === undefined || header.length !== 55) return undefined;
  let v0: number, v1: number, dash: number, c: number;
  if (typeof header === 'string') {
    v0 = header.charCodeAt(0);
    v1 = header.charCodeAt(1);
    dash = header.charCodeAt(52);
    c = header.charCodeAt(54);
  } else {
    v0 = header[0];
    v1 = header[1];
    dash = header[52];
    c = header[54];
  }
  if (v0 !== 0x30 || v1 !== 0x30 || dash !== 0x2d) return undefined;
  // The low bit of the last hex digit is the sampled flag: '0'-'9' are 0x30-0x39, 'a'-'f' 0x61-0x66.
  if (c >= 0x30 && c <= 0x39) return (c & 1) === 0;
  if (c >= 0x61 && c <= 0x66) return (c & 1) === 1;
  return undefined;
}

/**
 * The SDK's random ids, except that the producer may set the next trace id: it decides whether
 * to sample a message from a trace id before it makes a span, and makes none when not.
 */
class PresetTraceIds implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  next?: string;

  generateTraceId(): string {
    const id = this.next ?? this.random.generateTraceId();
    this.next = undefined;
    return id;
  }

  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}

const NO_ATTRIBUTES: Attributes = Object.freeze({});
const PROCESS_OPTIONS = Object.freeze({ kind: SpanKind.CONSUMER });

/** Where a consumed message came from, for its span. */
export interface ConsumedFrom {
  readonly topic: string;
  readonly partition: number;
  readonly group: string;
}

export interface Tracing {
  /** The tracer, for spans of a service's own. */
  readonly tracer: Tracer;
  /**
   * Starts the producer span of one message to `topic`/`partition` and returns the message with
   * its trace context added to the headers; a message whose trace is sampled out is returned as it
   * is, with no header, and a span that records nothing. End the span when the send is acknowledged.
   */
  startSend(topic: string, partition: number, message: OutgoingMessage): { readonly message: OutgoingMessage; readonly span: Span };
  /** Ends a producer span whose send failed; a span that was sampled out is replaced by a kept error span. */
  endSendFailed(span: Span, topic: string, partition: number, error: Error): void;
  /**
   * The consumer span of one message, a child of the producer span its headers name; undefined
   * when that producer did not sample the trace (nothing else is done then).
   */
  startProcess(from: ConsumedFrom, message: IncomingMessage): Span | undefined;
  /**
   * A message that cannot be processed: `span` (or, when it was sampled out, a new kept span with
   * the same parent, started at `startTimeMs`) gets the error; returns it, to be the parent of the DLQ send.
   */
  processFailed(span: Span | undefined, from: ConsumedFrom, message: IncomingMessage, startTimeMs: number, errorType: string, error: string): Span;
  /**
   * The span of forwarding a failed message to the DLQ, a child of `processSpan`, recording the
   * error; `headers` gets its trace context, so the DLQ record continues the trace.
   */
  startDeadLetter(processSpan: Span, dlqTopic: string, headers: Record<string, string | Buffer>, errorType: string, error: string): Span;
  /** Exports what is queued and stops: call before the process exits. */
  shutdown(): Promise<void>;
}

/** The tracing of one service, or undefined when OTEL_* turn it off; `exporter` replaces OTLP (unit tests). */
export function createTracing(cfg: TracingConfig, clientId: string, exporter?: SpanExporter): Tracing | undefined {
  if (!cfg.enabled) return undefined;
  const spanExporter = exporter ?? new OTLPTraceExporter({ url: cfg.tracesUrl, timeoutMillis: cfg.batch.exportTimeoutMs });
  const batch = (limits: Partial<TracingConfig['batch']> = {}) =>
    new BatchSpanProcessor({
      exporter: spanExporter,
      scheduledDelayMillis: limits.scheduleDelayMs ?? cfg.batch.scheduleDelayMs,
      exportTimeoutMillis: cfg.batch.exportTimeoutMs,
      maxQueueSize: limits.maxQueueSize ?? cfg.batch.maxQueueSize,
      maxExportBatchSize: limits.maxExportBatchSize ?? cfg.batch.maxExportBatchSize,
    });
  const kept = new WeakSet<object>();
  const sampler = configuredSampler(cfg);
  const ids = new PresetTraceIds();
  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...cfg.resourceAttributes, 'service.name': cfg.serviceName })),
    sampler,
    idGenerator: ids,
    // Failures are rare: exported within a second, from a queue no ordinary span competes for.
    spanProcessors: [new PriorityRouting((s) => kept.has(s) || s.status.code === SpanStatusCode.ERROR, batch(), batch({ scheduleDelayMs: 1000 }))],
  });
  const tracer = provider.getTracer('kafka-platform-services');
  // Only the parent-based samplers drop a span because its remote parent was not sampled.
  const skipUnsampledParents = cfg.sampler.startsWith('parentbased_');
  // A sampler that keeps no new trace: only a record's header can start a span.
  const rootNeverSampled = cfg.sampler === 'parentbased_always_off' || cfg.sampler === 'always_off';

  const parentOf = (headers: Headers): Context => {
    const ctx = traceparentOf({ headers });
    return ctx ? trace.setSpanContext(ROOT_CONTEXT, ctx) : ROOT_CONTEXT;
  };
  const processAttributes = (from: ConsumedFrom, message: IncomingMessage): Attributes => ({
    [ATTR.system]: 'kafka',
    [ATTR.operationName]: 'process',
    [ATTR.operationType]: 'process',
    [ATTR.destination]: from.topic,
    [ATTR.partition]: String(from.partition),
    [ATTR.offset]: Number(message.offset),
    [ATTR.group]: from.group,
    [ATTR.clientId]: clientId,
  });
  /** `partition` undefined: the producer picks it (the DLQ send). */
  const sendAttributes = (topic: string, partition?: number): Attributes => ({
    [ATTR.system]: 'kafka',
    [ATTR.operationName]: 'send',
    [ATTR.operationType]: 'send',
    [ATTR.destination]: topic,
    ...(partition === undefined ? {} : { [ATTR.partition]: String(partition) }),
    [ATTR.clientId]: clientId,
  });

  return {
    tracer,
    startSend: (topic, partition, message) => {
      // A new trace per message: decided here on its trace id, so a message sampled out costs no span.
      const traceId = ids.generateTraceId();
      if (sampler.shouldSample(ROOT_CONTEXT, traceId, `send ${topic}`, SpanKind.PRODUCER, NO_ATTRIBUTES, []).decision === SamplingDecision.NOT_RECORD) {
        // No header either: 48 random hex digits gzip cannot shrink, which every broker would
        // store and every consumer decode for a trace nobody keeps (docs/observability.md).
        // The context stays on the span, for a kept error span should the send fail.
        return { message, span: trace.wrapSpanContext({ traceId, spanId: ids.generateSpanId(), traceFlags: TraceFlags.NONE }) };
      }
      ids.next = traceId;
      const span = tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes: sendAttributes(topic, partition) }, ROOT_CONTEXT);
      const headers: Record<string, string | Buffer> = message.headers ? { ...message.headers } : {};
      injectInto(headers, span.spanContext());
      return { message: { key: message.key, value: message.value, headers }, span };
    },
    endSendFailed: (span, topic, partition, error) => {
      let failed = span;
      if (!span.isRecording()) {
        failed = tracer.startSpan(
          `send ${topic}`,
          { kind: SpanKind.PRODUCER, attributes: { ...sendAttributes(topic, partition), [ATTR.errorType]: error.name } },
          trace.setSpanContext(ROOT_CONTEXT, span.spanContext()),
        );
      }
      failed.setAttribute(ATTR.errorType, error.name);
      failed.recordException(error);
      failed.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      failed.end();
    },
    startProcess: (from, message) => {
      const header = message.headers[TRACEPARENT_HEADER];
      // The consumer as deployed: a record its producer did not trace costs one property lookup.
      if (header === undefined && rootNeverSampled) return undefined;
      if (skipUnsampledParents && notSampledTraceparent(header) === true) return undefined;
      // No attributes for the sampler (it needs none but error.type): the SDK checks and copies
      // them twice when given at the start, once when set on a span it kept.
      const span = tracer.startSpan(`process ${from.topic}`, PROCESS_OPTIONS, header === undefined ? ROOT_CONTEXT : parentOf(message.headers));
      if (!span.isRecording()) return undefined;
      span.setAttributes(processAttributes(from, message));
      return span;
    },
    processFailed: (span, from, message, startTimeMs, errorType, error) => {
      const failed =
        span ??
        tracer.startSpan(
          `process ${from.topic}`,
          { kind: SpanKind.CONSUMER, attributes: { ...processAttributes(from, message), [ATTR.errorType]: errorType }, startTime: startTimeMs },
          parentOf(message.headers),
        );
      kept.add(failed);
      failed.setAttribute(ATTR.errorType, errorType);
      failed.recordException({ name: errorType, message: error });
      failed.setStatus({ code: SpanStatusCode.ERROR, message: error });
      return failed;
    },
    startDeadLetter: (processSpan, dlqTopic, headers, errorType, error) => {
      const span = tracer.startSpan(
        `send ${dlqTopic}`,
        { kind: SpanKind.PRODUCER, attributes: { ...sendAttributes(dlqTopic), [ATTR.errorType]: errorType } },
        trace.setSpan(ROOT_CONTEXT, processSpan),
      );
      span.recordException({ name: errorType, message: error });
      kept.add(span);
      // The record's own context replaces the one it was consumed with: the same trace, one span on.
      injectInto(headers, span.spanContext());
      return span;
    },
    shutdown: () => provider.shutdown(),
  };
}
