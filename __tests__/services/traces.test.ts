import { Admin, IHeaders } from 'kafkajs';
import { TracedService, serviceSamplerEnv } from '../../config';
import { jaegerDown, jaegerUp, LocalJaeger } from '../../tools/local-jaeger';
import { TraceSpan, findTraces, formatTrace, waitForTrace } from '../../tools/traces';
import { uniqueName } from '../support/kafka';
import { TRACE_TEST_JAEGER } from '../support/traces';
import { LogRecord, ServiceProcess, createTopics, deleteTopics, kafka, processed } from './harness';

/**
 * Traces of the real services, as the trace backend (the local Jaeger, built from source) stores
 * them and returns them through its own query API: each message is one trace, the consumer's span
 * a child of the producer's; a malformed message's trace has the failed processing and the DLQ
 * send, kept although its sender did not sample it, and the DLQ record carries that trace on.
 */

const MESSAGES = 12;
const admin: Admin = kafka().admin();
// Its own instance and ports: `npm start`'s (29318/29686) is not touched.
const topic = uniqueName('svc-traces');
const dlq = `${topic}.dlq`;
const group = `${topic}-group`;
const running: ServiceProcess[] = [];
let jaeger: LocalJaeger;

/** The OTel variables of a service exporting to the test's Jaeger; spans leave every 200 ms. */
const tracingEnv = (service: TracedService, ratio: number) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
  ...serviceSamplerEnv(service, ratio),
  OTEL_BSP_SCHEDULE_DELAY: '200',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
});

function start(service: 'producer' | 'consumer', env: Record<string, string>): ServiceProcess {
  const p = new ServiceProcess(service, env);
  running.push(p);
  return p;
}

async function produce(count: number, idPrefix: string, ratio: number): Promise<void> {
  const p = start('producer', { KAFKA_TOPIC: topic, MESSAGE_COUNT: String(count), MESSAGE_ID_PREFIX: idPrefix, PAYLOAD_SIZE: '64', ...tracingEnv('producer', ratio) });
  const code = await p.exited;
  expect({ code, tail: code === 0 ? '' : p.tail() }).toEqual({ code: 0, tail: '' });
}

const headerText = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();

/** Every record of `topicName` with its headers, read by a group of its own. */
async function readAll(topicName: string, count: number): Promise<{ partition: number; offset: string; value: string; headers: IHeaders }[]> {
  const out: { partition: number; offset: string; value: string; headers: IHeaders }[] = [];
  const reader = kafka().consumer({ groupId: uniqueName(`${topicName}-reader`) });
  await reader.connect();
  await reader.subscribe({ topic: topicName, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void reader.run({
      eachMessage: async ({ partition, message }) => {
        out.push({ partition, offset: message.offset, value: message.value?.toString() ?? '', headers: message.headers ?? {} });
        if (out.length >= count) resolve();
      },
    });
  });
  await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`${topicName} has ${out.length} of ${count} records`)), 30_000))]);
  await reader.disconnect();
  return out;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

beforeAll(async () => {
  jaeger = await jaegerUp({ ...TRACE_TEST_JAEGER, log: () => undefined });
  await admin.connect();
  await createTopics(admin, [topic, dlq]);
}, 30 * 60_000);

afterAll(async () => {
  for (const p of running.splice(0)) {
    p.kill('SIGKILL');
    await p.exited;
  }
  await deleteTopics(admin, [topic, dlq]);
  await admin.disconnect();
  await jaegerDown({ dir: TRACE_TEST_JAEGER.dir, log: () => undefined });
});

