import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { PodMonitorResource } from './crds';
import { buildPodMonitors } from './monitoring';

export interface KafkaPodMonitorsProps {
  /** Namespace of the cluster; Prometheus selects monitors from every namespace. */
  readonly namespace: string;
  /** Kafka resource name. */
  readonly clusterName: string;
  /** Scrape interval, e.g. `30s`. */
  readonly interval: string;
  /** Resources that must exist first. */
  readonly dependsOn?: ITerraformDependable[];
}

/** Prometheus Operator PodMonitors for the Kafka nodes and Kafka Exporter (consumer lag). */
export class KafkaPodMonitors extends Construct {
  /** The objects applied, for tests. */
  readonly resources: readonly PodMonitorResource[];
  /** The PodMonitor manifests. */
  readonly manifests: readonly Manifest[];

  constructor(scope: Construct, id: string, props: KafkaPodMonitorsProps) {
    super(scope, id);
    const monitors = buildPodMonitors(props);
    this.resources = Object.values(monitors);
    this.manifests = Object.entries(monitors).map(([name, monitor]) => new Manifest(this, name, { manifest: monitor, dependsOn: props.dependsOn }));
  }
}
