import { ContainerResources, KafkaClusterConfig, KubernetesPlatform } from '../../config';
import {
  ConfigMapKeyRef,
  GenericListener,
  KafkaNodePoolResource,
  KafkaResource,
  NodeRole,
  ObjectMeta,
  PersistentClaimVolume,
  ResourceRequirements,
  STRIMZI_API_VERSION,
  TopologySpreadConstraint,
} from './crds';
import { externalListenerAccess, externalServiceTemplates } from './external-access';

/** Port of the in-cluster TLS + SCRAM listener that the workloads use. */
export const INTERNAL_TLS_PORT = 9093;
/** Port of the off-cluster TLS + SCRAM listener (NodePort or LoadBalancer). */
export const EXTERNAL_PORT = 9094;
/** Name of the external listener (in `status.listeners` too). */
export const EXTERNAL_LISTENER = 'external';
/** Node label naming the availability zone: brokers take it as `broker.rack`. */
export const ZONE_TOPOLOGY_KEY = 'topology.kubernetes.io/zone';
export const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';
/** Label every Strimzi resource and pod carries with its cluster's name. */
export const CLUSTER_LABEL = 'strimzi.io/cluster';
/** Label Strimzi puts on the pods of a node pool. */
export const POOL_LABEL = 'strimzi.io/pool-name';

const PART_OF = { 'app.kubernetes.io/part-of': 'kafka-platform' } as const;

/** Service name of a cluster's bootstrap address (all listeners). */
export const bootstrapServiceName = (cluster: string): string => `${cluster}-kafka-bootstrap`;
/** Secret holding the public cluster CA certificate clients must trust. */
export const clusterCaCertSecretName = (cluster: string): string => `${cluster}-cluster-ca-cert`;
/** In-cluster bootstrap address of the TLS listener. */
export const internalBootstrapAddress = (cluster: string, namespace: string): string =>
  `${bootstrapServiceName(cluster)}.${namespace}.svc:${INTERNAL_TLS_PORT}`;

/** Everything the Kafka and KafkaNodePool resources are built from. */
export interface KafkaClusterSpec {
  /** Namespace of the cluster (watched by the Strimzi operator). */
  readonly namespace: string;
  /** The environment's Kafka configuration. */
  readonly kafka: KafkaClusterConfig;
  /** User name of the Kafka super user (the Terraform Kafka provider's principal). */
  readonly adminUser: string;
  /** ConfigMap key holding the JMX Prometheus exporter rules. */
  readonly metricsConfig: ConfigMapKeyRef['configMapKeyRef'];
  /** The cloud the cluster runs on: the external load balancer's annotations. Default `generic`. */
  readonly platform?: KubernetesPlatform;
  /**
   * Host the NodePort listener's brokers advertise and name in their certificates (a literal or
   * a Terraform reference); defaults to `kafka.nodePort.advertisedHost`.
   */
  readonly externalAdvertisedHost?: string;
}

/** One node pool of the cluster. */
export interface NodePoolPlan {
  readonly name: string;
  readonly roles: readonly NodeRole[];
  readonly replicas: number;
  readonly storageSize: string;
  readonly resources: ContainerResources;
  /** Node ids the pool takes (Strimzi `next-node-ids`); keeps broker ids stable for rebalances. */
  readonly nodeIds?: string;
}

/**
 * Dedicated controllers and brokers when the environment has controllers, otherwise one
 * pool of combined controller+broker nodes.
 */
export function nodePoolPlan(kafka: KafkaClusterConfig): NodePoolPlan[] {
  if (kafka.controllers === 0) {
    return [{ name: 'combined', roles: ['controller', 'broker'], replicas: kafka.brokers, storageSize: kafka.storageSize, resources: kafka.resources.brokers }];
  }
  return [
    {
      name: 'controllers',
      roles: ['controller'],
      replicas: kafka.controllers,
      storageSize: kafka.controllerStorageSize ?? kafka.storageSize,
      resources: kafka.resources.controllers,
      nodeIds: '[100-199]',
    },
    { name: 'brokers', roles: ['broker'], replicas: kafka.brokers, storageSize: kafka.storageSize, resources: kafka.resources.brokers, nodeIds: '[0-99]' },
  ];
}

function requirements(r: ContainerResources): ResourceRequirements {
  return { requests: { ...r.requests }, limits: { ...r.limits } };
}

function meta(name: string, namespace: string, extra: Omit<ObjectMeta, 'name' | 'namespace'> = {}): ObjectMeta {
  return { name, namespace, ...extra, labels: { ...PART_OF, ...extra.labels } };
}

/**
 * One pod per zone and per node within each pool. Per pool, not per cluster: spreading all
 * six prod pods together could put two controllers in one zone and lose the quorum with it.
 */
export function poolSpreadConstraints(cluster: string, pool: string): TopologySpreadConstraint[] {
  const labelSelector = { matchLabels: { [CLUSTER_LABEL]: cluster, [POOL_LABEL]: pool } };
  return [ZONE_TOPOLOGY_KEY, HOSTNAME_TOPOLOGY_KEY].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'DoNotSchedule' as const,
    labelSelector,
  }));
}

