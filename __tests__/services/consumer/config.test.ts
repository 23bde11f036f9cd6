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
      dedupCacheSize: 100000,
      commitEvery: 500,
      sessionTimeoutMs: 30000,
    });
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
