import { versions } from './versions';

/** Environments this project knows. `local` runs without Kubernetes. */
export const ENVIRONMENT_NAMES = ['local', 'dev', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** Where a stack keeps its Terraform state. Connection secrets come from the environment, never from here. */
export type StateBackendConfig =
  | {
      /** State files on disk, one per stack, under `directory`. */
      readonly type: 'local';
      /** Directory (relative to the project root) holding `<stack>.tfstate`. */
      readonly directory: string;
    }
  | {
      /** PostgreSQL; the connection string is read from `PG_CONN_STR` at init time. */
      readonly type: 'pg';
      /** Schema prefix; each stack gets `<prefix>_<stack>` so states never mix. */
      readonly schemaPrefix: string;
    };

/** The Kafka cluster an environment runs. */
export interface KafkaClusterConfig {
  /** Name of the Strimzi `Kafka` resource (also the prefix of its Services and Secrets). */
  readonly clusterName: string;
  /** Apache Kafka version; must be supported by the pinned Strimzi operator. */
  readonly version: string;
  /** KRaft metadata version; never ahead of `version`. */
  readonly metadataVersion: string;
  /** Number of brokers (at least 3 outside `local` for replication factor 3). */
  readonly brokers: number;
  /** Dedicated KRaft controllers; 0 means brokers also act as controllers (combined roles). */
  readonly controllers: number;
  /** Persistent volume size per broker, e.g. `100Gi`. */
  readonly storageSize: string;
  /** Storage class for broker and controller volumes; undefined uses the cluster default. */
  readonly storageClass?: string;
  /** How off-cluster clients and the Terraform Kafka provider reach the brokers. */
  readonly externalListener: 'nodeport' | 'loadbalancer' | 'none';
  /** Run Cruise Control for rebalancing. */
  readonly cruiseControl: boolean;
}

/** The local, Kubernetes-free cluster run from Maven Central jars by `npm run kafka:up`. */
export interface LocalClusterConfig {
  /** Number of combined controller+broker nodes. */
  readonly nodes: number;
  /** Client port of node 1; node N listens on `clientBasePort + N - 1`. */
  readonly clientBasePort: number;
  /** Controller port of node 1; node N listens on `controllerBasePort + N - 1`. */
  readonly controllerBasePort: number;
}

/** Everything that differs between environments, in one typed object. */
export interface EnvironmentConfig {
  /** Environment name; also the suffix of state keys. */
  readonly name: EnvironmentName;
  /** Whether the environment runs on Kubernetes (`local` does not). */
  readonly kubernetes?: {
    /** kubeconfig path used by the kubernetes and helm providers. */
    readonly configPath: string;
    /** kubeconfig context; undefined uses the current context. */
    readonly context?: string;
  };
  /** Namespaces of the three layers. */
  readonly namespaces: {
    readonly monitoring: string;
    readonly kafka: string;
    readonly workloads: string;
  };
  /** The Kafka cluster. */
  readonly kafka: KafkaClusterConfig;
  /** The local cluster (only meaningful for `local`, used by tests and `npm start`). */
  readonly localCluster: LocalClusterConfig;
  /** Terraform state backend for every stack of the environment. */
  readonly backend: StateBackendConfig;
}

const namespaces = { monitoring: 'monitoring', kafka: 'kafka', workloads: 'workloads' } as const;
const localCluster: LocalClusterConfig = { nodes: 3, clientBasePort: 29092, controllerBasePort: 29192 };
const kafkaDefaults = {
  clusterName: 'platform',
  version: versions.kafka.version,
  metadataVersion: versions.kafka.metadataVersion,
} as const;

export const environments: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  local: {
    name: 'local',
    namespaces,
    kafka: {
      ...kafkaDefaults,
      brokers: 3,
      controllers: 0,
      storageSize: '1Gi',
      externalListener: 'none',
      cruiseControl: false,
    },
    localCluster,
    backend: { type: 'local', directory: 'state/local' },
  },
  dev: {
    name: 'dev',
    kubernetes: { configPath: '~/.kube/config' },
    namespaces,
    kafka: {
      ...kafkaDefaults,
      // Combined roles: a kind/minikube laptop cluster cannot afford six JVMs.
      brokers: 3,
      controllers: 0,
      storageSize: '10Gi',
      externalListener: 'nodeport',
      cruiseControl: false,
    },
    localCluster,
    backend: { type: 'local', directory: 'state/dev' },
  },
  prod: {
    name: 'prod',
    kubernetes: { configPath: '~/.kube/config' },
    namespaces,
    kafka: {
      ...kafkaDefaults,
      // Dedicated controllers keep the quorum stable while brokers roll or rebalance.
      brokers: 3,
      controllers: 3,
      storageSize: '100Gi',
      storageClass: 'standard',
      externalListener: 'loadbalancer',
      cruiseControl: true,
    },
    localCluster,
    backend: { type: 'pg', schemaPrefix: 'kafka_platform_prod' },
  },
};
