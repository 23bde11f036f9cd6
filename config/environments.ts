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
  /**
   * Storage class of every volume (brokers, controllers, Prometheus, Loki); undefined uses the
   * cluster's default class. Checked at plan time against the cluster's StorageClasses: it must
   * exist and, with `kubernetes.zonalStorage`, bind volumes only once a pod is placed
   * (`WaitForFirstConsumer`), since the pools spread over zones.
   */
  readonly storageClass?: string;
  /** How off-cluster clients and the Terraform Kafka provider reach the brokers. */
  readonly externalListener: 'nodeport' | 'loadbalancer' | 'none';
  /**
   * Who may reach the external listener, and whether its load balancer is private (the default
   * and the only sane one for brokers) or public. Required with `loadbalancer`; with `nodeport`
   * its `peers` (if any) restrict the listener too (docs/kafka.md, "The external listener").
   */
  readonly externalAccess?: ExternalAccessConfig;
  /**
   * Addresses of the NodePort external listener (required with `externalListener: 'nodeport'`,
   * refused otherwise). Strimzi puts no node address in the broker certificates of a NodePort
   * listener, so clients that verify host names (the Terraform Kafka provider) connect only
   * to an advertised host the certificates name (docs/kafka.md, "Reaching the brokers").
   */
  readonly nodePort?: {
    /**
     * DNS name or IPv4 address clients reach every node at. Each broker advertises it and its
     * certificate names it; kafka-stack's `kafka_external_host` variable overrides it per deploy.
     */
    readonly advertisedHost: string;
    /**
     * Node port of the bootstrap Service; the broker with node id N gets `bootstrapNodePort + 1 + N`.
     * Fixed, so a kind cluster can map them to the host (`extraPortMappings`).
     */
    readonly bootstrapNodePort: number;
  };
  /** Run Cruise Control for rebalancing. */
  readonly cruiseControl: boolean;
  /** Requests and limits of the cluster's pods. */
  readonly resources: KafkaResourcesConfig;
}

/** A client allowed to connect to the external listener (a Strimzi `networkPolicyPeers` entry). */
export type ListenerPeer =
  | {
      /** Addresses (CIDR), e.g. the VPC or the CI runners' subnet. */
      readonly cidr: string;
    }
  | {
      /** Pods of this namespace... */
      readonly namespace: string;
      /** ...with these labels; undefined: every pod of the namespace. */
      readonly podLabels?: Readonly<Record<string, string>>;
    };

/** Reach of the external listener (the Kafka provider of kafka-stack connects through it). */
export interface ExternalAccessConfig {
  /**
   * `private`: an internal load balancer, reachable from the VPC and the networks joined to it
   * (the cloud's internal-LB annotations, from `kubernetes.platform`). `public`: internet-facing,
   * an explicit choice that still needs `sourceRanges` naming who may connect.
   */
  readonly exposure: 'private' | 'public';
  /** CIDRs the load balancer admits (`loadBalancerSourceRanges`); the cloud firewalls the rest. */
  readonly sourceRanges: readonly string[];
  /** Who may connect at all, enforced by the NetworkPolicy Strimzi writes for the listener. */
  readonly peers: readonly ListenerPeer[];
}

/**
 * Which cloud's Kubernetes runs the environment: it decides the load balancer annotations.
 * `generic` is any other conformant cluster (kind, minikube, on-premises).
 */
export type KubernetesPlatform = 'eks' | 'gke' | 'generic';

