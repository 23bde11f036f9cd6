import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { ChartPin, ChartSourceConfig } from '../config';
import { HelmChart } from './helm-chart';

export interface KedaProps {
  /**
   * Namespace of the release. KEDA reads the Secrets of a ClusterTriggerAuthentication in its
   * own namespace, so it runs beside the Kafka cluster: the lag reader's password (written by
   * the User Operator) and the cluster CA (renewed by the Cluster Operator) are read where
   * Strimzi keeps them, never copied.
   */
  readonly namespace: string;
  /** Pinned keda chart (versions.charts.keda). */
  readonly chart: ChartPin;
  /** Where the chart comes from; default its repository. */
  readonly chartSource?: ChartSourceConfig;
  /** Resources that must exist first (the namespace). */
  readonly dependsOn?: ITerraformDependable[];
}

/** What one KEDA component may use; the chart's defaults (1 CPU, 1000Mi) are sized for many scalers. */
const resources = (memory: string) => ({ requests: { cpu: '50m', memory }, limits: { cpu: '500m', memory } });

/**
 * KEDA: the operator that turns a ScaledObject into an HPA fed by its scalers, the external
 * metrics API server the HPA reads, and the admission webhooks; with its CRDs (ScaledObject,
 * ClusterTriggerAuthentication, ...), which workloads-stack and kafka-stack plan against.
 */
export class Keda extends Construct {
  readonly chart: HelmChart;
  readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: KedaProps) {
    super(scope, id);
    this.values = {
      crds: { install: true },
      resources: { operator: resources('256Mi'), metricServer: resources('256Mi'), webhooks: resources('128Mi') },
      // Prometheus (addons-stack) scrapes the operator's scaler metrics and errors.
      prometheus: { operator: { enabled: true, podMonitor: { enabled: true } } },
    };
    this.chart = new HelmChart(this, 'release', {
      releaseName: 'keda',
      namespace: props.namespace,
      chart: props.chart,
      source: props.chartSource,
      values: this.values,
      dependsOn: props.dependsOn,
    });
  }
}
