import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { bootstrapServers, brokerList, uniqueName } from '../support/kafka';

const topic = uniqueName('kafkajs-roundtrip');
const groupId = uniqueName('kafkajs-roundtrip-group');
const kafka = new Kafka({ clientId: 'kafkajs-roundtrip-test', brokers: brokerList(), logLevel: logLevel.WARN });
const admin = kafka.admin();

interface Msg {
  readonly key: string;
  readonly value: string;
  readonly partition?: number;
}

// 6 keys x 5 messages: each key's messages must arrive in order on one partition.
const sent: Msg[] = Array.from({ length: 30 }, (_, i) => ({ key: `account-${i % 6}`, value: JSON.stringify({ seq: i, amount: i * 10 }) }));
let received: Msg[] = [];

beforeAll(() => admin.connect());

afterAll(async () => {
  // Clean up when a test failed before the delete step.
  const topics = await admin.listTopics().catch(() => [] as string[]);
  if (topics.includes(topic)) await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
});

describe('kafkajs against the local cluster', () => {
  test('creates a topic with 3 partitions, each replicated to 3 brokers', async () => {
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true })).toBe(true);

    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = [...topics[0].partitions].sort((a, b) => a.partitionId - b.partitionId);
    expect(partitions.map((p) => p.partitionId)).toEqual([0, 1, 2]);
    for (const p of partitions) {
      expect([...p.replicas].sort()).toEqual([1, 2, 3]);
      expect([...p.isr].sort()).toEqual([1, 2, 3]);
    }

    // Kafka's own kafka-topics agrees, independently of kafkajs.
    const described = await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', bootstrapServers(), '--describe', '--topic', topic]);
    expect(described).toMatch(new RegExp(`Topic: ${topic}\\s+TopicId: \\S+\\s+PartitionCount: 3\\s+ReplicationFactor: 3`));
  }, 60_000);

  test('an idempotent producer writes keyed messages acknowledged by all in-sync replicas', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      const metadata = await producer.send({ topic, acks: -1, messages: sent.map(({ key, value }) => ({ key, value })) });
      expect(metadata.every((m) => m.errorCode === 0)).toBe(true);
    } finally {
      await producer.disconnect();
    }

    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)).toBe(sent.length);
  }, 60_000);

  test('a consumer group reads back exactly what was produced and commits its offsets', async () => {
    const consumer = kafka.consumer({ groupId });
    const got: Msg[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const all = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`received only ${got.length} of ${sent.length} messages in 60s`)), 60_000);
        void consumer.run({
          eachMessage: async ({ message, partition }) => {
            got.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', partition });
            if (got.length >= sent.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      await all;

      // Committed offsets reach the end of every partition once the last batch is acknowledged.
      const end = await admin.fetchTopicOffsets(topic);
      const endOf = new Map(end.map((p) => [p.partition, p.high]));
      const deadline = Date.now() + 30_000;
      let committed: { partition: number; offset: string }[] = [];
      while (Date.now() < deadline) {
        committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions;
        if (committed.every((p) => p.offset === endOf.get(p.partition))) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(committed.map((p) => [p.partition, p.offset]).sort()).toEqual(end.map((p) => [p.partition, p.high]).sort());
    } finally {
      await consumer.disconnect();
    }
    received = got;

    const withoutPartition = (records: readonly Msg[]) => records.map(({ key, value }) => ({ key, value }));
    const byContent = (a: Msg, b: Msg) => a.key.localeCompare(b.key) || a.value.localeCompare(b.value);
    expect(withoutPartition(received).sort(byContent)).toEqual([...sent].sort(byContent));

    // Same key, same partition, produce order preserved.
    for (const key of new Set(sent.map((r) => r.key))) {
      const ofKey = received.filter((r) => r.key === key);
      expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1);
      expect(ofKey.map((r) => r.value)).toEqual(sent.filter((r) => r.key === key).map((r) => r.value));
    }
    // 6 keys over 3 partitions with murmur2 hashing: more than one partition is used.
    expect(new Set(received.map((r) => r.partition)).size).toBeGreaterThan(1);
  }, 120_000);

  test('deletes the topic', async () => {
    await admin.deleteTopics({ topics: [topic] });
    // Brokers apply the deletion from the metadata log a moment after the controller commits it,
    // each at its own time, and each listing asks one of them: gone means gone from a second of
    // listings in a row, not from the first broker that applied it.
    const deadline = Date.now() + 15_000;
    let goneSince: number | undefined;
    while (Date.now() < deadline && (goneSince === undefined || Date.now() - goneSince < 1000)) {
      if ((await admin.listTopics()).includes(topic)) goneSince = undefined;
      else goneSince ??= Date.now();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await admin.listTopics()).not.toContain(topic);
    const listed = await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', bootstrapServers(), '--list']);
    expect(listed.split('\n')).not.toContain(topic);
  }, 60_000);
});