/** The KafkaNodePool resources of the cluster. */
export function buildNodePools(spec: KafkaClusterSpec): KafkaNodePoolResource[] {
  const cluster = spec.kafka.clusterName;
  return nodePoolPlan(spec.kafka).map((pool) => {
    const volume: PersistentClaimVolume = {
      id: 0,
      type: 'persistent-claim',
      size: pool.storageSize,
      ...(spec.kafka.storageClass ? { class: spec.kafka.storageClass } : {}),
      // Deleting the cluster resource must never delete the data with it.
      deleteClaim: false,
      kraftMetadata: 'shared',
    };
    return {
      apiVersion: STRIMZI_API_VERSION,
      kind: 'KafkaNodePool',
      metadata: meta(pool.name, spec.namespace, {
        labels: { [CLUSTER_LABEL]: cluster },
        ...(pool.nodeIds ? { annotations: { 'strimzi.io/next-node-ids': pool.nodeIds } } : {}),
      }),
      spec: {
        replicas: pool.replicas,
        roles: [...pool.roles],
        // JBOD with one volume: a second disk can be added later without recreating brokers.
        storage: { type: 'jbod', volumes: [volume] },
        resources: requirements(pool.resources),
        template: { pod: { topologySpreadConstraints: poolSpreadConstraints(cluster, pool.name) } },
      },
    };
  });
}

/** Node ids of the broker nodes (both plans number brokers from 0). */
export const brokerNodeIds = (kafka: KafkaClusterConfig): number[] => Array.from({ length: kafka.brokers }, (_, i) => i);

/**
 * Listeners: in-cluster TLS for workloads, plus the environment's external one if any. A
 * NodePort listener advertises one configured host for every broker (Strimzi then names it in
 * each broker certificate: host-name verification passes) on fixed node ports.
 */
export function buildListeners(kafka: KafkaClusterConfig, advertisedHost?: string): GenericListener[] {
  const scram = { type: 'scram-sha-512' as const };
  const listeners: GenericListener[] = [{ name: 'tls', port: INTERNAL_TLS_PORT, type: 'internal', tls: true, authentication: scram }];
  if (kafka.externalListener === 'nodeport') {
    if (!kafka.nodePort) throw new Error(`kafka.nodePort is required with externalListener "nodeport"`);
    const { bootstrapNodePort } = kafka.nodePort;
    // A NodePort listener gets no source ranges, only the configured NetworkPolicy peers (if any).
    const access = externalListenerAccess(kafka);
    listeners.push({
      name: EXTERNAL_LISTENER,
      port: EXTERNAL_PORT,
      type: 'nodeport',
      tls: true,
      authentication: scram,
      ...access,
      configuration: {
        ...access.configuration,
        bootstrap: { nodePort: bootstrapNodePort },
        brokers: brokerNodeIds(kafka).map((broker) => ({ broker, nodePort: bootstrapNodePort + 1 + broker })),
        // No placeholder: every broker advertises the same host, each on its own node port.
        advertisedHostTemplate: advertisedHost ?? kafka.nodePort.advertisedHost,
      },
    });
  } else if (kafka.externalListener !== 'none') {
    listeners.push({ name: EXTERNAL_LISTENER, port: EXTERNAL_PORT, type: kafka.externalListener, tls: true, authentication: scram, ...externalListenerAccess(kafka) });
  }
  return listeners;
}

/** Broker settings that make every write durable and every topic deliberate. */
export const BROKER_CONFIG = {
  'default.replication.factor': 3,
  'min.insync.replicas': 2,
  'offsets.topic.replication.factor': 3,
  'transaction.state.log.replication.factor': 3,
  'transaction.state.log.min.isr': 2,
  // Topics come only from Terraform; a typo in a client must not create one.
  'auto.create.topics.enable': false,
  'unclean.leader.election.enable': false,
  // No RackAwareReplicaSelector: it only acts for clients that send a rack (client.rack), and
  // none does (kafkajs consumers would need a rackId; pods cannot read their node's zone label).
} as const;

/** The Kafka resource: KRaft cluster-wide settings; nodes come from the node pools. */
export function buildKafka(spec: KafkaClusterSpec): KafkaResource {
  const { kafka } = spec;
  const res = kafka.resources;
  return {
    apiVersion: STRIMZI_API_VERSION,
    kind: 'Kafka',
    metadata: meta(kafka.clusterName, spec.namespace),
    spec: {
      kafka: {
        version: kafka.version,
        metadataVersion: kafka.metadataVersion,
        listeners: buildListeners(kafka, spec.externalAdvertisedHost),
        // Strimzi adds the `User:` prefix itself.
        authorization: { type: 'simple', superUsers: [spec.adminUser] },
        rack: { topologyKey: ZONE_TOPOLOGY_KEY },
        config: { ...BROKER_CONFIG },
        metricsConfig: { type: 'jmxPrometheusExporter', valueFrom: { configMapKeyRef: { ...spec.metricsConfig } } },
        // One node at a time across all pools: RF 3 / min ISR 2 and a 3-voter quorum each survive one loss.
        template: { podDisruptionBudget: { maxUnavailable: 1 }, ...externalServiceTemplates(kafka, spec.platform ?? 'generic') },
      },
      // No Topic Operator: topics belong to Terraform (docs/kafka.md).
      entityOperator: { userOperator: { resources: requirements(res.userOperator) } },
      ...(kafka.cruiseControl ? { cruiseControl: { resources: requirements(res.cruiseControl) } } : {}),
      kafkaExporter: { topicRegex: '.*', groupRegex: '.*', resources: requirements(res.kafkaExporter) },
    },
  };
}
