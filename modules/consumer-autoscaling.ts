import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { AclRule, ScramUser } from './kafka-cluster';

/** KEDA's API group and version of ScaledObject and ClusterTriggerAuthentication. */
export const KEDA_API_VERSION = 'keda.sh/v1alpha1';
/** The SCRAM user KEDA reads the consumer group's lag as. */
export const LAG_READER_USER = 'lag-reader';

/**
 * What reading a group's lag takes in Kafka: the topic's partitions and end offsets (Describe
 * on the topic) and the group's committed offsets (Describe on the group). No Read: the
 * reader never consumes, and never joins or commits for the group.
 */
export function lagReaderAcls(topic: string, group: string): AclRule[] {
  return [
    { resource: { type: 'topic', name: topic, patternType: 'literal' }, operations: ['Describe'] },
    { resource: { type: 'group', name: group, patternType: 'literal' }, operations: ['Describe'] },
  ];
}

export interface LagReaderProps {
  /** Namespace of the Kafka cluster, where KEDA runs and the User Operator writes the user's Secret. */
  readonly namespace: string;
  /** Kafka resource the user belongs to. */
  readonly clusterName: string;
  /** Secret holding the cluster CA certificate (`ca.crt`), renewed in place by Strimzi. */
  readonly clusterCaSecretName: string;
  /** Topic whose lag is read. */
  readonly topic: string;
  /** Consumer group whose lag is read. */
  readonly group: string;
  /** How long an apply may wait for the user, e.g. `10m`. */
  readonly readyTimeout: string;
  /** The cluster, which must exist first. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The lag reader: a SCRAM user with Describe on the topic and the group, and the
 * ClusterTriggerAuthentication through which KEDA logs in as it over the TLS listener. KEDA
 * reads the referenced Secrets in its own namespace, which is the cluster's: the password the
 * User Operator generated and the CA the Cluster Operator renews are read where Strimzi keeps
 * them, so neither passes through Terraform state, and a renewed CA is what the next scaler
 * connection trusts.
 */
export class LagReader extends Construct {
  readonly user: ScramUser;
  /** Name of the ClusterTriggerAuthentication, for the ScaledObject's `authenticationRef`. */
  readonly authenticationName: string;

  constructor(scope: Construct, id: string, props: LagReaderProps) {
    super(scope, id);
    this.user = new ScramUser(this, 'user', {
      name: LAG_READER_USER,
      namespace: props.namespace,
      clusterName: props.clusterName,
      acls: lagReaderAcls(props.topic, props.group),
      // Like every user, ready before the deploy ends: KEDA reads its password Secret in place.
      waitReady: true,
      readyTimeout: props.readyTimeout,
      dependsOn: props.dependsOn,
    });
    // Not secret: who logs in and how. KEDA takes these only from Secrets.
    const identity = new SecretV1(this, 'identity', {
      metadata: { name: `${LAG_READER_USER}-identity`, namespace: props.namespace, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
      type: 'Opaque',
      data: { username: LAG_READER_USER, sasl: 'scram_sha512', tls: 'enable' },
    });
    const auth = new Manifest(this, 'trigger-authentication', {
      manifest: {
        apiVersion: KEDA_API_VERSION,
        kind: 'ClusterTriggerAuthentication',
        metadata: { name: `kafka-platform-${LAG_READER_USER}`, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
        spec: {
          secretTargetRef: [
            { parameter: 'username', name: identity.metadata.name, key: 'username' },
            { parameter: 'sasl', name: identity.metadata.name, key: 'sasl' },
            { parameter: 'tls', name: identity.metadata.name, key: 'tls' },
            { parameter: 'password', name: this.user.userName, key: 'password' },
            { parameter: 'ca', name: props.clusterCaSecretName, key: 'ca.crt' },
          ],
        },
      },
    });
    this.authenticationName = auth.getStringAttribute('manifest.metadata.name');
  }
}

export interface ConsumerScaledObjectProps {
  /** Namespace of the consumer Deployment. */
  readonly namespace: string;
  /** The Deployment scaled. */
  readonly deploymentName: string;
  /** In-cluster TLS bootstrap address. */
  readonly bootstrapServers: string;
  /** Topic and group whose lag drives the count. */
  readonly topic: string;
  readonly group: string;
  /** Partitions of the topic: the most consumers that can all be busy. */
  readonly partitions: number;
  /** Fewest replicas (at most `partitions`). */
  readonly minReplicas: number;
  /** Lag per replica KEDA aims at: 10 consumers for a lag of 10 x this (never more than `partitions`). */
  readonly lagThreshold: number;
  /** Name of the ClusterTriggerAuthentication of the lag reader. */
  readonly authenticationName: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The consumer's ScaledObject: KEDA makes and feeds its HPA from the group's lag. */
export class ConsumerScaledObject extends Construct {
  readonly manifest: Manifest;

  constructor(scope: Construct, id: string, props: ConsumerScaledObjectProps) {
    super(scope, id);
    this.manifest = new Manifest(this, 'scaled-object', {
      manifest: {
        apiVersion: KEDA_API_VERSION,
        kind: 'ScaledObject',
        metadata: { name: props.deploymentName, namespace: props.namespace, labels: { ...props.labels } },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.deploymentName },
          minReplicaCount: props.minReplicas,
          // More members than partitions would sit idle (the scaler also caps at the partitions).
          maxReplicaCount: props.partitions,
          pollingInterval: 30,
          advanced: {
            horizontalPodAutoscalerConfig: {
              // Every scale step rebalances the group: scale down slowly.
              behavior: { scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] } },
            },
          },
          triggers: [
            {
              type: 'kafka',
              metadata: {
                bootstrapServers: props.bootstrapServers,
                consumerGroup: props.group,
                topic: props.topic,
                lagThreshold: String(props.lagThreshold),
                // A group that has not committed yet counts its whole backlog.
                offsetResetPolicy: 'earliest',
                allowIdleConsumers: 'false',
              },
              authenticationRef: { name: props.authenticationName, kind: 'ClusterTriggerAuthentication' },
            },
          ],
        },
      },
    });
  }
}
