/**
 * The parts of the Strimzi `kafka.strimzi.io/v1` and Prometheus Operator
 * `monitoring.coreos.com/v1` custom resources this project sets. Tests validate every
 * built object against the upstream CRD schemas, so a field missing here or misspelt
 * fails there rather than being pruned silently by the API server.
 */

export const STRIMZI_API_VERSION = 'kafka.strimzi.io/v1';
export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ResourceRequirements {
  readonly requests: Readonly<Record<string, string>>;
  readonly limits: Readonly<Record<string, string>>;
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; readonly values?: readonly string[] }[];
}

export interface TopologySpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  readonly labelSelector: LabelSelector;
}

export interface PersistentClaimVolume {
  readonly id: number;
  readonly type: 'persistent-claim';
  readonly size: string;
  readonly class?: string;
  readonly deleteClaim: boolean;
  readonly kraftMetadata?: 'shared';
}

export type ListenerType = 'internal' | 'nodeport' | 'loadbalancer';

export interface GenericListener {
  readonly name: string;
  readonly port: number;
  readonly type: ListenerType;
  readonly tls: boolean;
  readonly authentication: { readonly type: 'scram-sha-512' };
  /**
   * NodePort addresses (bootstrap, brokers, advertised host) and load balancer source ranges
   * (modules/kafka-cluster/external-access.ts).
   */
  readonly configuration?: {
    readonly bootstrap?: { readonly nodePort?: number; readonly alternativeNames?: readonly string[] };
    readonly brokers?: readonly { readonly broker: number; readonly nodePort?: number; readonly advertisedHost?: string }[];
    readonly advertisedHostTemplate?: string;
    readonly loadBalancerSourceRanges?: readonly string[];
  };
  /** Who may connect; Strimzi writes them into the brokers' NetworkPolicy. */
  readonly networkPolicyPeers?: readonly import('./external-access').NetworkPolicyPeer[];
}

export interface ConfigMapKeyRef {
  readonly configMapKeyRef: { readonly name: string; readonly key: string };
}

export interface KafkaResource {
  readonly apiVersion: typeof STRIMZI_API_VERSION;
  readonly kind: 'Kafka';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly kafka: {
      readonly version: string;
      readonly metadataVersion: string;
      readonly listeners: readonly GenericListener[];
      readonly authorization: { readonly type: 'simple'; readonly superUsers: readonly string[] };
      readonly rack: { readonly topologyKey: string };
      readonly config: Readonly<Record<string, string | number | boolean>>;
      readonly metricsConfig: { readonly type: 'jmxPrometheusExporter'; readonly valueFrom: ConfigMapKeyRef };
      readonly template: {
        readonly podDisruptionBudget: { readonly maxUnavailable: number };
        readonly externalBootstrapService?: import('./external-access').ServiceTemplate;
        readonly perPodService?: import('./external-access').ServiceTemplate;
      };
    };
    readonly entityOperator: {
      readonly userOperator: { readonly resources: ResourceRequirements };
    };
    readonly cruiseControl?: { readonly resources: ResourceRequirements };
    readonly kafkaExporter: {
      readonly topicRegex: string;
      readonly groupRegex: string;
      readonly resources: ResourceRequirements;
    };
  };
}

export type NodeRole = 'controller' | 'broker';

export interface KafkaNodePoolResource {
  readonly apiVersion: typeof STRIMZI_API_VERSION;
  readonly kind: 'KafkaNodePool';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly replicas: number;
    readonly roles: readonly NodeRole[];
    readonly storage: { readonly type: 'jbod'; readonly volumes: readonly PersistentClaimVolume[] };
    readonly resources: ResourceRequirements;
    readonly template: { readonly pod: { readonly topologySpreadConstraints: readonly TopologySpreadConstraint[] } };
  };
}

export type AclOperation = 'Read' | 'Write' | 'Create' | 'Delete' | 'Alter' | 'Describe' | 'ClusterAction' | 'AlterConfigs' | 'DescribeConfigs' | 'IdempotentWrite' | 'All';

export interface AclRule {
  readonly resource:
    | { readonly type: 'topic' | 'group' | 'transactionalId'; readonly name: string; readonly patternType: 'literal' | 'prefix' }
    | { readonly type: 'cluster' };
  readonly operations: readonly AclOperation[];
}

export interface KafkaUserResource {
  readonly apiVersion: typeof STRIMZI_API_VERSION;
  readonly kind: 'KafkaUser';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly authentication: {
      readonly type: 'scram-sha-512';
      readonly password?: { readonly valueFrom: { readonly secretKeyRef: { readonly name: string; readonly key: string } } };
    };
    readonly authorization?: { readonly type: 'simple'; readonly acls: readonly AclRule[] };
  };
}

export interface RelabelConfig {
  readonly sourceLabels?: readonly string[];
  readonly targetLabel?: string;
  readonly action?: 'replace' | 'labelmap' | 'labeldrop' | 'keep' | 'drop';
  readonly regex?: string;
  readonly replacement?: string;
}

export interface PodMonitorResource {
  readonly apiVersion: typeof MONITORING_API_VERSION;
  readonly kind: 'PodMonitor';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly selector: LabelSelector;
    readonly podMetricsEndpoints: readonly { readonly port: string; readonly path: string; readonly interval: string; readonly relabelings: readonly RelabelConfig[] }[];
  };
}
