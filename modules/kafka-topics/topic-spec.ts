import type { TopicSpec } from '../../config/topic-spec';

export type { TopicAcl, TopicOperation, TopicSpec } from '../../config/topic-spec';

/**
 * Topic-level config keys of Kafka 4.3 (TopicConfig plus the replication throttles).
 * A test compares this list with what the real broker reports, so it cannot drift.
 */
export const KAFKA_TOPIC_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'cleanup.policy',
  'compression.gzip.level',
  'compression.lz4.level',
  'compression.type',
  'compression.zstd.level',
  'delete.retention.ms',
  'file.delete.delay.ms',
  'flush.messages',
  'follower.replication.throttled.replicas',
  'flush.ms',
  'index.interval.bytes',
  'leader.replication.throttled.replicas',
  'local.retention.bytes',
  'local.retention.ms',
  'max.compaction.lag.ms',
  'max.message.bytes',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.type',
  'min.cleanable.dirty.ratio',
  'min.compaction.lag.ms',
  'min.insync.replicas',
  'preallocate',
  'remote.log.copy.disable',
  'remote.log.delete.on.disable',
  'remote.storage.enable',
  'retention.bytes',
  'retention.ms',
  'segment.bytes',
  'segment.index.bytes',
  'segment.jitter.ms',
  'segment.ms',
  'unclean.leader.election.enable',
]);

/** What a topic config value must look like; a wrong one would fail mid-apply, after other topics changed. */
interface ValueRule {
  readonly valid: (value: string) => boolean;
  readonly expected: string;
}
const wholeNumber = (min: number, expected: string): ValueRule => ({ valid: (v) => /^-?\d+$/.test(v) && Number(v) >= min, expected });
const boolean: ValueRule = { valid: (v) => v === 'true' || v === 'false', expected: '"true" or "false"' };
const oneOf = (...choices: string[]): ValueRule => ({ valid: (v) => choices.includes(v), expected: `one of ${choices.join(', ')}` });
const ms = (example: string) => wholeNumber(0, `a whole number of milliseconds, e.g. "${example}"`);
const unlimited = (unit: string, example: string) => wholeNumber(-1, `a whole number of ${unit} (-1: no limit), e.g. "${example}"`);
const local = (unit: string, example: string) => wholeNumber(-2, `a whole number of ${unit} (-2: as retention), e.g. "${example}"`);

