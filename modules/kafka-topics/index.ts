import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { Acl } from '../../.gen/providers/kafka/acl';
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

/** Terraform-safe logical id for a topic name (`posts.dlq` -> `posts_dlq`). */
export function topicId(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/**
 * Kafka topics (and optionally their ACLs) through the Mongey/kafka provider.
 * Invalid specs fail at synth time; a partition decrease, which this provider would
 * turn into delete-and-recreate, fails at plan time through prevent_destroy.
 */
export class KafkaTopics extends Construct {
  /** The kafka_topic resources, by topic name. */
  readonly topics: Readonly<Record<string, Topic>>;

  constructor(scope: Construct, id: string, props: KafkaTopicsProps) {
    super(scope, id);
    const problems = topicProblems(props.topics, props.brokerCount);
    if (problems.length > 0) throw new TopicSpecError(problems);

    const topics: Record<string, Topic> = {};
    for (const spec of props.topics) {
      const topic = new Topic(this, topicId(spec.name), {
        provider: props.provider,
        name: spec.name,
        partitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        config: { ...spec.config },
        dependsOn: props.dependsOn,
        // Never let a plan delete a topic: its messages would be gone.
        lifecycle: { preventDestroy: true },
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
