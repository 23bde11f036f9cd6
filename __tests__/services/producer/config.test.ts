import { ConfigError } from '../../../services/shared/config';
import { loadProducerConfig } from '../../../services/producer/config';

const base = { KAFKA_BROKERS: '127.0.0.1:29092' };

describe('producer configuration', () => {
  test('defaults', () => {
    const c = loadProducerConfig(base);
    expect(c).toMatchObject({ topic: 'posts', count: 1000, rateLimit: 0, payloadSize: 256, keyStrategy: { kind: 'id' }, batchSize: 1000, sendTimeoutMs: 60000 });
    // The tuning defaults bench/ measured (docs/services.md, "Tuning").
    expect(c).toMatchObject({ lingerMs: 5, maxBufferedMessages: 20000, compression: 'gzip', sessions: 1 });
    expect(c.idPrefix).toMatch(/^[0-9a-f-]{36}$/);
  });

  test.each([
    ['id', { kind: 'id' }],
    ['none', { kind: 'none' }],
    ['fixed:tenant-7', { kind: 'fixed', key: 'tenant-7' }],
  ])('KEY_STRATEGY=%s', (value, strategy) => {
    expect(loadProducerConfig({ ...base, KEY_STRATEGY: value }).keyStrategy).toEqual(strategy);
  });

  test('all problems at once, each with the variable, the bad value and the expected form', () => {
    let error: ConfigError | undefined;
    try {
      loadProducerConfig({ ...base, KAFKA_TOPIC: 'posts/2', MESSAGE_COUNT: '0', RATE_LIMIT: '-5', PAYLOAD_SIZE: 'big', KEY_STRATEGY: 'random', BATCH_SIZE: '1.5', MESSAGE_ID_PREFIX: 'a b' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      'KAFKA_TOPIC="posts/2" is invalid: expected a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)',
      'MESSAGE_COUNT="0" is invalid: expected an integer >= 1',
      'RATE_LIMIT="-5" is invalid: expected an integer from 0 to 1000000',
      'PAYLOAD_SIZE="big" is invalid: expected an integer from 0 to 921600',
      'KEY_STRATEGY="random" is invalid: expected id, none or fixed:<key>',
      'BATCH_SIZE="1.5" is invalid: expected an integer from 1 to 10000',
      'MESSAGE_ID_PREFIX="a b" is invalid: expected 1-100 of A-Z a-z 0-9 . _ : -',
    ]);
  });

  test('tuning settings: every problem named with the fix', () => {
    let error: ConfigError | undefined;
    try {
      loadProducerConfig({ ...base, LINGER_MS: '-1', KAFKA_COMPRESSION: 'zstd', PRODUCER_SESSIONS: '0', BATCH_SIZE: '5000', MAX_BUFFERED_MESSAGES: '1000' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error!.problems).toEqual([
      'LINGER_MS="-1" is invalid: expected an integer from 0 to 1000',
      'KAFKA_COMPRESSION="zstd" is invalid: expected gzip or none (the services\' Kafka client carries no other codec)',
      'PRODUCER_SESSIONS="0" is invalid: expected an integer from 1 to 64',
      'MAX_BUFFERED_MESSAGES=1000 is invalid: expected at least BATCH_SIZE (5000), or no batch could fill up',
    ]);
  });

  test('tuning settings are read', () => {
    expect(loadProducerConfig({ ...base, LINGER_MS: '20', KAFKA_COMPRESSION: 'none', PRODUCER_SESSIONS: '2', BATCH_SIZE: '200', MAX_BUFFERED_MESSAGES: '400' })).toMatchObject({
      lingerMs: 20,
      compression: 'none',
      sessions: 2,
      batchSize: 200,
      maxBufferedMessages: 400,
    });
  });
});
