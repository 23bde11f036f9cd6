import * as path from 'path';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { LocalKafkaCluster, PLATFORM_LOCAL_KAFKA, SIDE_CLUSTER_PORT_OFFSETS, shiftedPorts } from '../../tools/local/kafka';
import { CACHE_DIR } from '../../tools/paths';

/**
 * A three-node cluster of its own for fault tests, beside the platform's local cluster: its
 * brokers are killed, filled up and upgraded without disturbing the suites that share the other.
 */
export const chaosCluster = new LocalKafkaCluster({
  ...PLATFORM_LOCAL_KAFKA,
  name: 'chaos-kafka',
  dir: path.join(CACHE_DIR, 'chaos-kafka'),
  // Ports 19092, 19192, 19492, 19592 (node 1 of each listener).
  ...shiftedPorts(SIDE_CLUSTER_PORT_OFFSETS.chaos),
  configKey: 'chaosCluster',
  portsDefinedIn: '__tests__/chaos/cluster.ts',
});

export function chaosAdmin(cluster: LocalKafkaCluster = chaosCluster): Admin {
  return new Kafka({ clientId: 'chaos-admin', brokers: cluster.bootstrapServers().split(','), logLevel: logLevel.NOTHING }).admin();
}

/** 6 partitions, replication factor 3, min.insync.replicas 2: the platform's `posts` settings. */
export async function createPostsLikeTopic(admin: Admin, topic: string): Promise<void> {
  await admin.createTopics({
    // kafkajs' own wait fails on the first "does not host this topic-partition" of a fresh topic.
    waitForLeaders: false,
    topics: [{ topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
  });
  await waitForFullIsr(admin, topic, 3, 60_000);
}

/** Node id leading `partition` of `topic`. */
export async function leaderOf(admin: Admin, topic: string, partition: number): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const p = meta.topics[0].partitions.find((x) => x.partitionId === partition);
  if (!p || p.leader < 0) throw new Error(`partition ${partition} of ${topic} has no leader`);
  return p.leader;
}

/** Waits until every partition of `topic` has all `replicas` in sync again (after a node restart). */
export async function waitForFullIsr(admin: Admin, topic: string, replicas: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = meta.topics[0].partitions;
      const short = partitions.filter((p) => p.leader < 0 || p.isr.length < replicas);
      if (partitions.length > 0 && short.length === 0) return;
      last = short.map((p) => `p${p.partitionId} isr [${p.isr.join(',')}]`).join(', ');
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${topic} did not regain ${replicas} in-sync replicas within ${timeoutMs / 1000}s: ${last}`);
}
