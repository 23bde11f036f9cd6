import { CONSUMER_LIBRARIES, CommonConfig, ConsumerLibrary, EnvReader, FetchOptions, readCommonConfig, readTopic } from '../shared';

export interface ConsumerConfig extends CommonConfig {
  readonly topic: string;
  readonly dlqTopic: string;
  readonly groupId: string;
  /** Where a group without committed offsets starts: the oldest message (true) or new ones only. */
  readonly fromBeginning: boolean;
  /**
   * Ids remembered to recognise redeliveries; 0 turns the check off. A process is redelivered at
   * most `commitEvery` messages, so twice that by default: a larger set costs a third more CPU per
   * message at full speed (bench/: 1.0 µs per id at 100,000, 0.3 µs at 10,000).
   */
  readonly dedupCacheSize: number;
  /** Most processed messages left uncommitted (a background commit starts at half of it). */
  readonly commitEvery: number;
  /** Longest time processed messages stay uncommitted. */
  readonly commitIntervalMs: number;
  /** How long the group waits for a silent member (crashed, partitioned) before reassigning its partitions. */
  readonly sessionTimeoutMs: number;
  readonly fetch: FetchOptions;
  /** Partitions whose batches are processed at the same time, each still in order. */
  readonly partitionsConsumedConcurrently: number;
  /** The Kafka client library: kafkajs, or @platformatic/kafka to measure it beside kafkajs (docs/services.md). */
  readonly library: ConsumerLibrary;
}

export function loadConsumerConfig(env: NodeJS.ProcessEnv): ConsumerConfig {
  const r = new EnvReader(env);
  const commitEvery = r.int('COMMIT_EVERY', 5000, 1, 100_000);
  const config: ConsumerConfig = {
    ...readCommonConfig(r, 'consumer'),
    topic: readTopic(r, 'KAFKA_TOPIC', 'posts'),
    dlqTopic: readTopic(r, 'KAFKA_DLQ_TOPIC', 'posts.dlq'),
    groupId: r.string('KAFKA_GROUP_ID', 'posts-consumer', /^[A-Za-z0-9._-]{1,255}$/, '1-255 of A-Z a-z 0-9 . _ -'),
    fromBeginning: r.bool('KAFKA_FROM_BEGINNING', true),
    dedupCacheSize: r.int('DEDUP_CACHE_SIZE', 2 * commitEvery, 0, 10_000_000),
    commitEvery,
    commitIntervalMs: r.int('COMMIT_INTERVAL_MS', 1000, 10, 60_000),
    // The broker's default group.min.session.timeout.ms is 6 s.
    sessionTimeoutMs: r.int('KAFKA_SESSION_TIMEOUT_MS', 30_000, 6000, 300_000),
    // Defaults measured by bench/ (docs/services.md, "Tuning" and "Memory"). kafkajs decodes a
    // whole fetch response at once and these limits count compressed bytes: the defaults keep a
    // consumer catching up on 30:1 compressible messages inside its 256Mi pod.
    fetch: {
      minBytes: r.int('KAFKA_FETCH_MIN_BYTES', 1, 1, 64 * 1024 * 1024),
      // A stop waits for the fetch long-poll in flight: at most 5 s keeps shutdown quick.
      maxWaitMs: r.int('KAFKA_FETCH_MAX_WAIT_MS', 500, 0, 5000),
      maxBytes: r.int('KAFKA_FETCH_MAX_BYTES', 256 * 1024, 1024, 256 * 1024 * 1024),
      maxBytesPerPartition: r.int('KAFKA_FETCH_MAX_PARTITION_BYTES', 128 * 1024, 1024, 64 * 1024 * 1024),
    },
    partitionsConsumedConcurrently: r.int('PARTITIONS_CONSUMED_CONCURRENTLY', 1, 1, 100),
    library: r.oneOf('KAFKA_CONSUMER_CLIENT', CONSUMER_LIBRARIES, 'kafkajs'),
  };
  if (config.fetch.maxBytesPerPartition > config.fetch.maxBytes) {
    r.problem(
      `KAFKA_FETCH_MAX_PARTITION_BYTES=${config.fetch.maxBytesPerPartition} is invalid: expected at most KAFKA_FETCH_MAX_BYTES (${config.fetch.maxBytes}), the limit of a whole fetch`,
    );
  }
  if (config.topic === config.dlqTopic) {
    r.problem(`KAFKA_DLQ_TOPIC="${config.dlqTopic}" is invalid: expected a topic other than KAFKA_TOPIC, or a bad message would loop`);
  }
  r.done();
  return config;
}
