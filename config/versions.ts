/**
 * The single source of every version this project pins: Kafka, charts, images,
 * Terraform CLIs and providers. Bump here, then `cdktf diff` the one stack that
 * consumes the changed pin (see docs/upgrades.md).
 */

/** A Terraform provider built from the Go module proxy into the local filesystem mirror. */
export interface ProviderPin {
  /** Registry namespace, e.g. `hashicorp`. */
  readonly namespace: string;
  /** Provider type, e.g. `kubernetes`. */
  readonly type: string;
  /** Version written into `required_providers` and into the mirror layout. */
  readonly version: string;
  /** Go module path of the provider source. */
  readonly goModule: string;
  /** Go module version (tag or pseudo-version) that the module proxy serves. */
  readonly goVersion: string;
}

/** A Helm chart pulled from an OCI registry or chart repository. */
export interface ChartPin {
  /** Chart repository (an `oci://` URL or an HTTP chart repo). */
  readonly repository: string;
  /** Chart name inside the repository. */
  readonly chart: string;
  /** Exact chart version. */
  readonly version: string;
}

export const versions = {
  kafka: {
    /** Apache Kafka: brokers on Kubernetes (Strimzi) and the local cluster jars from Maven Central. */
    version: '4.3.1',
    /** KRaft metadata version matching `version` (Strimzi kafka-versions.yaml). */
    metadataVersion: '4.3-IV0',
    /** Scala build of the broker jar on Maven Central. */
    scala: '2.13',
  },
  /**
   * Prometheus JMX exporter java agent (Maven Central) for the local cluster's nodes, reading
   * modules/kafka-cluster/kafka-metrics.yaml. On Kubernetes, Strimzi ships its own agent.
   */
  jmxExporter: {
    groupId: 'io.prometheus.jmx',
    artifactId: 'jmx_prometheus_javaagent',
    version: '1.0.1',
  },
  /** Kafka versions the pinned Strimzi operator supports (its kafka-versions.yaml, `supported: true`). */
  strimziSupportedKafka: {
    '4.2.0': '4.2-IV1',
    '4.2.1': '4.2-IV1',
    '4.3.0': '4.3-IV0',
    '4.3.1': '4.3-IV0',
  } as Readonly<Record<string, string>>,
  charts: {
    strimzi: {
      repository: 'oci://quay.io/strimzi-helm',
      chart: 'strimzi-kafka-operator',
      version: '1.2.0',
    },
    kubePrometheusStack: {
      repository: 'oci://ghcr.io/prometheus-community/charts',
      chart: 'kube-prometheus-stack',
      version: '88.5.3',
    },
    loki: {
      repository: 'https://grafana-community.github.io/helm-charts',
      chart: 'loki',
      version: '18.11.0',
    },
    alloy: {
      repository: 'https://grafana.github.io/helm-charts',
      chart: 'alloy',
      version: '1.11.1',
    },
  } satisfies Record<string, ChartPin>,
  images: {
    /** Distroless Node.js runtime for the producer and consumer images. */
    nodeRuntime: 'gcr.io/distroless/nodejs20-debian12:nonroot',
    /** Build stage image for the services. */
    nodeBuild: 'node:20.19.5-bookworm-slim',
    /** Official Apache Kafka image for docker/compose.yaml (same version as `kafka.version`). */
    kafka: 'apache/kafka:4.3.1',
    /** Producer and consumer image tag. */
    services: '0.1.0',
  },
  terraform: {
    /** Lowest Terraform CLI used as-is when found on PATH. */
    minimumTerraform: '1.9.0',
    /** OpenTofu built from the Go module proxy when no suitable Terraform is on PATH. */
    opentofu: { goModule: 'github.com/opentofu/opentofu', goVersion: 'v1.12.6' },
  },
  /** Tools the tests build from the Go module proxy. */
  devTools: {
    /** GitHub Actions workflow linter. */
    actionlint: { goModule: 'github.com/rhysd/actionlint', goVersion: 'v1.7.12', package: './cmd/actionlint' },
  },
  providers: {
    kubernetes: {
      namespace: 'hashicorp',
      type: 'kubernetes',
      version: '3.2.1',
      goModule: 'github.com/hashicorp/terraform-provider-kubernetes',
      goVersion: 'v1.13.4-0.20260821094251-3a33fb6cc605',
    },
    helm: {
      namespace: 'hashicorp',
      type: 'helm',
      version: '3.2.0',
      goModule: 'github.com/hashicorp/terraform-provider-helm',
      goVersion: 'v1.3.3-0.20260629194918-a4f1c1d8b008',
    },
    kafka: {
      namespace: 'Mongey',
      type: 'kafka',
      version: '0.13.1',
      goModule: 'github.com/Mongey/terraform-provider-kafka',
      goVersion: 'v0.13.1',
    },
  } satisfies Record<string, ProviderPin>,
} as const;

/** Literal types widened, so tests and validation can pass variations of the pins. */
type Widen<T> = T extends string ? string : T extends number ? number : { readonly [K in keyof T]: Widen<T[K]> };
export type Versions = Widen<typeof versions>;
