import { Admin } from 'kafkajs';
import { MAX_ID_LENGTH, MAX_PAYLOAD_BYTES, MESSAGE_FORMAT, payloadFor } from '../../../services/shared/message';
import { KafkaTools, runKafkaTool } from '../../../tools/kafka-tool';
import { bootstrapServers, uniqueName } from '../../support/kafka';
import { ServiceProcess, createTopics, deleteTopics, kafka, processed } from '../harness';

/**
 * Bad messages against the real consumer process on the local cluster: each goes to the DLQ
 * with the error that names it in `dlq.error.message`, and the consumer carries on with the
 * next message. What arrived where is read back with Kafka's own ConsoleConsumer and
 * ConsumerGroupCommand, not with the service's counters.
 */

const NOW = '2025-01-31T12:00:00.000Z';
const TS = 'createdAt must be an ISO-8601 UTC timestamp such as 2025-01-31T12:00:00.000Z';
const json = (o: unknown) => JSON.stringify(o);
const post = (fields: Record<string, unknown>) => json({ id: 'bad', createdAt: NOW, payload: 'p', ...fields });
const without = (field: 'id' | 'createdAt' | 'payload') => {
  const o: Record<string, unknown> = { id: 'bad', createdAt: NOW, payload: 'p' };
  delete o[field];
  return json(o);
};