describe('traces from the producer through Kafka to the consumer and the DLQ', () => {
  let consumer: ServiceProcess;
  const sampledPrefix = `${topic}-sampled`;
  const unsampledPrefix = `${topic}-unsampled`;
  /** The malformed message's sender: a trace it did not sample (flags 00), with this span as parent. */
  const upstream = { traceId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', spanId: '1122334455667788' };
  let records: Awaited<ReturnType<typeof readAll>>;

  beforeAll(async () => {
    // The consumer as deployed: it continues the producer's kept traces and starts none (its ratio is not used).
    consumer = start('consumer', { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq, KAFKA_GROUP_ID: group, ...tracingEnv('consumer', 1) });
    await consumer.waitFor('group joined', () => consumer.events('group_join').length > 0);
    await produce(MESSAGES, sampledPrefix, 1);
    await produce(MESSAGES, unsampledPrefix, 0);
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'bad', value: '{"id": 42', headers: { traceparent: `00-${upstream.traceId}-${upstream.spanId}-00` } }] });
    await producer.disconnect();
    await consumer.waitFor('every message and the dead letter', () => processed(consumer).length >= 2 * MESSAGES && consumer.events('dlq').length === 1);
    // A graceful stop exports what is still queued.
    consumer.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
    records = await readAll(topic, 2 * MESSAGES + 1);
  }, 180_000);

  it('gives each sampled message its own trace: a producer span, and the consumer span as its child', async () => {
    const sampled = records.filter((r) => r.value.includes(`"${sampledPrefix}-`));
    expect(sampled).toHaveLength(MESSAGES);
    const byId = new Map<string, LogRecord>(processed(consumer).map((l) => [l.id as string, l]));
    const traceIds = new Set<string>();
    let shown = false;
    for (const record of sampled) {
      const header = TRACEPARENT.exec(headerText(record.headers, 'traceparent') ?? '');
      expect(header?.[3]).toBe('01');
      const [, traceId, producerSpanId] = header!;
      traceIds.add(traceId);
      const spans = await waitForTrace(jaeger.queryUrl, traceId, 2);
      // One of them in the run's output, as the backend returned it.
      if (!shown) console.log(`a message's trace (${JSON.parse(record.value).id}):\n${formatTrace(spans)}`);
      shown = true;
      const send = spans.filter((s) => s.kind === 'PRODUCER');
      const proc = spans.filter((s) => s.kind === 'CONSUMER');
      expect({ spans: spans.length, send: send.length, process: proc.length }).toEqual({ spans: 2, send: 1, process: 1 });
      expect(send[0]).toMatchObject({ name: `send ${topic}`, service: 'producer', spanId: producerSpanId, parentSpanId: '', status: { code: 'UNSET' } });
      expect(send[0].attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.destination.partition.id': String(record.partition) });
      expect(proc[0]).toMatchObject({ name: `process ${topic}`, service: 'consumer', parentSpanId: producerSpanId, status: { code: 'UNSET' } });
      expect(proc[0].attributes).toMatchObject({ 'messaging.consumer.group.name': group, 'messaging.destination.partition.id': String(record.partition), 'messaging.kafka.offset': Number(record.offset) });
      expect(proc[0].resource).toMatchObject({ 'service.name': 'consumer', 'deployment.environment.name': 'test' });
      // Processing starts after the send began (same machine, same clock).
      expect(proc[0].startMs).toBeGreaterThanOrEqual(send[0].startMs);
      // The consumer's log line of the message names the same trace and its own span.
      const id = JSON.parse(record.value).id as string;
      expect(byId.get(id)).toMatchObject({ trace_id: traceId, span_id: proc[0].spanId, trace_flags: '01' });
      // Spans carry Kafka coordinates only: no key, id or payload anywhere in them.
      const text = JSON.stringify(spans);
      expect(text).not.toContain(id);
      expect(text).not.toContain(JSON.parse(record.value).payload as string);
    }
    expect(traceIds.size).toBe(MESSAGES);
  }, 120_000);

  it('keeps no trace of messages whose producer sampled them out: they carry no trace header, and the consumer traces none of them', async () => {
    const unsampled = records.filter((r) => r.value.includes(`"${unsampledPrefix}-`));
    expect(unsampled).toHaveLength(MESSAGES);
    for (const record of unsampled) {
      expect([headerText(record.headers, 'traceparent'), headerText(record.headers, 'tracestate')]).toEqual([undefined, undefined]);
      // Neither is the consumer's log line of it tied to a trace.
      const line = processed(consumer).find((l) => l.id === JSON.parse(record.value).id);
      expect(line).toBeDefined();
      expect(line!.trace_id).toBeUndefined();
    }
    const consumerTraces = await findTraces(jaeger.queryUrl, { service: 'consumer', since: new Date(Date.now() - 10 * 60_000), limit: 1000 });
    // Sampled messages and the dead letter only.
    expect(consumerTraces.size).toBe(MESSAGES + 1);
  }, 60_000);

  it('keeps the trace of a dead-lettered message whatever the sampling: the failed processing, and the DLQ send with the error', async () => {
    const [dead] = await readAll(dlq, 1);
    const header = TRACEPARENT.exec(headerText(dead.headers, 'traceparent') ?? '');
    // The DLQ record continues the sender's trace, sampled from here on.
    expect(header?.slice(1)).toEqual([upstream.traceId, expect.any(String), '01']);
    const spans = await waitForTrace(jaeger.queryUrl, upstream.traceId, 2);
    console.log(`the dead letter's trace:\n${formatTrace(spans)}`);
    const byName = (name: string): TraceSpan => {
      const found = spans.filter((s) => s.name === name);
      expect({ name, found: found.length, trace: formatTrace(spans) }).toEqual({ name, found: 1, trace: formatTrace(spans) });
      return found[0];
    };
    const failed = byName(`process ${topic}`);
    const error = headerText(dead.headers, 'dlq.error.message')!;
    expect(error).toMatch(/JSON/);
    expect(failed).toMatchObject({ kind: 'CONSUMER', service: 'consumer', parentSpanId: upstream.spanId, status: { code: 'ERROR', message: error } });
    expect(failed.attributes).toMatchObject({ 'error.type': 'invalid_message', 'messaging.kafka.offset': Number(dead.headers['dlq.original.offset']!.toString()) });
    const send = byName(`send ${dlq}`);
    expect(send).toMatchObject({ kind: 'PRODUCER', service: 'consumer', parentSpanId: failed.spanId, spanId: header![2] });
    expect(send.attributes).toMatchObject({ 'messaging.destination.name': dlq, 'error.type': 'invalid_message' });
    expect(send.events).toEqual([expect.objectContaining({ name: 'exception', attributes: expect.objectContaining({ 'exception.type': 'invalid_message', 'exception.message': error }) })]);
    // The log line of the dead letter points at the same span.
    expect(consumer.events('dlq')[0]).toMatchObject({ trace_id: upstream.traceId, span_id: send.spanId });
  }, 60_000);
});
