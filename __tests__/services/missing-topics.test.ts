import { Admin } from 'kafkajs';
import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { bootstrapServers, uniqueName } from '../support/kafka';
import { LogRecord, ServiceProcess, createTopics, deleteTopics, kafka } from './harness';

/**
 * A topic the service needs that does not exist stops it before it reads or writes anything,
 * with an error naming the topic, its setting and the fix: the consumer checks its DLQ at start,
 * not when the first malformed message needs it. Kafka's own tools then show that nothing was
 * created (no auto-created topic) and no group was joined.
 */

const admin: Admin = kafka().admin();
const existing = uniqueName('svc-missing');
const absent = uniqueName('svc-absent');
const runs: ServiceProcess[] = [];

const missingError = (topic: string, setting: string) =>
  `topic "${topic}" (${setting}) does not exist: create it with kafka-stack (the platform's topics are declared in config/topics.ts) or set ${setting} to an existing topic`;

async function topicList(): Promise<string[]> {
  return (await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', bootstrapServers(), '--list'])).split('\n').map((l) => l.trim());
}

async function groupList(): Promise<string[]> {
  return (await runKafkaTool(KafkaTools.consumerGroups, ['--bootstrap-server', bootstrapServers(), '--list'])).split('\n').map((l) => l.trim());
}

async function runToExit(service: 'producer' | 'consumer', env: Record<string, string>): Promise<{ code: number | null; record: LogRecord | undefined }> {
  const p = new ServiceProcess(service, env);
  runs.push(p);
  const code = await p.exited;
  return { code, record: service === 'producer' ? p.events('summary')[0] : p.events('start_failed')[0] };
}

beforeAll(async () => {
  await admin.connect();
  await createTopics(admin, [existing]);
}, 120_000);

afterAll(async () => {
  for (const p of runs) p.kill('SIGKILL');
  await deleteTopics(admin, [existing]);
  await admin.disconnect();
}, 120_000);

describe('a topic the service needs does not exist', () => {
  test('producer: exits 1 naming KAFKA_TOPIC, and the topic is not auto-created', async () => {
    const { code, record } = await runToExit('producer', { KAFKA_TOPIC: absent, MESSAGE_COUNT: '10' });
    expect({ code, ok: record?.ok, sent: record?.sent, error: record?.error }).toEqual({ code: 1, ok: false, sent: 0, error: missingError(absent, 'KAFKA_TOPIC') });
    expect(await topicList()).not.toContain(absent);
  }, 60_000);

  test('consumer: exits 1 naming KAFKA_DLQ_TOPIC at start, before joining its group', async () => {
    const group = `${existing}-group`;
    const { code, record } = await runToExit('consumer', { KAFKA_TOPIC: existing, KAFKA_DLQ_TOPIC: `${absent}.dlq`, KAFKA_GROUP_ID: group });
    expect({ code, message: record?.err?.message }).toEqual({ code: 1, message: missingError(`${absent}.dlq`, 'KAFKA_DLQ_TOPIC') });
    expect(await topicList()).not.toContain(`${absent}.dlq`);
    expect(await groupList()).not.toContain(group);
  }, 60_000);

  test('consumer: exits 1 naming KAFKA_TOPIC', async () => {
    const { code, record } = await runToExit('consumer', { KAFKA_TOPIC: absent, KAFKA_DLQ_TOPIC: existing, KAFKA_GROUP_ID: `${absent}-group` });
    expect({ code, message: record?.err?.message }).toEqual({ code: 1, message: missingError(absent, 'KAFKA_TOPIC') });
  }, 60_000);
});
