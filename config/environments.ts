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
      /** PostgreSQL with advisory locks; the connection string is read from `PG_CONN_STR` at init time. */
      readonly type: 'pg';
      /** Schema prefix; each stack gets `<prefix>_<stack>` so states never mix. */
      readonly schemaPrefix: string;
    }
  | {
      /** S3 with native lock files (`use_lockfile`); credentials from the AWS environment. */
      readonly type: 's3';
      /** Bucket holding the states. */
      readonly bucket: string;
      /** Bucket region. */
      readonly region: string;
      /** Key prefix; each stack's state is `<prefix>/<stack>.tfstate`. */
      readonly keyPrefix: string;
    }
  | {
      /** A Kubernetes Secret per stack (with a Lease as lock); kubeconfig from the environment config. */
      readonly type: 'kubernetes';
      /** Namespace holding the state Secrets. */
      readonly namespace: string;
      /** Suffix prefix; each stack's Secret is `tfstate-default-<prefix>-<stack>`. */
      readonly secretSuffixPrefix: string;
    };

/** Where the Helm releases get the pinned charts (`versions.charts`). */
export type ChartSourceConfig =
  | {
      /** Each chart's own OCI or HTTP repository, as pinned in config/versions.ts. */
      readonly type: 'repository';
    }
  | {
      /** A directory of `<chart>-<version>.tgz` archives: air-gapped clusters and tests. */
      readonly type: 'directory';
      /** The directory, absolute or relative to the project root. */
      readonly directory: string;
    };

/** Requests and limits of one container, as Kubernetes quantities. */
export interface ContainerResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Requests and limits of every pod the Strimzi operator runs for the cluster. */
export interface KafkaResourcesConfig {
  /** Broker nodes, and combined controller+broker nodes. */
  readonly brokers: ContainerResources;
  /** Dedicated KRaft controllers (unused with combined roles). */
  readonly controllers: ContainerResources;
  /** The entity operator's User Operator (the only one run: topics belong to Terraform). */
  readonly userOperator: ContainerResources;
  /** Cruise Control (unused when `cruiseControl` is off). */
  readonly cruiseControl: ContainerResources;
  /** Kafka Exporter (consumer lag metrics). */
  readonly kafkaExporter: ContainerResources;
}

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
  /** Persistent volume size per dedicated controller (metadata only); undefined uses `storageSize`. */
  readonly controllerStorageSize?: string;
  /** Storage class for broker and controller volumes; undefined uses the cluster default. */
  readonly storageClass?: string;
  /** How off-cluster clients and the Terraform Kafka provider reach the brokers. */
  readonly externalListener: 'nodeport' | 'loadbalancer' | 'none';
  /** Run Cruise Control for rebalancing. */
  readonly cruiseControl: boolean;
  /** Requests and limits of the cluster's pods. */
  readonly resources: KafkaResourcesConfig;
}

/** The local, Kubernetes-free cluster run from Maven Central jars by `npm run kafka:up`. */
export interface LocalClusterConfig {
  /** Number of combined controller+broker nodes. */
  readonly nodes: number;
  /** Client port of node 1; node N listens on `clientBasePort + N - 1`. */
  readonly clientBasePort: number;
  /** Controller port of node 1; node N listens on `controllerBasePort + N - 1`. */
  readonly controllerBasePort: number;
  /**
   * SASL_SSL (SCRAM-SHA-512 over TLS) port of node 1; node N listens on `saslBasePort + N - 1`.
   * Clients authenticate as the SCRAM users the topics' ACLs name, so ACLs apply to them.
   */
  readonly saslBasePort: number;
}

/** The producer and consumer pods of workloads-stack. */
export interface ServicesConfig {
  /**
   * Requests and limits of each service container. The consumer's default fetch sizes are
   * measured to catch up a backlog inside a 256Mi limit (docs/services.md, "Memory"); a smaller
   * limit needs smaller `KAFKA_FETCH_MAX_BYTES`.
   */
  readonly resources: ContainerResources;
  /**
   * Share of new traces the services keep (OTEL_TRACES_SAMPLER=parentbased_traceidratio, this
   * as OTEL_TRACES_SAMPLER_ARG), 0 to 1; error and DLQ traces are kept whatever it is. The cost
   * of the default is measured by bench/ (docs/observability.md, "Traces").
   */
  readonly traceSampleRatio: number;
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
  /**
   * Registry (host[/path]) of the producer and consumer images, without a trailing slash; the
   * images are referenced in it by digest (workloads-stack's `<service>_image_digest` inputs).
   */
  readonly imageRegistry: string;
  /** Where the add-on charts come from. */
  readonly charts: ChartSourceConfig;
  /** The producer and consumer pods. */
  readonly services: ServicesConfig;
}