/** Where the pods' DNS queries go, which NetworkPolicies must allow. */
export interface ClusterDnsConfig {
  /** The cluster DNS pods: `k8s-app=kube-dns` in kube-system (CoreDNS on EKS, kind, minikube; kube-dns on GKE). */
  readonly kubeDnsPods: boolean;
  /**
   * Resolver addresses outside any pod, as CIDRs: NodeLocal DNSCache's `169.254.20.10/32`,
   * GKE Cloud DNS's `169.254.169.254/32`, or a cluster's own.
   */
  readonly addresses: readonly string[];
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
  /**
   * Second SASL_SSL port of node 1 (node N: `externalBasePort + N - 1`): the listener behind a
   * Kubernetes deploy's external listener in the deploy tests, serving the broker certificates
   * the simulated Strimzi operator issues, so host-name verification is judged as on a cluster.
   */
  readonly externalBasePort: number;
  /**
   * Third SASL_SSL port of node 1 (node N: `podNetworkBasePort + N - 1`): the listener a local
   * Kubernetes' pods reach through the broker pods' addresses in the deploy test (relayed there
   * by the simulated Strimzi operator). It advertises the names dev's broker pods have
   * (`<cluster>-<pool>-<id>.<cluster>-kafka-brokers.<namespace>.svc:9093`) and serves the same
   * certificates as the EXTERNAL listener, so a pod's client verifies them as on a cluster.
   */
  readonly podNetworkBasePort: number;
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
   * The consumer's autoscaling on its group's lag (KEDA's Kafka scaler): the lag per replica it
   * aims at. Replicas stay between min(2, partitions) and the partition count of `posts`.
   */
  readonly autoscaling: { readonly lagThreshold: number };
  /**
   * Share of messages the producer traces (OTEL_TRACES_SAMPLER=parentbased_traceidratio, this
   * as OTEL_TRACES_SAMPLER_ARG), 0 to 1; the consumer continues those traces and no others
   * (config/tracing.ts), and error and DLQ traces are kept whatever it is. The cost of the
   * default is measured by bench/ (docs/observability.md, "What tracing costs").
   */
  readonly traceSampleRatio: number;
  /**
   * Node selector of the workloads namespace, `key=value[,key=value]` (the PodNodeSelector
   * admission plugin's `scheduler.alpha.kubernetes.io/node-selector` annotation): on a cluster
   * with that plugin every pod of the namespace goes to matching nodes, whatever the cluster's
   * default; a cluster without it ignores the annotation. Unset: no annotation. The local
   * Kubernetes places the services on its real node this way (docs/local-kubernetes.md).
   */
  readonly namespaceNodeSelector?: string;
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
    /** The cloud (or none) the cluster runs on: load balancer annotations. */
    readonly platform: KubernetesPlatform;
    /**
     * The control plane belongs to the cloud (EKS, GKE): its scheduler, controller manager and
     * etcd cannot be scraped, so kube-prometheus-stack neither scrapes nor alerts on them.
     */
    readonly managedControlPlane: boolean;
    /** Where the pods resolve names. */
    readonly dns: ClusterDnsConfig;
    /**
     * Nodes span zones and volumes are zonal (EBS, Persistent Disk): the StorageClass must then
     * bind a volume only once its pod is placed (`WaitForFirstConsumer`), checked at plan time.
     * False where volumes are not tied to a zone (kind, minikube, the local Kubernetes).
     */
    readonly zonalStorage: boolean;
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
const localCluster: LocalClusterConfig = { nodes: 3, clientBasePort: 29092, controllerBasePort: 29192, saslBasePort: 29492, externalBasePort: 29592, podNetworkBasePort: 29692 };
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
  // About 10 s of one consumer's measured rate (docs/services.md, "Tuning"): a backlog any longer adds a consumer.
  autoscaling: { lagThreshold: 5000 },
  // 1 %: at 10 % the kept spans cost the consumer about 13 % of its throughput (docs/observability.md, "What tracing costs").
  traceSampleRatio: 0.01,
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
    kubernetes: { configPath: '~/.kube/config', platform: 'generic', managedControlPlane: false, dns: { kubeDnsPods: true, addresses: [] }, zonalStorage: false },
    namespaces,
    kafka: {
      ...kafkaDefaults,
      // Combined roles: a kind/minikube laptop cluster cannot afford six JVMs.
      brokers: 3,
      controllers: 0,
      storageSize: '10Gi',
      externalListener: 'nodeport',
      // kind maps these node ports to 127.0.0.1 (docs/kafka.md); minikube: set kafka_external_host to `minikube ip`.
      nodePort: { advertisedHost: '127.0.0.1', bootstrapNodePort: 31092 },
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
    kubernetes: {
      configPath: '~/.kube/config',
      // EKS here; a GKE cluster says 'gke' (docs/kafka.md, "The external listener").
      platform: 'eks',
      managedControlPlane: true,
      // CoreDNS, and NodeLocal DNSCache where the cluster runs it (GKE Cloud DNS: 169.254.169.254/32).
      dns: { kubeDnsPods: true, addresses: ['169.254.20.10/32'] },
      // EBS volumes live in one zone; the pools spread over three.
      zonalStorage: true,
    },
    namespaces,
    kafka: {
      ...kafkaDefaults,
      // Dedicated controllers keep the quorum stable while brokers roll or rebalance.
      brokers: 3,
      controllers: 3,
      storageSize: '100Gi',
      controllerStorageSize: '20Gi',
      // No storageClass: the cluster's default, checked at plan time (docs/kafka.md, "Storage").
      externalListener: 'loadbalancer',
      // An internal load balancer, for the VPC only; widen `peers` and `sourceRanges` to the
      // networks that run Terraform and the off-cluster clients.
      externalAccess: { exposure: 'private', sourceRanges: ['10.0.0.0/8'], peers: [{ cidr: '10.0.0.0/8' }] },
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
  /** One simulated node per zone (`topology.kubernetes.io/zone`), with the `zones` node layout. */
  readonly zones: readonly string[];
  /**
   * `zones`: one node per entry of `zones`, labelled with it, as a cloud cluster has them.
   * `single-node`: one node without a zone label, as kind and minikube create it.
   */
  readonly nodeLayout: 'zones' | 'single-node';
  /**
   * A real node (containerd, kubelet, kube-proxy, CoreDNS, a NetworkPolicy enforcer) that
   * joins this control plane beside the simulated ones. With it, pods of namespaces without a
   * `scheduler.alpha.kubernetes.io/node-selector` annotation are kept on the simulated nodes
   * (PodNodeSelector's cluster default `type=kwok`: upstream images cannot be pulled here).
   */
  readonly realNode?: LocalNodeConfig;
}

export const localNode: LocalNodeConfig = {
  name: 'local-node',
  kubeletPort: 29660,
  kubeletReadOnlyPort: 29661,
  kubeletHealthzPort: 29662,
  containerdStreamPort: 29663,
  kubeProxyHealthzPort: 29664,
  kubeProxyMetricsPort: 29665,
  policyEnforcerMetricsPort: 29666,
  bridge: 'kp-node0',
  podSubnet: '10.245.0.0/24',
};

export const localKubernetes: LocalKubernetesConfig = {
  apiServerPort: 29643,
  etcdClientPort: 29679,
  etcdPeerPort: 29680,
  controllerManagerPort: 29657,
  schedulerPort: 29659,
  kwokPort: 29647,
  zones: ['zone-a', 'zone-b', 'zone-c'],
  nodeLayout: 'zones',
  realNode: localNode,
};

/** A real node (containerd and a kubelet) on this machine, beside the control plane's simulated ones. */
export interface LocalNodeConfig {
  /** The node's name (the kubelet's `--hostname-override`). */
  readonly name: string;
  /** The kubelet's HTTPS API port (`/pods`, `/runningpods/`, logs, exec). */
  readonly kubeletPort: number;
  /** The kubelet's unauthenticated read-only port (`/pods`, `/stats`), bound to 127.0.0.1. */
  readonly kubeletReadOnlyPort: number;
  /** The kubelet's `/healthz` port. */
  readonly kubeletHealthzPort: number;
  /** containerd's CRI streaming port (exec, attach, port-forward). */
  readonly containerdStreamPort: number;
  /** kube-proxy's `/healthz` port (127.0.0.1). */
  readonly kubeProxyHealthzPort: number;
  /** kube-proxy's `/metrics` port (127.0.0.1). */
  readonly kubeProxyMetricsPort: number;
  /** The NetworkPolicy enforcer's (kube-router's) `/metrics` port (127.0.0.1; its health port would bind every address, so it is off). */
  readonly policyEnforcerMetricsPort: number;
  /** The Linux bridge the node's pods are attached to (at most 15 characters). */
  readonly bridge: string;
  /**
   * Pod addresses (IPv4 CIDR, private): the bridge takes the first, pods the rest. Only this
   * machine routes it: pods get no default route and nothing is masqueraded or forwarded.
   */
  readonly podSubnet: string;
}


/** Client addresses of the local cluster's nodes, from its config. */
export function localBootstrapServers(cluster: LocalClusterConfig): string[] {
  return Array.from({ length: cluster.nodes }, (_, i) => `127.0.0.1:${cluster.clientBasePort + i}`);
}
