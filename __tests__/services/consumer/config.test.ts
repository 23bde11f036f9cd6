import { ConfigError } from '../../../services/shared/config';
import { loadConsumerConfig } from '../../../services/consumer/config';

const base = { KAFKA_BROKERS: '127.0.0.1:29092' };

describe('consumer configuration', () => {
  test('defaults', () => {
    expect(loadConsumerConfig(base)).toMatchObject({
      topic: 'posts',
      dlqTopic: 'posts.dlq',
      groupId: 'posts-consumer',
      fromBeginning: true,
      dedupCacheSize: 10000,
      commitEvery: 5000,
      sessionTimeoutMs: 30000,
    });
  });

  test('the redelivery cache covers twice what a crash redelivers (COMMIT_EVERY) unless DEDUP_CACHE_SIZE is set', () => {
    expect(loadConsumerConfig({ ...base, COMMIT_EVERY: '20000' }).dedupCacheSize).toBe(40000);
    expect(loadConsumerConfig({ ...base, COMMIT_EVERY: '20000', DEDUP_CACHE_SIZE: '0' }).dedupCacheSize).toBe(0);
  });

  test('the client library is kafkajs unless KAFKA_CONSUMER_CLIENT names @platformatic/kafka; anything else is refused', () => {
    expect(loadConsumerConfig(base).library).toBe('kafkajs');
    expect(loadConsumerConfig({ ...base, KAFKA_CONSUMER_CLIENT: 'platformatic' }).library).toBe('platformatic');
    expect(() => loadConsumerConfig({ ...base, KAFKA_CONSUMER_CLIENT: 'rdkafka' })).toThrow('KAFKA_CONSUMER_CLIENT="rdkafka" is invalid: expected one of kafkajs, platformatic');
  });

  test('tuning defaults, as bench/ measured them (docs/services.md, "Tuning")', () => {
    expect(loadConsumerConfig(base)).toMatchObject({
      commitIntervalMs: 1000,
      fetch: { minBytes: 1, maxWaitMs: 500, maxBytes: 256 * 1024, maxBytesPerPartition: 128 * 1024 },
      partitionsConsumedConcurrently: 1,
    });
  });

  test('tuning settings are read, and a partition limit above the fetch limit is refused', () => {
    const env = { ...base, COMMIT_INTERVAL_MS: '250', KAFKA_FETCH_MIN_BYTES: '1024', KAFKA_FETCH_MAX_WAIT_MS: '100', KAFKA_FETCH_MAX_BYTES: '2097152', KAFKA_FETCH_MAX_PARTITION_BYTES: '524288', PARTITIONS_CONSUMED_CONCURRENTLY: '3' };
    expect(loadConsumerConfig(env)).toMatchObject({
      commitIntervalMs: 250,
      fetch: { minBytes: 1024, maxWaitMs: 100, maxBytes: 2097152, maxBytesPerPartition: 524288 },
      partitionsConsumedConcurrently: 3,
    });
    let error: ConfigError | undefined;
    try {
      loadConsumerConfig({ ...base, KAFKA_FETCH_MAX_BYTES: '1048576', KAFKA_FETCH_MAX_PARTITION_BYTES: '4194304', KAFKA_FETCH_MAX_WAIT_MS: '60000', COMMIT_INTERVAL_MS: '0' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error!.problems).toEqual([
      'COMMIT_INTERVAL_MS="0" is invalid: expected an integer from 10 to 60000',
      'KAFKA_FETCH_MAX_WAIT_MS="60000" is invalid: expected an integer from 0 to 5000',
      'KAFKA_FETCH_MAX_PARTITION_BYTES=4194304 is invalid: expected at most KAFKA_FETCH_MAX_BYTES (1048576), the limit of a whole fetch',
    ]);
  });

  test('all problems at once, including a DLQ that would loop', () => {
    let error: ConfigError | undefined;
    try {
      loadConsumerConfig({ KAFKA_TOPIC: 'posts', KAFKA_DLQ_TOPIC: 'posts', KAFKA_GROUP_ID: 'group with spaces', KAFKA_FROM_BEGINNING: 'sometimes', KAFKA_SESSION_TIMEOUT_MS: '1000' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      'KAFKA_BROKERS is not set: expected comma-separated host:port list, e.g. "kafka-1:9092,kafka-2:9092"',
      'KAFKA_GROUP_ID="group with spaces" is invalid: expected 1-255 of A-Z a-z 0-9 . _ -',
      'KAFKA_FROM_BEGINNING="sometimes" is invalid: expected true or false',
      'KAFKA_SESSION_TIMEOUT_MS="1000" is invalid: expected an integer from 6000 to 300000',
      'KAFKA_DLQ_TOPIC="posts" is invalid: expected a topic other than KAFKA_TOPIC, or a bad message would loop',
    ]);
  });
});
