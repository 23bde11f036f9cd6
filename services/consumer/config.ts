import { CommonConfig, EnvReader, readCommonConfig, readTopic } from '../shared';

export interface ConsumerConfig extends CommonConfig {
  readonly topic: string;
  readonly dlqTopic: string;
  readonly groupId: string;
  /** Where a group without committed offsets starts: the oldest message (true) or new ones only. */
  readonly fromBeginning: boolean;
  /** Ids remembered to recognise redeliveries; 0 turns the check off. */
  readonly dedupCacheSize: number;
  /** Processed messages between two commits inside one fetched batch. */
  readonly commitEvery: number;
  /** How long the group waits for a silent member (crashed, partitioned) before reassigning its partitions. */
  readonly sessionTimeoutMs: number;
}

export function loadConsumerConfig(env: NodeJS.ProcessEnv): ConsumerConfig {
  const r = new EnvReader(env);
  const config: ConsumerConfig = {
    ...readCommonConfig(r, 'consumer'),
    topic: readTopic(r, 'KAFKA_TOPIC', 'posts'),
    dlqTopic: readTopic(r, 'KAFKA_DLQ_TOPIC', 'posts.dlq'),
    groupId: r.string('KAFKA_GROUP_ID', 'posts-consumer', /^[A-Za-z0-9._-]{1,255}$/, '1-255 of A-Z a-z 0-9 . _ -'),
    fromBeginning: r.bool('KAFKA_FROM_BEGINNING', true),
    dedupCacheSize: r.int('DEDUP_CACHE_SIZE', 100_000, 0, 10_000_000),
    commitEvery: r.int('COMMIT_EVERY', 500, 1, 100_000),
    // The broker's default group.min.session.timeout.ms is 6 s.
    sessionTimeoutMs: r.int('KAFKA_SESSION_TIMEOUT_MS', 30_000, 6000, 300_000),
  };
  if (config.topic === config.dlqTopic) {
    r.problem(`KAFKA_DLQ_TOPIC="${config.dlqTopic}" is invalid: expected a topic other than KAFKA_TOPIC, or a bad message would loop`);
  }
  r.done();
  return config;
}
