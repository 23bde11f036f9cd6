import { ServiceProcess, processed } from '../services/harness';
import { uniqueName } from '../support/kafka';
import { chaosCluster, createPostsLikeTopic } from './cluster';
import { dropTopics, groupLag, startProducer, useChaosCluster } from './runs';
import { readTopic } from './verifier';

/**
 * The consumer SIGKILLed in the middle of a batch, then restarted in the same group: every
 * message in the topic (as Kafka's own consumer reads it) is processed at least once, the group's
 * committed offsets reach the end of the log (Kafka's ConsumerGroupCommand), and redeliveries stay
 * within what was processed but not yet committed.
 */

const COUNT = 20_000;
const COMMIT_EVERY = 500;
const PARTITIONS = 6;
const admin = useChaosCluster();

function startConsumer(topic: string, group: string): ServiceProcess {
  return new ServiceProcess('consumer', {
    KAFKA_BROKERS: chaosCluster.bootstrapServers(),
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_GROUP_ID: group,
    COMMIT_EVERY: String(COMMIT_EVERY),
    // The dead member's partitions move after this; the broker's minimum is 6 s.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
  });
}

test('consumer SIGKILLed mid-batch and restarted: every message processed at least once, redeliveries bounded', async () => {
  const topic = uniqueName('chaos-consumer');
  const group = `${topic}-group`;
  await createPostsLikeTopic(admin(), topic);
  await createPostsLikeTopic(admin(), `${topic}.dlq`);
  const t0 = Date.now();
  const phases: string[] = [];
  const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  const producer = startProducer(chaosCluster, topic, COUNT);
  expect(await producer.exited).toBe(0);
  phase('produced');

  const first = startConsumer(topic, group);
  await first.waitFor('a quarter processed', () => processed(first).length >= COUNT / 4, 120_000);
  phase('quarter processed');
  first.kill('SIGKILL');
  await first.exited;
  const processedBeforeKill = processed(first).length;
  expect(processedBeforeKill).toBeLessThan(COUNT);

  const second = startConsumer(topic, group);
  const inTopic = await readTopic(chaosCluster.bootstrapServers(), topic);
  expect(inTopic.ids.size).toBe(COUNT);
  const seen = () => new Set(processed(first, second).map((r) => r.id as string));
  await second.waitFor('group joined', () => second.events('group_join').length > 0, 120_000);
  phase('restarted consumer joined');
  await second.waitFor('every id in the topic processed', () => seen().size >= inTopic.ids.size, 180_000);
  phase('all processed');
  second.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  phase('restarted consumer stopped');

  const all = processed(first, second);
  // One set for the whole check: building it per id made this line take 90 s.
  const distinct = seen();
  const missing = [...inTopic.ids.keys()].filter((id) => !distinct.has(id));
  const duplicates = all.length - distinct.size;
  console.log(
    `[chaos] consumer SIGKILL: in topic ${inTopic.ids.size}, processed before kill ${processedBeforeKill}, processed in all ${all.length}, ` +
      `missing ${missing.length}, duplicates ${duplicates} (${phases.join(', ')})`,
  );
  expect(missing.slice(0, 5)).toEqual([]);
  // Only what was processed after the last commit comes again: at most one commit interval per partition.
  expect(duplicates).toBeLessThanOrEqual(PARTITIONS * COMMIT_EVERY);
  expect(await groupLag(group)).toEqual(Array(PARTITIONS).fill(0));
  phase('group lag read');
  await dropTopics(admin(), [topic, `${topic}.dlq`]);
  phase('topics dropped');
  console.log(`[chaos] consumer SIGKILL phases: ${phases.join(', ')}`);
}, 600_000);
