import * as path from 'path';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { LocalKafkaCluster, PLATFORM_LOCAL_KAFKA, SIDE_CLUSTER_PORT_OFFSETS, shiftedPorts } from '../tools/local/kafka';
import { CACHE_DIR } from '../tools/paths';

/**
 * The bench's own three-node cluster, beside the platform's: its leaders are SIGKILLed and the
 * throughput runs do not compete with other suites' topics. Started by the bench, purged after.
 */
export const benchCluster = new LocalKafkaCluster({
  ...PLATFORM_LOCAL_KAFKA,
  name: 'bench-kafka',
  dir: path.join(CACHE_DIR, 'bench-kafka'),
  // Ports 15092, 15192, 15492, 15592 (node 1 of each listener).
  ...shiftedPorts(SIDE_CLUSTER_PORT_OFFSETS.bench),
  configKey: 'benchCluster',
  portsDefinedIn: 'bench/cluster.ts',
});

/** The platform's `posts` topic settings every bench topic gets. */
export const POSTS_LIKE = { partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 } as const;

export function benchAdmin(cluster: LocalKafkaCluster = benchCluster): Admin {
  return new Kafka({ clientId: 'bench-admin', brokers: cluster.bootstrapServers().split(','), logLevel: logLevel.NOTHING }).admin();
}

/** Creates a topic like `posts` (6 partitions, RF 3, min ISR 2, producer compression) and waits for every leader and replica. */
export async function createPostsLikeTopic(admin: Admin, topic: string): Promise<void> {
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      {
        topic,
        numPartitions: POSTS_LIKE.partitions,
        replicationFactor: POSTS_LIKE.replicationFactor,
        configEntries: [
          { name: 'min.insync.replicas', value: String(POSTS_LIKE.minInsyncReplicas) },
          { name: 'compression.type', value: 'producer' },
        ],
      },
    ],
  });
  await waitForFullIsr(admin, topic);
}

/** Waits until every partition of `topic` has a leader and all replicas in sync. */
export async function waitForFullIsr(admin: Admin, topic: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  while (Date.now() < deadline) {
    try {
      const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions;
      const short = partitions.filter((p) => p.leader < 0 || p.isr.length < POSTS_LIKE.replicationFactor);
      if (partitions.length === POSTS_LIKE.partitions && short.length === 0) return;
      last = short.map((p) => `p${p.partitionId} leader ${p.leader} isr [${p.isr.join(',')}]`).join(', ');
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${topic} has no full ISR after ${timeoutMs / 1000}s: ${last}`);
}

/** Sum of the high watermarks of every partition of `topic`. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}