const namespaces = { monitoring: 'monitoring', kafka: 'kafka', workloads: 'workloads' } as const;
const localCluster: LocalClusterConfig = { nodes: 3, clientBasePort: 29092, controllerBasePort: 29192, saslBasePort: 29492 };
const res = (requestCpu: string, limitCpu: string, memory: string): ContainerResources => ({
  // Memory request = limit: a JVM's heap is sized from it and must never be overcommitted.
  requests: { cpu: requestCpu, memory },
  limits: { cpu: limitCpu, memory },
});
/** Fits three combined nodes and their helpers on a laptop kind/minikube cluster. */
const laptopResources: KafkaResourcesConfig = {
  brokers: res('250m', '1', '1536Mi'),
  controllers: res('100m', '500m', '768Mi'),
  userOperator: res('50m', '250m', '256Mi'),
  cruiseControl: res('100m', '500m', '768Mi'),
  kafkaExporter: res('25m', '200m', '128Mi'),
};
/** One Node.js process each; the request is what an idle consumer uses, the limit what catching up a backlog needs. */
const services: ServicesConfig = {
  resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
  traceSampleRatio: 0.1,
};
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
      resources: laptopResources,
    },
    localCluster,
    backend: { type: 'local', directory: 'state/local' },
    // The local OCI registry `npm run images` starts (tools/images/registry.ts): loopback only.
    imageRegistry: '127.0.0.1:29500/kafka-platform',
    charts: { type: 'repository' },
    // Every trace on one's own machine: the backend is in memory, and the volume is small.
    services: { ...services, traceSampleRatio: 1 },
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
      resources: laptopResources,
    },
    localCluster,
    backend: { type: 'local', directory: 'state/dev' },
    // The local registry kind and minikube setups conventionally run beside the cluster.
    imageRegistry: 'localhost:5001',
    charts: { type: 'repository' },
    services,
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
      controllerStorageSize: '20Gi',
      storageClass: 'standard',
      externalListener: 'loadbalancer',
      cruiseControl: true,
      resources: {
        brokers: res('2', '4', '8Gi'),
        controllers: res('500m', '1', '2Gi'),
        userOperator: res('100m', '500m', '512Mi'),
        cruiseControl: res('500m', '1', '2Gi'),
        kafkaExporter: res('100m', '500m', '256Mi'),
      },
    },
    localCluster,
    backend: { type: 'pg', schemaPrefix: 'kafka_platform_prod' },
    imageRegistry: 'registry.example.com/kafka-platform',
    charts: { type: 'repository' },
    services,
  },
};

/** Ports and zones of the local Kubernetes control plane (`npm run k8s:up`), all on 127.0.0.1. */
export interface LocalKubernetesConfig {
  /** kube-apiserver's HTTPS port. */
  readonly apiServerPort: number;
  /** etcd client port. */
  readonly etcdClientPort: number;
  /** etcd peer port (a single member, but etcd always binds one). */
  readonly etcdPeerPort: number;
  /** kube-controller-manager's HTTPS (health and metrics) port. */
  readonly controllerManagerPort: number;
  /** kube-scheduler's HTTPS (health and metrics) port. */
  readonly schedulerPort: number;
  /** kwok's HTTP (health and metrics) port. */
  readonly kwokPort: number;
  /** One simulated node per zone (`topology.kubernetes.io/zone`). */
  readonly zones: readonly string[];
}

export const localKubernetes: LocalKubernetesConfig = {
  apiServerPort: 29643,
  etcdClientPort: 29679,
  etcdPeerPort: 29680,
  controllerManagerPort: 29657,
  schedulerPort: 29659,
  kwokPort: 29647,
  zones: ['zone-a', 'zone-b', 'zone-c'],
};

/** Client addresses of the local cluster's nodes, from its config. */
export function localBootstrapServers(cluster: LocalClusterConfig): string[] {
  return Array.from({ length: cluster.nodes }, (_, i) => `127.0.0.1:${cluster.clientBasePort + i}`);
}
