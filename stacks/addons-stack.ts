import { Construct } from 'constructs';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { versions } from '../config';
import { HelmChart } from '../modules/helm-chart';
import { KubernetesProviders } from '../modules/kubernetes-providers';
import { PlatformStack, PlatformStackProps } from '../modules/platform-stack';

export type AddonsStackProps = PlatformStackProps;

/** Cluster add-ons every other stack relies on: monitoring CRDs and Prometheus. */
export class AddonsStack extends PlatformStack {
  /** Namespace of the monitoring add-ons (Prometheus selects monitors from every namespace). */
  readonly monitoringNamespace: string;

  constructor(scope: Construct, id: string, props: AddonsStackProps) {
    super(scope, id, props);
    const { env } = props;
    const k8s = env.kubernetes!;
    new KubernetesProviders(this, 'providers', {
      configPath: k8s.configPath,
      context: k8s.context,
      kubernetesProvider: versions.providers.kubernetes,
      helmProvider: versions.providers.helm,
    });

    const namespace = new NamespaceV1(this, 'monitoring-namespace', {
      metadata: { name: env.namespaces.monitoring, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
    });
    this.monitoringNamespace = namespace.metadata.name;

    new HelmChart(this, 'kube-prometheus-stack', {
      releaseName: 'kube-prometheus-stack',
      namespace: this.monitoringNamespace,
      chart: versions.charts.kubePrometheusStack,
      values: {
        prometheus: {
          prometheusSpec: {
            // Pick up monitors and rules from every namespace, not only this release's.
            podMonitorSelectorNilUsesHelmValues: false,
            serviceMonitorSelectorNilUsesHelmValues: false,
            ruleSelectorNilUsesHelmValues: false,
          },
        },
      },
    });
  }
}
