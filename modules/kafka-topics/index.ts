import { ITerraformDependable, Precondition } from 'cdktf';
import { Construct } from 'constructs';
import { Acl } from '../../.gen/providers/kafka/acl';
import { DataKafkaTopics } from '../../.gen/providers/kafka/data-kafka-topics';
import { KafkaProvider } from '../../.gen/providers/kafka/provider';
import { Topic } from '../../.gen/providers/kafka/topic';
import { TopicSpec, TopicSpecError, topicProblems } from './topic-spec';

export * from './topic-spec';

export interface KafkaTopicsProps {
  /** The Mongey/kafka provider connected to the cluster. */
  readonly provider: KafkaProvider;
  /** Brokers in the cluster, to refuse a replication factor it cannot satisfy. */
  readonly brokerCount: number;
  /** Topics to manage. */
  readonly topics: readonly TopicSpec[];
  /**
   * Render each topic's ACLs as kafka_acl resources. Off where another owner manages
   * the same principals' ACLs (Strimzi's User Operator replaces ACLs it did not write).
   */
  readonly manageAcls: boolean;
  /** Resources that must exist before any topic is created (e.g. the cluster being Ready). */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Refuses, at plan time, fewer partitions than the topic has on the cluster. Kafka cannot
 * remove partitions, so the provider would plan a replacement, which prevent_destroy blocks
 * with advice to drop prevent_destroy: exactly the wrong fix. This names the right one.
 */
function partitionsNotDecreased(spec: TopicSpec, existing: DataKafkaTopics): Precondition {
  // 0 for a topic the cluster does not have yet. Terraform evaluates the message even when the condition holds.
  const current = `max(0, [for t in ${existing.fqn}.list : t.partitions if t.topic_name == ${JSON.stringify(spec.name)}]...)`;
  return {
    condition: `\${${current} <= ${spec.partitions}}`,
    errorMessage:
      `topic "${spec.name}" has \${${current}} partitions on the cluster but declares ${spec.partitions}: ` +
      `Kafka cannot remove partitions, so the plan would delete and recreate the topic with all its messages ` +
      `(kafka_topic.${topicId(spec.name)} has lifecycle.prevent_destroy set; never remove it to get past this). ` +
      `Declare at least \${${current}} partitions; to shrink a topic, create a new one and move its producers and consumers.`,
  };
}

/** Terraform-safe logical id for a topic name (`posts.dlq` -> `posts_dlq`). */
export function topicId(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/**
 * Kafka topics (and optionally their ACLs) through the Mongey/kafka provider.
 * Invalid specs fail at synth time. A partition decrease, which this provider would turn
 * into delete-and-recreate, fails at plan time: a precondition compares the declared count
 * with the cluster's and says what to do, before prevent_destroy's generic refusal.
 */
export class KafkaTopics extends Construct {
  /** The kafka_topic resources, by topic name. */
  readonly topics: Readonly<Record<string, Topic>>;

  constructor(scope: Construct, id: string, props: KafkaTopicsProps) {
    super(scope, id);
    const problems = topicProblems(props.topics, props.brokerCount);
    if (problems.length > 0) throw new TopicSpecError(problems);

    // Every topic of the cluster with its partition count, read at plan time.
    const existing = new DataKafkaTopics(this, 'existing', { provider: props.provider, dependsOn: props.dependsOn });
    existing.overrideLogicalId('existing_topics');

    const topics: Record<string, Topic> = {};
    for (const spec of props.topics) {
      const topic = new Topic(this, topicId(spec.name), {
        provider: props.provider,
        name: spec.name,
        partitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        config: { ...spec.config },
        dependsOn: props.dependsOn,
        lifecycle: {
          // Never let a plan delete a topic: its messages would be gone.
          preventDestroy: true,
          precondition: [partitionsNotDecreased(spec, existing)],
        },
      });
      // Readable, stable state addresses: kafka_topic.posts, kafka_topic.posts_dlq.
      topic.overrideLogicalId(topicId(spec.name));
      topics[spec.name] = topic;
      if (props.manageAcls) this.addAcls(props.provider, spec, topic);
    }
    this.topics = topics;
  }

  private addAcls(provider: KafkaProvider, spec: TopicSpec, topic: Topic): void {
    for (const acl of spec.acls ?? []) {
      const who = topicId(acl.principal.replace(/^User:/, ''));
      for (const operation of acl.operations) {
        const logicalId = `${topicId(spec.name)}_${who}_${operation.toLowerCase()}`;
        new Acl(this, logicalId, {
          provider,
          resourceName: topic.name,
          resourceType: 'Topic',
          resourcePatternTypeFilter: 'Literal',
          aclPrincipal: acl.principal,
          aclHost: '*',
          aclOperation: operation,
          aclPermissionType: 'Allow',
        }).overrideLogicalId(logicalId);
      }
      if (acl.consumerGroup) {
        const logicalId = `group_${topicId(acl.consumerGroup)}_${who}_read`;
        new Acl(this, logicalId, {
          provider,
          resourceName: acl.consumerGroup,
          resourceType: 'Group',
          resourcePatternTypeFilter: 'Literal',
          aclPrincipal: acl.principal,
          aclHost: '*',
          aclOperation: 'Read',
          aclPermissionType: 'Allow',
        }).overrideLogicalId(logicalId);
      }
    }
  }
}