/** [what is wrong, the raw value, the error the DLQ header must carry] */
const badMessages: [string, string | Buffer | null, string][] = [
  ['a tombstone (null value)', null, `empty value: ${MESSAGE_FORMAT}`],
  ['plain text', 'hello world', `not JSON (unexpected character U+0068): ${MESSAGE_FORMAT}`],
  ['broken JSON', '{not json', `not JSON (Expected property name or '}' in JSON at position 1 (line 1 column 2)): ${MESSAGE_FORMAT}`],
  ['truncated JSON', '{"id":"x","createdAt":', `not JSON (Unexpected end of JSON input): ${MESSAGE_FORMAT}`],
  ['binary garbage', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0xfe, 0x80, 0x01, 0x7f]), `not UTF-8 (10 bytes with an invalid byte sequence): ${MESSAGE_FORMAT}`],
  ['JSON with an invalid UTF-8 byte in the payload', Buffer.concat([Buffer.from(`{"id":"bad","createdAt":"${NOW}","payload":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), `not UTF-8 (66 bytes with an invalid byte sequence): ${MESSAGE_FORMAT}`],
  ['JSON behind a byte order mark', `\ufeff${post({})}`, `starts with a byte order mark (U+FEFF): ${MESSAGE_FORMAT}, without a BOM`],
  ['a JSON array', json([{ id: 'bad', createdAt: NOW, payload: 'p' }]), `got an array instead of a JSON object: ${MESSAGE_FORMAT}`],
  ['a JSON number', '42', `got a number instead of a JSON object: ${MESSAGE_FORMAT}`],
  ['JSON null', 'null', `got null instead of a JSON object: ${MESSAGE_FORMAT}`],
  ['a missing id', without('id'), `schema: id must be a string of 1-${MAX_ID_LENGTH} characters, but it is missing`],
  ['a missing createdAt', without('createdAt'), `schema: ${TS}, but it is missing`],
  ['a missing payload', without('payload'), 'schema: payload must be a string, but it is missing'],
  ['an id of the wrong type', post({ id: 42 }), `schema: id must be a string of 1-${MAX_ID_LENGTH} characters, got a number`],
  ['an empty id', post({ id: '' }), `schema: id must be a string of 1-${MAX_ID_LENGTH} characters, got 0 characters`],
  ['an id too long', post({ id: 'i'.repeat(MAX_ID_LENGTH + 1) }), `schema: id must be a string of 1-${MAX_ID_LENGTH} characters, got ${MAX_ID_LENGTH + 1} characters`],
  ['a payload of the wrong type', post({ payload: { text: 'p' } }), 'schema: payload must be a string, got an object'],
  ['a timestamp with an offset instead of UTC', post({ createdAt: '2025-01-31T14:00:00+02:00' }), `schema: ${TS}, got "2025-01-31T14:00:00+02:00"`],
  ['a timestamp as epoch milliseconds', post({ createdAt: 1738324800000 }), `schema: ${TS}, got a number`],
  ['an impossible date', post({ createdAt: '2025-02-30T25:61:00Z' }), `schema: ${TS}, got "2025-02-30T25:61:00Z"`],
  ['an oversized payload', post({ payload: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) }), `schema: payload must be at most ${MAX_PAYLOAD_BYTES} bytes, got ${MAX_PAYLOAD_BYTES + 1}`],
  ['every field wrong at once', json({ id: null, createdAt: true, payload: [] }), `schema: id must be a string of 1-${MAX_ID_LENGTH} characters, got null; ${TS}, got a boolean; payload must be a string, got an array`],
];

const admin: Admin = kafka().admin();
const topic = uniqueName('svc-bad-messages');
const dlq = `${topic}.dlq`;
const group = `${topic}-group`;
let consumer: ServiceProcess | undefined;

beforeAll(async () => {
  await admin.connect();
  await createTopics(admin, [topic, dlq]);
});

afterAll(async () => {
  if (consumer) {
    consumer.kill('SIGKILL');
    await consumer.exited;
  }
  await deleteTopics(admin, [topic, dlq]);
  await admin.disconnect();
});

/** One record as Kafka's ConsoleConsumer prints it with the separators below (a header is always `key:value`). */
interface Printed {
  readonly offset: number;
  readonly headers: Record<string, string>;
  readonly value: string;
}

const FIELD = '\u001c';
const LINE = '\u001e';
const HEADER = '\u001f';

/** The first `count` records of `name`, read from the beginning by Kafka's ConsoleConsumer (no group). */
async function consoleConsume(name: string, count: number): Promise<Printed[]> {
  const formatter = ['print.offset=true', 'print.headers=true', `key.separator=${FIELD}`, `line.separator=${LINE}`, `headers.separator=${HEADER}`];
  const out = await runKafkaTool(
    KafkaTools.consoleConsumer,
    ['--bootstrap-server', bootstrapServers(), '--topic', name, '--from-beginning', '--max-messages', String(count), '--timeout-ms', '30000', ...formatter.flatMap((p) => ['--formatter-property', p])],
    { timeoutMs: 60_000 },
  );
  return out
    .split(LINE)
    .filter((r) => r.startsWith('Offset:'))
    .map((r) => {
      const [offset, headers, ...value] = r.split(FIELD);
      return {
        offset: Number(offset.slice('Offset:'.length)),
        headers: headers === 'NO_HEADERS' ? {} : Object.fromEntries(headers.split(HEADER).map((h) => [h.slice(0, h.indexOf(':')), h.slice(h.indexOf(':') + 1)])),
        value: value.join(FIELD),
      };
    });
}

/** Records in each partition of `name`, from the log end offsets GetOffsetShell reports (nothing is ever deleted here). */
async function recordsPerPartition(name: string): Promise<number[]> {
  const out = await runKafkaTool(KafkaTools.getOffsets, ['--bootstrap-server', bootstrapServers(), '--topic', `^${name.replace(/\./g, '\\.')}$`]);
  const counts: number[] = [];
  for (const m of out.matchAll(/^\S+:(\d+):(\d+)$/gm)) counts[Number(m[1])] = Number(m[2]);
  return counts;
}

type Sent = { readonly kind: 'good' | 'bad'; readonly index: number; readonly offset: number };
const sent: Sent[] = [];
let dead: Map<number, Printed>;

/** Good and bad messages alternate on partition 0, the consumer runs through them and stops. */
beforeAll(async () => {
  const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const send = async (value: string | Buffer | null, kind: 'good' | 'bad', index: number) => {
    // One request per message: the oversized one alone is near the broker's 1 MiB batch limit.
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ partition: 0, key: `${kind}-${index}`, value, headers: { trace: `${kind}-${index}` } }] });
    sent.push({ kind, index, offset: Number(meta.baseOffset) });
  };
  const good = (i: number) => json({ id: `${topic}-good-${i}`, createdAt: new Date().toISOString(), payload: payloadFor(`good-${i}`, 100) });
  for (const [i, [, value]] of badMessages.entries()) {
    await send(good(i), 'good', i);
    await send(value, 'bad', i);
  }
  await send(good(badMessages.length), 'good', badMessages.length);
  await producer.disconnect();

  consumer = new ServiceProcess('consumer', { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq, KAFKA_GROUP_ID: group });
  const lastGood = `${topic}-good-${badMessages.length}`;
  await consumer.waitFor('the last good message, after every bad one', () => processed(consumer!).some((r) => r.id === lastGood), 90_000);
  consumer.kill('SIGTERM');
  expect(await consumer.exited).toBe(0);
  dead = new Map((await consoleConsume(dlq, badMessages.length)).map((d) => [Number(d.headers['dlq.original.offset']), d]));
}, 180_000);

describe('the consumer fed bad messages between good ones', () => {
  test.each(badMessages.map(([what, value, error], index) => ({ what, value, error, index })))(
    '$what goes to the DLQ with its error, its origin and its bytes',
    ({ value, error, index }) => {
      const original = sent.find((s) => s.kind === 'bad' && s.index === index)!;
      const record = dead.get(original.offset);
      expect(record?.headers).toMatchObject({
        'dlq.error.message': error,
        'dlq.original.topic': topic,
        'dlq.original.partition': '0',
        'dlq.original.offset': String(original.offset),
        'dlq.consumer.group': group,
        trace: `bad-${index}`,
      });
      // Printed raw by the tool and decoded here as the original is: equal text means equal bytes
      // for valid UTF-8, and the same invalid sequences in the same places for garbage.
      expect(record?.value).toBe(value === null ? '' : value.toString('utf8'));
    },
  );

  test('processes every good message once, in order, and counts the bad ones as forwarded', () => {
    const goods = sent.filter((s) => s.kind === 'good').length;
    expect(processed(consumer!).map((r) => r.id)).toEqual(Array.from({ length: goods }, (_, i) => `${topic}-good-${i}`));
    expect(consumer!.events('stopped')[0]).toMatchObject({ processed: goods, dlq: badMessages.length });
  });

  test("Kafka's tools: the DLQ holds exactly the bad messages and the group has committed past every message", async () => {
    expect((await recordsPerPartition(dlq)).reduce((a, b) => a + b, 0)).toBe(badMessages.length);
    expect(await recordsPerPartition(topic)).toEqual([sent.length, 0, 0, 0, 0, 0]);
    const described = await runKafkaTool(KafkaTools.consumerGroups, ['--bootstrap-server', bootstrapServers(), '--describe', '--group', group]);
    const columns = described.split('\n').map((l) => l.trim().split(/\s+/)).find((c) => c[1] === topic && c[2] === '0');
    // CURRENT-OFFSET, LOG-END-OFFSET, LAG of partition 0.
    expect(columns?.slice(3, 6)).toEqual([String(sent.length), String(sent.length), '0']);
  }, 60_000);
});
