import { Construct } from 'constructs';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { EnvironmentName, versions } from '../config';
import { KubernetesProviders } from '../modules/kubernetes-providers';
import { Alloy } from '../modules/observability/alloy';
import { KafkaDashboards } from '../modules/observability/dashboards';
import { AlertRoutingProps, KubePrometheusStack } from '../modules/observability/kube-prometheus-stack';
import { Loki, lokiUrl } from '../modules/observability/loki';
import { Tempo, tempoUrl } from '../modules/observability/tempo';
import { PlatformStack, PlatformStackProps } from '../modules/platform-stack';
import { Keda } from '../modules/keda';
import { StorageClassCheck } from '../modules/storage-class-check';
import { StrimziOperator } from '../modules/strimzi-operator';

/** Sizing and alert routing of the observability add-ons. */
export interface ObservabilitySettings {
  /** Prometheus TSDB retention, e.g. `15d`. */
  readonly prometheusRetention: string;
  /** Prometheus volume size. */
  readonly prometheusStorageSize: string;
  /** How long Loki keeps logs, e.g. `168h`. */
  readonly lokiRetention: string;
  /** Loki volume size. */
  readonly lokiStorageSize: string;
  /** How long Tempo keeps traces, e.g. `72h`. */
  readonly tempoRetention: string;
  /** Tempo volume size. */
  readonly tempoStorageSize: string;
  /** Alertmanager receiver; its secret is a sensitive Terraform variable. */
  readonly alerting: AlertRoutingProps;
}

/** Per-environment defaults (the `local` environment has no Kubernetes add-ons). */
export const OBSERVABILITY_DEFAULTS: Readonly<Record<EnvironmentName, ObservabilitySettings>> = {
  local: { prometheusRetention: '1d', prometheusStorageSize: '1Gi', lokiRetention: '24h', lokiStorageSize: '1Gi', tempoRetention: '24h', tempoStorageSize: '1Gi', alerting: { receiver: 'webhook' } },
  dev: { prometheusRetention: '3d', prometheusStorageSize: '5Gi', lokiRetention: '72h', lokiStorageSize: '5Gi', tempoRetention: '72h', tempoStorageSize: '5Gi', alerting: { receiver: 'webhook' } },
  prod: { prometheusRetention: '15d', prometheusStorageSize: '50Gi', lokiRetention: '168h', lokiStorageSize: '50Gi', tempoRetention: '168h', tempoStorageSize: '50Gi', alerting: { receiver: 'webhook' } },
};

export interface AddonsStackProps extends PlatformStackProps {
  /** Overrides of the environment's observability defaults (e.g. `alerting: { receiver: 'slack' }`). */
  readonly observability?: Partial<ObservabilitySettings>;
}

/**
 * Cluster add-ons every other stack relies on, deployed first: the operators and their CRDs
 * (kube-prometheus-stack, Strimzi), Loki and Tempo with Grafana Alloy, dashboards and alert routing.
 */
export class AddonsStack extends PlatformStack {
  /** Namespace of the monitoring add-ons (Prometheus selects monitors from every namespace). */
  readonly monitoringNamespace: string;
  /** Namespace of the Strimzi operator and the Kafka cluster it runs (used by kafka-stack). */
  readonly kafkaNamespace: string;

  constructor(scope: Construct, id: string, props: AddonsStackProps) {
    super(scope, id, props);
    const { env } = props;
    KubernetesProviders.forEnvironment(this, env);

    const namespace = new NamespaceV1(this, 'monitoring-namespace', {
      metadata: { name: env.namespaces.monitoring, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
    });
    this.monitoringNamespace = namespace.metadata.name;

    // The class of every volume (Prometheus, Loki here; Kafka in kafka-stack), checked at plan
    // time against the cluster: a failed postcondition stops the plan, before any release waits
    // on a claim that can never bind.
    new StorageClassCheck(this, 'storage-class', {
      storageClass: env.kafka.storageClass,
      setting: `environments.${env.name}.kafka.storageClass`,
      zoneSpread: env.kubernetes!.zonalStorage,
    });

    // ---- Observability: metrics, alert routing, dashboards, logs, traces ----
    const sizing = { ...OBSERVABILITY_DEFAULTS[env.name], ...props.observability };
    const kubePrometheusStack = new KubePrometheusStack(this, 'kube-prometheus-stack', {
      namespace: this.monitoringNamespace,
      chart: versions.charts.kubePrometheusStack,
      chartSource: env.charts,
      retention: sizing.prometheusRetention,
      storageSize: sizing.prometheusStorageSize,
      storageClass: env.kafka.storageClass,
      lokiUrl: lokiUrl(this.monitoringNamespace),
      tempoUrl: tempoUrl(this.monitoringNamespace),
      alerting: sizing.alerting,
      managedControlPlane: env.kubernetes!.managedControlPlane,
    });
    const loki = new Loki(this, 'loki', {
      namespace: this.monitoringNamespace,
      chart: versions.charts.loki,
      chartSource: env.charts,
      storageSize: sizing.lokiStorageSize,
      storageClass: env.kafka.storageClass,
      retention: sizing.lokiRetention,
      // Its chart creates a ServiceMonitor, whose CRD comes with kube-prometheus-stack:
      // installed in parallel, the first real deploy failed with "no matches for kind ServiceMonitor".
      dependsOn: [kubePrometheusStack.chart.release],
    });
    const tempo = new Tempo(this, 'tempo', {
      namespace: this.monitoringNamespace,
      chart: versions.charts.tempo,
      chartSource: env.charts,
      storageSize: sizing.tempoStorageSize,
      storageClass: env.kafka.storageClass,
      retention: sizing.tempoRetention,
      // Its ServiceMonitor's CRD comes with kube-prometheus-stack, as Loki's does.
      dependsOn: [kubePrometheusStack.chart.release],
    });
    new Alloy(this, 'alloy', {
      namespace: this.monitoringNamespace,
      chart: versions.charts.alloy,
      chartSource: env.charts,
      lokiPushUrl: loki.pushUrl,
      tempoOtlpEndpoint: tempo.otlpEndpoint,
      dependsOn: [loki.chart.release, tempo.chart.release],
    });
    new KafkaDashboards(this, 'dashboards', {
      namespace: this.monitoringNamespace,
      kafkaNamespace: env.namespaces.kafka,
      workloadsNamespace: env.namespaces.workloads,
    });

    // ---- Strimzi operator ----
    // Here, not in kafka-stack: its Kafka resources are planned against CRDs this installs.
    const strimzi = new StrimziOperator(this, 'strimzi-operator', {
      namespace: env.namespaces.kafka,
      chart: versions.charts.strimzi,
      chartSource: env.charts,
      kubeconfig: env.kubernetes!,
    });
    this.kafkaNamespace = strimzi.namespace;

    // ---- KEDA: the consumer scales on its group's lag ----
    // Beside the Kafka cluster: a ClusterTriggerAuthentication's Secrets are read in KEDA's
    // namespace, so the lag reader's password and the cluster CA are read where Strimzi writes them.
    new Keda(this, 'keda', {
      namespace: strimzi.namespace,
      chart: versions.charts.keda,
      chartSource: env.charts,
      // Its operator's PodMonitor needs the CRD kube-prometheus-stack installs.
      dependsOn: [kubePrometheusStack.chart.release],
    });
  }
}
