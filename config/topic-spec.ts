/**
 * How the platform declares a topic. A plain type in config, so config/topics.ts declares
 * topics without depending on the module that renders them.
 */

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
