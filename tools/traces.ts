/**
 * Reads traces back from the trace backend's own query API (Jaeger's /api/v3, whose answers
 * are OTLP JSON): what the tests assert on and what `npm start` prints.
 */
import { httpGet } from './http';

/** OTLP span kinds by their number in the protocol. */
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
export type SpanKindName = (typeof KINDS)[number];

export interface TraceSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: SpanKindName;
  /** `service.name` of the resource that reported the span. */
  readonly service: string;
  readonly startMs: number;
  readonly durationMs: number;
  /** OK, ERROR or UNSET, and the status message. */
  readonly status: { readonly code: 'UNSET' | 'OK' | 'ERROR'; readonly message: string };
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly resource: Readonly<Record<string, string | number | boolean>>;
  readonly events: readonly { readonly name: string; readonly attributes: Readonly<Record<string, string | number | boolean>> }[];
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number | string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpAttribute[];
  events?: { name: string; attributes?: OtlpAttribute[] }[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number | string; message?: string };
}
interface OtlpTraces {
  resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function attributes(list: readonly OtlpAttribute[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? ''));
  }
  return out;
}

/** OTLP JSON carries ids in hex; protobuf's JSON mapping in base64. Either way, lower-case hex out. */
function hexId(id: string | undefined, bytes: number): string {
  if (!id) return '';
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

function kindName(kind: number | string | undefined): SpanKindName {
  if (typeof kind === 'number') return KINDS[kind] ?? 'UNSPECIFIED';
  const name = String(kind ?? '').replace(/^SPAN_KIND_/, '') as SpanKindName;
  return KINDS.includes(name) ? name : 'UNSPECIFIED';
}

function statusCode(code: number | string | undefined): 'UNSET' | 'OK' | 'ERROR' {
  if (code === 1 || code === 'STATUS_CODE_OK') return 'OK';
  if (code === 2 || code === 'STATUS_CODE_ERROR') return 'ERROR';
  return 'UNSET';
}

/** Flattens an OTLP JSON answer into spans, ordered by start time. */
export function spansOf(traces: OtlpTraces): TraceSpan[] {
  const spans: TraceSpan[] = [];
  for (const rs of traces.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const start = BigInt(s.startTimeUnixNano);
        spans.push({
          traceId: hexId(s.traceId, 16),
          spanId: hexId(s.spanId, 8),
          parentSpanId: hexId(s.parentSpanId, 8),
          name: s.name,
          kind: kindName(s.kind),
          service: String(resource['service.name'] ?? ''),
          startMs: Number(start / 1000n) / 1000,
          durationMs: Number(BigInt(s.endTimeUnixNano) - start) / 1e6,
          status: { code: statusCode(s.status?.code), message: s.status?.message ?? '' },
          attributes: attributes(s.attributes),
          resource,
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributes(e.attributes) })),
          links: (s.links ?? []).map((l) => ({ traceId: hexId(l.traceId, 16), spanId: hexId(l.spanId, 8) })),
        });
      }
    }
  }
  return spans.sort((a, b) => a.startMs - b.startMs);
}

async function query(url: string): Promise<TraceSpan[] | undefined> {
  const res = await httpGet(url);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return spansOf((JSON.parse(res.body) as { result?: OtlpTraces }).result ?? {});
}

/** Every span of one trace; undefined when the backend has none (yet). */
export async function fetchTrace(queryUrl: string, traceId: string): Promise<TraceSpan[] | undefined> {
  if (!/^[0-9a-f]{32}$/.test(traceId)) throw new Error(`trace id "${traceId}" is invalid: expected 32 lower-case hex digits`);
  return query(`${queryUrl}/api/v3/traces/${traceId}`);
}

export interface TraceSearch {
  readonly service: string;
  readonly operation?: string;
  /** Traces that started in this window. */
  readonly since: Date;
  readonly until?: Date;
  readonly limit?: number;
}

/** The spans of the traces that match, grouped by trace id. */
export async function findTraces(queryUrl: string, search: TraceSearch): Promise<Map<string, TraceSpan[]>> {
  const params = new URLSearchParams({
    'query.service_name': search.service,
    'query.start_time_min': search.since.toISOString(),
    'query.start_time_max': (search.until ?? new Date(Date.now() + 60_000)).toISOString(),
    'query.num_traces': String(search.limit ?? 100),
  });
  if (search.operation) params.set('query.operation_name', search.operation);
  const byTrace = new Map<string, TraceSpan[]>();
  for (const span of (await query(`${queryUrl}/api/v3/traces?${params.toString()}`)) ?? []) {
    byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  }
  return byTrace;
}

/** Polls until the trace holds `minSpans` spans (spans reach the backend in batches). */
export async function waitForTrace(queryUrl: string, traceId: string, minSpans: number, timeoutMs = 15_000): Promise<TraceSpan[]> {
  const deadline = Date.now() + timeoutMs;
  let last: TraceSpan[] | undefined;
  for (;;) {
    last = await fetchTrace(queryUrl, traceId);
    if (last && last.length >= minSpans) return last;
    if (Date.now() > deadline) {
      throw new Error(`trace ${traceId} has ${last?.length ?? 0} span(s) in ${queryUrl} after ${timeoutMs} ms, expected ${minSpans}: ${last ? formatTrace(last) : 'not found'}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One line per span, children indented under their parent, with start offsets and durations. */
export function formatTrace(spans: readonly TraceSpan[] | undefined): string {
  if (!spans || spans.length === 0) return '(no spans)';
  const t0 = Math.min(...spans.map((s) => s.startMs));
  const ids = new Set(spans.map((s) => s.spanId));
  const lines: string[] = [`trace ${spans[0].traceId}`];
  const walk = (parent: string, depth: number) => {
    for (const s of spans.filter((x) => (parent === '' ? !ids.has(x.parentSpanId) : x.parentSpanId === parent))) {
      const status = s.status.code === 'ERROR' ? ` ERROR ${s.status.message}` : '';
      const link = s.links.length > 0 ? ` (linked to ${s.links.map((l) => l.spanId).join(', ')})` : '';
      lines.push(
        `${'  '.repeat(depth + 1)}${s.service} ${s.name} [${s.kind.toLowerCase()}] span ${s.spanId} +${(s.startMs - t0).toFixed(1)} ms, ${s.durationMs.toFixed(1)} ms${status}${link}`,
      );
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}
