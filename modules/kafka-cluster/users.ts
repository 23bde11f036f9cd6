import type { TopicSpec } from '../../config/topic-spec';
import { AclRule, KafkaUserResource, STRIMZI_API_VERSION } from './crds';
import { CLUSTER_LABEL } from './kafka';

/** Kafka principal of a SCRAM user: the KafkaUser name with Kafka's `User:` prefix. */
export const principalOf = (userName: string): string => `User:${userName}`;

/**
 * A user's topic and consumer-group ACLs, read from the ACLs the topic specs declare for
 * its principal, so config/topics.ts stays the one place that says who may use a topic.
 */
export function topicAclsFor(userName: string, topics: readonly TopicSpec[]): AclRule[] {
  const principal = principalOf(userName);
  const rules: AclRule[] = [];
  for (const topic of topics) {
    for (const acl of topic.acls ?? []) {
      if (acl.principal !== principal) continue;
      rules.push({ resource: { type: 'topic', name: topic.name, patternType: 'literal' }, operations: [...acl.operations] });
      if (acl.consumerGroup) {
        rules.push({ resource: { type: 'group', name: acl.consumerGroup, patternType: 'literal' }, operations: ['Read'] });
      }
    }
  }
  return rules;
}

/** A SCRAM-SHA-512 user as the Strimzi User Operator sees it. */
export interface ScramUserSpec {
  /** KafkaUser name, which is also the SCRAM user name. */
  readonly name: string;
  /** Namespace of the cluster (the User Operator watches only it). */
  readonly namespace: string;
  /** Kafka resource the user belongs to. */
  readonly clusterName: string;
  /** ACLs; undefined leaves the user's ACLs alone (super users need none). */
  readonly acls?: readonly AclRule[];
  /** Secret (in `namespace`) holding the password; undefined lets the operator generate one. */
  readonly passwordSecret?: { readonly name: string; readonly key: string };
}

/** The KafkaUser resource; the operator writes its credentials to a Secret of the same name. */
export function buildKafkaUser(spec: ScramUserSpec): KafkaUserResource {
  if (spec.acls && spec.acls.length === 0) {
    throw new Error(`KafkaUser "${spec.name}" has authorization but no ACL: declare its access in config/topics.ts or leave acls undefined`);
  }
  return {
    apiVersion: STRIMZI_API_VERSION,
    kind: 'KafkaUser',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: { 'app.kubernetes.io/part-of': 'kafka-platform', [CLUSTER_LABEL]: spec.clusterName },
    },
    spec: {
      authentication: {
        type: 'scram-sha-512',
        ...(spec.passwordSecret ? { password: { valueFrom: { secretKeyRef: { ...spec.passwordSecret } } } } : {}),
      },
      ...(spec.acls ? { authorization: { type: 'simple' as const, acls: spec.acls.map((a) => ({ ...a })) } } : {}),
    },
  };
}
