import * as fs from 'fs';
import * as path from 'path';
import { LabelSelector, MONITORING_API_VERSION, PodMonitorResource, RelabelConfig } from './crds';
import { CLUSTER_LABEL } from './kafka';

/** JMX Prometheus exporter rules for brokers and controllers, kept beside this module. */
export const KAFKA_METRICS_FILE = path.join(__dirname, 'kafka-metrics.yaml');
/** Key of the rules inside the metrics ConfigMap. */
export const KAFKA_METRICS_KEY = 'kafka-metrics-config.yaml';
/** Container port name Strimzi gives the metrics endpoint of Kafka nodes and Kafka Exporter. */
export const METRICS_PORT_NAME = 'tcp-prometheus';

/** The exporter rules, read at synth time so the ConfigMap always matches the file in git. */
export function readKafkaMetricsRules(file: string = KAFKA_METRICS_FILE): string {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: it holds the JMX exporter rules the Kafka ConfigMap is built from`);
  const text = fs.readFileSync(file, 'utf8');
  if (!/^rules:/m.test(text)) throw new Error(`${file} has no top-level "rules:" list: the JMX exporter would export nothing`);
  return text;
}

/** The PodMonitors' inputs. */
export interface PodMonitorSpec {
  /** Namespace of the cluster; the monitors live beside the pods they select. */
  readonly namespace: string;
  /** Kafka resource name. */
  readonly clusterName: string;
  /** Scrape interval, e.g. `30s`. */
  readonly interval: string;
}

/** Labels dashboards group by: node pool (role) and Kubernetes node. */
const RELABELINGS: readonly RelabelConfig[] = [
  { sourceLabels: ['__meta_kubernetes_pod_label_strimzi_io_pool_name'], targetLabel: 'pool', action: 'replace' },
  { sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node_name', action: 'replace' },
];

function podMonitor(spec: PodMonitorSpec, name: string, selector: LabelSelector): PodMonitorResource {
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PodMonitor',
    metadata: { name, namespace: spec.namespace, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
    spec: {
      selector,
      podMetricsEndpoints: [{ port: METRICS_PORT_NAME, path: '/metrics', interval: spec.interval, relabelings: RELABELINGS.map((r) => ({ ...r })) }],
    },
  };
}

/** PodMonitors for the Kafka nodes (brokers and controllers) and for Kafka Exporter. */
export function buildPodMonitors(spec: PodMonitorSpec): { readonly nodes: PodMonitorResource; readonly exporter: PodMonitorResource } {
  const cluster = spec.clusterName;
  return {
    // Only node-pool pods carry a pool name: this skips the operators and Cruise Control.
    nodes: podMonitor(spec, `${cluster}-kafka-nodes`, {
      matchLabels: { [CLUSTER_LABEL]: cluster, 'strimzi.io/kind': 'Kafka' },
      matchExpressions: [{ key: 'strimzi.io/pool-name', operator: 'Exists' }],
    }),
    exporter: podMonitor(spec, `${cluster}-kafka-exporter`, {
      matchLabels: { [CLUSTER_LABEL]: cluster, 'strimzi.io/name': `${cluster}-kafka-exporter` },
    }),
  };
}
