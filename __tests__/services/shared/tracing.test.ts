import { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace';
import type { ExportResult } from '@opentelemetry/core';
import { EnvReader } from '../../../services/shared/config';
import { IncomingMessage } from '../../../services/shared/kafka';
import { INVALID_MESSAGE_ERROR, Tracing, createTracing, traceLogFields } from '../../../services/shared/tracing';
import { readTracingConfig } from '../../../services/shared/tracing-config';

/**
 * The sampling rules, in one process with the SDK's in-memory exporter (the trace backend proves
 * the rest: __tests__/services/traces.test.ts): the consumer follows the producer's decision from
 * the header, and a failure's spans are kept whatever the ratio.
 */

const FROM = { topic: 'posts', partition: 3, group: 'posts-consumer' };

/** The SDK's in-memory exporter, except that a shutdown keeps what was exported (the SDK's clears it). */
class KeepingExporter extends InMemorySpanExporter {
  readonly spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans.push(...spans);
    super.export(spans, done);
  }
}

function tracingAt(ratio: string, sampler: Record<string, string> = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio }): { tracing: Tracing; exporter: KeepingExporter } {
  const r = new EnvReader({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...sampler });
  const cfg = readTracingConfig(r, 'test');
  r.done();
  const exporter = new KeepingExporter();
  return { tracing: createTracing(cfg, 'test-client', exporter)!, exporter };
}

/** A record as the consumer gets it: header values are Buffers. */
const incoming = (headers: Record<string, string | Buffer | undefined>, offset = '41'): IncomingMessage => ({
  offset,
  key: null,
  value: Buffer.from('{}'),
  timestamp: String(Date.now()),
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v) : v])),
});

async function exported(t: Tracing, exporter: KeepingExporter): Promise<ReadableSpan[]> {
  await t.shutdown();
  return exporter.spans;
}