/** The value rule of every key but the throttled-replica lists, whose form the broker checks. */
const VALUE_RULES: Readonly<Record<string, ValueRule>> = {
  'cleanup.policy': { valid: (v) => /^(delete|compact)(,(delete|compact))?$/.test(v.replace(/\s/g, '')), expected: '"delete", "compact" or "compact,delete"' },
  'compression.gzip.level': { valid: (v) => /^(-1|[1-9])$/.test(v), expected: '-1 (the codec default) or 1 to 9' },
  'compression.lz4.level': { valid: (v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 17, expected: '1 to 17' },
  'compression.type': oneOf('producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'),
  'compression.zstd.level': { valid: (v) => /^-?\d+$/.test(v) && Number(v) >= -131072 && Number(v) <= 22, expected: '-131072 to 22, e.g. "3"' },
  'delete.retention.ms': ms('86400000'),
  'file.delete.delay.ms': ms('60000'),
  'flush.messages': wholeNumber(1, 'a whole number of messages of at least 1, e.g. "10000"'),
  'flush.ms': ms('1000'),
  'index.interval.bytes': wholeNumber(0, 'a whole number of bytes, e.g. "4096"'),
  'local.retention.bytes': local('bytes', '1073741824'),
  'local.retention.ms': local('milliseconds', '86400000'),
  'max.compaction.lag.ms': wholeNumber(1, 'a whole number of milliseconds of at least 1, e.g. "604800000"'),
  'max.message.bytes': wholeNumber(0, 'a whole number of bytes, e.g. "1048576"'),
  'message.timestamp.after.max.ms': ms('3600000'),
  'message.timestamp.before.max.ms': ms('3600000'),
  'message.timestamp.type': oneOf('CreateTime', 'LogAppendTime'),
  'min.cleanable.dirty.ratio': { valid: (v) => /^\d*\.?\d+$/.test(v) && Number(v) <= 1, expected: 'a ratio from 0 to 1, e.g. "0.5"' },
  'min.compaction.lag.ms': ms('0'),
  'min.insync.replicas': wholeNumber(1, 'a whole number of replicas of at least 1, e.g. "2"'),
  preallocate: boolean,
  'remote.log.copy.disable': boolean,
  'remote.log.delete.on.disable': boolean,
  'remote.storage.enable': boolean,
  'retention.bytes': unlimited('bytes', '1073741824'),
  'retention.ms': unlimited('milliseconds', '604800000'),
  'segment.bytes': wholeNumber(1024 * 1024, 'a whole number of bytes of at least 1048576 (1 MiB), e.g. "268435456"'),
  'segment.index.bytes': wholeNumber(4, 'a whole number of bytes of at least 4, e.g. "10485760"'),
  'segment.jitter.ms': ms('0'),
  'segment.ms': wholeNumber(1, 'a whole number of milliseconds of at least 1, e.g. "604800000"'),
  'unclean.leader.election.enable': boolean,
};

const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;
const MAX_NAME_LENGTH = 249;

/** Every problem with a set of topic specs for a cluster of `brokerCount` brokers, each naming the topic and the fix. */
export function topicProblems(topics: readonly TopicSpec[], brokerCount: number): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const t of topics) {
    const at = `topic "${t.name}"`;
    if (t.name === '.' || t.name === '..') {
      problems.push(`${at}: "." and ".." are not legal topic names; choose another name`);
    } else if (!LEGAL_NAME.test(t.name)) {
      problems.push(`${at}: illegal name; use only letters, digits, '.', '_' and '-'`);
    }
    if (t.name.length > MAX_NAME_LENGTH) {
      problems.push(`${at}: name is ${t.name.length} characters; Kafka allows at most ${MAX_NAME_LENGTH}`);
    }
    if (seen.has(t.name)) problems.push(`${at}: declared twice; keep one declaration`);
    seen.add(t.name);
    if (!Number.isInteger(t.partitions) || t.partitions < 1) {
      problems.push(`${at}: partitions is ${t.partitions}; it must be a whole number of at least 1`);
    }
    if (!Number.isInteger(t.replicationFactor) || t.replicationFactor < 1) {
      problems.push(`${at}: replication factor is ${t.replicationFactor}; it must be a whole number of at least 1`);
    } else if (t.replicationFactor > brokerCount) {
      problems.push(`${at}: replication factor ${t.replicationFactor} exceeds the ${brokerCount} brokers; lower it or add brokers`);
    }
    for (const [key, value] of Object.entries(t.config)) {
      const rule = VALUE_RULES[key];
      if (!KAFKA_TOPIC_CONFIG_KEYS.has(key)) {
        problems.push(`${at}: unknown config key "${key}"; see the Kafka topic configuration reference for valid keys`);
      } else if (rule && !rule.valid(value)) {
        problems.push(`${at}: ${key} is "${value}"; expected ${rule.expected}`);
      }
    }
    const minIsr = t.config['min.insync.replicas'];
    if (minIsr !== undefined && VALUE_RULES['min.insync.replicas'].valid(minIsr) && Number.isInteger(t.replicationFactor) && t.replicationFactor >= 1) {
      const n = Number(minIsr);
      if (n >= t.replicationFactor) {
        problems.push(
          `${at}: min.insync.replicas ${n} must be below the replication factor ${t.replicationFactor}, or one broker down stops all writes; use ${Math.max(1, t.replicationFactor - 1)}`,
        );
      }
    }
  }
  return problems;
}

/** Thrown at synth time when a topic spec is invalid; nothing has been planned or changed. */
export class TopicSpecError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid topic specification:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TopicSpecError';
  }
}
