import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { MONITORING_API_VERSION, PodMonitorResource } from '../kafka-cluster/crds';

export interface StrimziOperatorMonitorProps {
  /** Namespace of the Strimzi Cluster Operator (the Kafka cluster's). */
  readonly namespace: string;
  /** Scrape interval, e.g. `60s`. */
  readonly interval: string;
  /** Resources that must exist first. */
  readonly dependsOn?: ITerraformDependable[];
}

/** The Cluster Operator's metrics: reconciliations, and the expiry of the CAs it manages. */
export function strimziOperatorPodMonitor(namespace: string, interval: string): PodMonitorResource {
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PodMonitor',
    metadata: { name: 'strimzi-cluster-operator', namespace, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
    spec: {
      // The labels the strimzi-kafka-operator chart puts on the operator's pods, port `http` (8080).
      selector: { matchLabels: { 'strimzi.io/kind': 'cluster-operator' } },
      podMetricsEndpoints: [{ port: 'http', path: '/metrics', interval, relabelings: [] }],
    },
  };
}

/**
 * Prometheus scrapes the Strimzi Cluster Operator, whose
 * `strimzi_certificate_expiration_timestamp_ms` the KafkaCertificateExpiring alert reads.
 */
export class StrimziOperatorMonitor extends Construct {
  readonly resource: PodMonitorResource;
  readonly manifest: Manifest;

  constructor(scope: Construct, id: string, props: StrimziOperatorMonitorProps) {
    super(scope, id);
    this.resource = strimziOperatorPodMonitor(props.namespace, props.interval);
    this.manifest = new Manifest(this, 'pod-monitor', { manifest: this.resource, dependsOn: props.dependsOn });
  }
}