describe('tracing', () => {
  it('with every trace kept: the consumer span is a child of the producer span named in the header', async () => {
    const { tracing, exporter } = tracingAt('1');
    const sent = tracing.startSend('posts', 3, { key: 'k', value: 'v', headers: { other: 'kept' } });
    expect(sent.message.headers).toMatchObject({ other: 'kept', traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/) });
    sent.span.end();
    const span = tracing.startProcess(FROM, incoming(sent.message.headers as Record<string, string>))!;
    expect(span).toBeDefined();
    span.end();
    const [send, proc] = await exported(tracing, exporter);
    expect(proc.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(proc.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(proc.attributes).toMatchObject({ 'messaging.kafka.offset': 41, 'messaging.destination.partition.id': '3', 'messaging.consumer.group.name': 'posts-consumer' });
  });

  it('at ratio 0: the record is sent as it was given, without a trace header, and nothing is exported', async () => {
    const { tracing, exporter } = tracingAt('0');
    const given = { key: null, value: 'v', headers: { other: 'kept' } };
    const sent = tracing.startSend('posts', 0, given);
    expect(sent.message).toBe(given);
    expect(sent.message.headers).toEqual({ other: 'kept' });
    expect(sent.span.isRecording()).toBe(false);
    sent.span.end();
    expect(await exported(tracing, exporter)).toEqual([]);
  });

  it('at a ratio between 0 and 1: exactly the records whose trace was kept carry a traceparent, and each is flagged sampled', async () => {
    const { tracing, exporter } = tracingAt('0.25');
    // Whether each span records, read before it ends (an ended span records nothing).
    const sent = Array.from({ length: 2000 }, () => tracing.startSend('posts', 0, { key: null, value: 'v' })).map((s) => ({ ...s, kept: s.span.isRecording() }));
    for (const s of sent) s.span.end();
    const withHeader = sent.filter((s) => s.message.headers?.traceparent !== undefined);
    expect(withHeader.every((s) => s.kept && /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/.test(String(s.message.headers!.traceparent)))).toBe(true);
    expect(sent.filter((s) => s.kept)).toHaveLength(withHeader.length);
    // 500 expected; six standard deviations (about 116) either side.
    expect(withHeader.length).toBeGreaterThan(384);
    expect(withHeader.length).toBeLessThan(616);
    expect(await exported(tracing, exporter)).toHaveLength(withHeader.length);
  });

  it("the consumer's deployed sampler (parentbased_always_off): a record with no header is not traced, one with a sampled header is, as the producer's child", async () => {
    const { tracing, exporter } = tracingAt('', { OTEL_TRACES_SAMPLER: 'parentbased_always_off' });
    expect(tracing.startProcess(FROM, incoming({}))).toBeUndefined();
    expect(tracing.startProcess(FROM, incoming({ other: 'x' }))).toBeUndefined();
    const span = tracing.startProcess(FROM, incoming({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }));
    expect(span).toBeDefined();
    span!.end();
    // A failure of an untraced record is still kept, in a trace of its own.
    const m = incoming({});
    const failed = tracing.processFailed(undefined, FROM, m, Date.now(), INVALID_MESSAGE_ERROR, 'not JSON');
    failed.end();
    const spans = await exported(tracing, exporter);
    expect(spans.map((s) => [s.parentSpanContext?.spanId, s.status.code])).toEqual([
      ['b7ad6b7169203331', 0],
      [undefined, 2],
    ]);
  });

  it('at ratio 0: a dead-lettered message still gets its error span and DLQ span, and the DLQ record a sampled context', async () => {
    const { tracing, exporter } = tracingAt('0');
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    const m = incoming({ traceparent: parent });
    const span = tracing.startProcess(FROM, m);
    expect(span).toBeUndefined();
    const startedAt = Date.now() - 5;
    const failed = tracing.processFailed(span, FROM, m, startedAt, INVALID_MESSAGE_ERROR, 'not JSON');
    const headers: Record<string, string | Buffer> = { traceparent: Buffer.from(parent) };
    const dlq = tracing.startDeadLetter(failed, 'posts.dlq', headers, INVALID_MESSAGE_ERROR, 'not JSON');
    dlq.end();
    failed.end();
    expect(headers.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${dlq.spanContext().spanId}-01`);
    expect(traceLogFields(dlq)).toEqual({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: dlq.spanContext().spanId, trace_flags: '01' });
    const spans = await exported(tracing, exporter);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(['process posts', 'send posts.dlq']);
    expect(byName['process posts'].parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(byName['process posts'].status).toEqual({ code: 2, message: 'not JSON' });
    expect(byName['process posts'].startTime[0] * 1000 + byName['process posts'].startTime[1] / 1e6).toBeCloseTo(startedAt, -1);
    expect(byName['send posts.dlq'].parentSpanContext?.spanId).toBe(failed.spanContext().spanId);
    expect(byName['send posts.dlq'].events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'not JSON']]);
  });

  it('at ratio 0: a failed send is recorded as a kept error span in the trace it was given', async () => {
    const { tracing, exporter } = tracingAt('0');
    const sent = tracing.startSend('posts', 1, { key: null, value: 'v' });
    tracing.endSendFailed(sent.span, 'posts', 1, new Error('not acknowledged within SEND_TIMEOUT_MS'));
    const [failed] = await exported(tracing, exporter);
    expect(failed.spanContext().traceId).toBe(sent.span.spanContext().traceId);
    expect(failed.status).toEqual({ code: 2, message: 'not acknowledged within SEND_TIMEOUT_MS' });
  });

  it("at ratio 0: the consumer follows the sampled bit of the header's flags, from a Buffer or a string", async () => {
    const { tracing, exporter } = tracingAt('0');
    const header = (flags: string) => `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-${flags}`;
    // Bit 0 of the flags byte is "sampled"; the other bits do not matter here.
    const sampled = ['01', '03', '0b', 'ff'];
    const notSampled = ['00', '02', '0a', 'fe'];
    for (const flags of [...sampled, ...notSampled]) {
      const asBuffer = tracing.startProcess(FROM, incoming({ traceparent: header(flags) }));
      const asString = tracing.startProcess(FROM, { ...incoming({}), headers: { traceparent: header(flags) } });
      expect([flags, asBuffer !== undefined, asString !== undefined]).toEqual([flags, sampled.includes(flags), sampled.includes(flags)]);
      asBuffer?.end();
      asString?.end();
    }
    // Not a version-00 traceparent the quick check can read (upper-case hex): no parent, so the ratio (0) decides.
    expect(tracing.startProcess(FROM, incoming({ traceparent: header('01').toUpperCase() }))).toBeUndefined();
    const spans = await exported(tracing, exporter);
    expect(spans).toHaveLength(sampled.length * 2);
    expect(spans[0].attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.name': 'process', 'messaging.kafka.offset': 41 });
  });
});
