/** Operations a topic ACL can grant (Kafka's AclOperation names, as the provider spells them). */
export type TopicOperation = 'Read' | 'Write' | 'Describe' | 'DescribeConfigs' | 'AlterConfigs' | 'Delete' | 'Alter' | 'Create' | 'All';

/** One principal's access to a topic. */
export interface TopicAcl {
  /** Kafka principal, e.g. `User:producer`. */
  readonly principal: string;
  /** Operations allowed on the topic. */
  readonly operations: readonly TopicOperation[];
  /** Consumer group the principal may read with (adds a Read ACL on that group). */
  readonly consumerGroup?: string;
}

/** A topic as the platform declares it. */
export interface TopicSpec {
  /** Topic name: `[a-zA-Z0-9._-]`, at most 249 characters, not `.` or `..`. */
  readonly name: string;
  /** Partition count; can only grow (a decrease would recreate the topic and lose its data). */
  readonly partitions: number;
  /** Copies of each partition; at most the number of brokers. */
  readonly replicationFactor: number;
  /** Topic-level configuration; every key must be a Kafka topic config. */
  readonly config: Readonly<Record<string, string>>;
  /** Principals and what they may do; rendered as kafka_acl resources where ACLs are managed here. */
  readonly acls?: readonly TopicAcl[];
}

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
    for (const key of Object.keys(t.config)) {
      if (!KAFKA_TOPIC_CONFIG_KEYS.has(key)) {
        problems.push(`${at}: unknown config key "${key}"; see the Kafka topic configuration reference for valid keys`);
      }
    }
    const minIsr = t.config['min.insync.replicas'];
    if (minIsr !== undefined) {
      const n = Number(minIsr);
      if (!Number.isInteger(n) || n < 1) {
        problems.push(`${at}: min.insync.replicas is "${minIsr}"; it must be a whole number of at least 1`);
      } else if (n >= t.replicationFactor) {
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
