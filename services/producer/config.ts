import { randomUUID } from 'crypto';
import { COMPRESSION_CODECS, CommonConfig, CompressionCodec, EnvReader, MAX_PAYLOAD_BYTES, readCommonConfig, readTopic } from '../shared';

/** How message keys are chosen, which decides partitioning and ordering. */
export type KeyStrategy =
  /** key = message id: spread over all partitions. */
  | { readonly kind: 'id' }
  /** no key: the partitioner spreads messages itself. */
  | { readonly kind: 'none' }
  /** one key for every message: one partition, total order. */
  | { readonly kind: 'fixed'; readonly key: string };

export interface ProducerConfig extends CommonConfig {
  readonly topic: string;
  readonly count: number;
  /** Messages per second; 0 = as fast as the cluster acknowledges. */
  readonly rateLimit: number;
  readonly payloadSize: number;
  readonly keyStrategy: KeyStrategy;
  /** Most messages in one request (one partition's batch). */
  readonly batchSize: number;
  /** How long a partition's batch may wait to fill up before it is sent anyway (it goes earlier with another partition of its leader). */
  readonly lingerMs: number;
  /** Messages generated but not yet acknowledged; generation waits beyond it. */
  readonly maxBufferedMessages: number;
  /** Codec of every record batch. */
  readonly compression: CompressionCodec;
  /** Idempotent producer sessions: each can have one request in flight per broker. */
  readonly sessions: number;
  /** Message ids are `<prefix>-<n>`, n from 0 to count - 1. */
  readonly idPrefix: string;
  /** Longest wait for one batch to be acknowledged before the job fails. */
  readonly sendTimeoutMs: number;
}

function keyStrategy(r: EnvReader): KeyStrategy {
  const value = r.string('KEY_STRATEGY', 'id');
  if (value === 'id' || value === 'none') return { kind: value };
  const fixed = /^fixed:(.{1,200})$/.exec(value);
  if (fixed) return { kind: 'fixed', key: fixed[1] };
  r.problem(`KEY_STRATEGY="${value}" is invalid: expected id, none or fixed:<key>`);
  return { kind: 'id' };
}

function compression(r: EnvReader): CompressionCodec {
  const value = r.string('KAFKA_COMPRESSION', 'gzip');
  if ((COMPRESSION_CODECS as readonly string[]).includes(value)) return value as CompressionCodec;
  r.problem(`KAFKA_COMPRESSION="${value}" is invalid: expected ${COMPRESSION_CODECS.join(' or ')} (the services' Kafka client carries no other codec)`);
  return 'gzip';
}

export function loadProducerConfig(env: NodeJS.ProcessEnv): ProducerConfig {
  const r = new EnvReader(env);
  const config: ProducerConfig = {
    ...readCommonConfig(r, 'producer'),
    topic: readTopic(r, 'KAFKA_TOPIC', 'posts'),
    count: r.int('MESSAGE_COUNT', 1000, 1),
    rateLimit: r.int('RATE_LIMIT', 0, 0, 1_000_000),
    payloadSize: r.int('PAYLOAD_SIZE', 256, 0, MAX_PAYLOAD_BYTES),
    keyStrategy: keyStrategy(r),
    // Defaults measured by bench/ (docs/services.md, "Tuning").
    batchSize: r.int('BATCH_SIZE', 1000, 1, 10_000),
    lingerMs: r.int('LINGER_MS', 5, 0, 1000),
    maxBufferedMessages: r.int('MAX_BUFFERED_MESSAGES', 20_000, 1, 1_000_000),
    compression: compression(r),
    sessions: r.int('PRODUCER_SESSIONS', 1, 1, 64),
    idPrefix: r.string('MESSAGE_ID_PREFIX', randomUUID(), /^[A-Za-z0-9._:-]{1,100}$/, '1-100 of A-Z a-z 0-9 . _ : -'),
    sendTimeoutMs: r.int('SEND_TIMEOUT_MS', 60_000, 1000, 3_600_000),
  };
  if (config.maxBufferedMessages < config.batchSize) {
    r.problem(`MAX_BUFFERED_MESSAGES=${config.maxBufferedMessages} is invalid: expected at least BATCH_SIZE (${config.batchSize}), or no batch could fill up`);
  }
  r.done();
  return config;
}
