import type { TopicSpec } from './topic-spec';

export type { TopicAcl, TopicOperation, TopicSpec } from './topic-spec';

/** Inputs of the partition count (docs/topics.md explains the numbers). */
export interface PartitionSizing {
  /** Peak messages per second the topic must absorb. */
  readonly targetMessagesPerSecond: number;
  /** Average message size in bytes. */
  readonly averageMessageBytes: number;
  /** Throughput one partition sustains for one consumer, in bytes per second (measure with bench/). */
  readonly perPartitionBytesPerSecond: number;
  /** Most consumer instances expected in one group (each partition feeds at most one). */
  readonly maxConsumers: number;
  /** Brokers, so leaders spread evenly: the count is rounded up to a multiple. */
  readonly brokers: number;
}

/** Enough partitions for the throughput and for every consumer, spread evenly over brokers. */
export function partitionsFor(s: PartitionSizing): number {
  const forThroughput = Math.ceil((s.targetMessagesPerSecond * s.averageMessageBytes) / s.perPartitionBytesPerSecond);
  const needed = Math.max(1, forThroughput, s.maxConsumers);
  return Math.ceil(needed / s.brokers) * s.brokers;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Settings every platform topic shares: durable writes, no silent data loss. */
const durable = {
  'min.insync.replicas': '2',
  'unclean.leader.election.enable': 'false',
  'cleanup.policy': 'delete',
  'message.timestamp.type': 'CreateTime',
} as const;

/** Sizing of `posts`: 5,000 msg/s of ~1 KiB, up to 6 consumers, ~1 MiB/s per partition. */
export const POSTS_SIZING: Omit<PartitionSizing, 'brokers'> = {
  targetMessagesPerSecond: 5000,
  averageMessageBytes: 1024,
  perPartitionBytesPerSecond: 1024 * 1024,
  maxConsumers: 6,
};

export const POSTS_TOPIC = 'posts';
export const POSTS_DLQ_TOPIC = 'posts.dlq';
/** Consumer group of the consumer service. */
export const CONSUMER_GROUP = 'posts-consumer';

/** The platform's topics for a cluster of `brokers` brokers. */
export function platformTopics(brokers: number): TopicSpec[] {
  return [
    {
      name: POSTS_TOPIC,
      partitions: partitionsFor({ ...POSTS_SIZING, brokers }),
      replicationFactor: 3,
      config: {
        ...durable,
        'retention.ms': String(7 * DAY_MS),
        // Stored as producers compress it (gzip from the services): the broker never
        // recompresses, and every consumer can read it (kafkajs has no zstd codec).
        'compression.type': 'producer',
        'max.message.bytes': String(1024 * 1024),
        'segment.bytes': String(256 * 1024 * 1024),
      },
      acls: [
        { principal: 'User:producer', operations: ['Write', 'Describe'] },
        { principal: 'User:consumer', operations: ['Read', 'Describe'], consumerGroup: CONSUMER_GROUP },
      ],
    },
    {
      name: POSTS_DLQ_TOPIC,
      partitions: brokers,
      replicationFactor: 3,
      config: {
        ...durable,
        // Long enough for someone to look at a bad message after a holiday weekend.
        'retention.ms': String(30 * DAY_MS),
        'compression.type': 'producer',
        'max.message.bytes': String(1024 * 1024),
      },
      acls: [
        { principal: 'User:consumer', operations: ['Write', 'Describe'] },
      ],
    },
  ];
}
