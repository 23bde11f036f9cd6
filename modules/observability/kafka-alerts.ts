import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { AlertRule, PrometheusRuleResource, RuleGroup, RuleSetOptions, finishRule, promql } from './prometheus-rules';

/**
 * Alerts on the Kafka cluster. Metric names come from modules/kafka-cluster/kafka-metrics.yaml
 * (JMX exporter), Kafka Exporter (`kafka_consumergroup_lag`), the kubelet
 * (`kubelet_volume_stats_*`) and kube-state-metrics (`kube_pod_container_status_waiting_reason`).
 */
export interface KafkaAlertOptions extends RuleSetOptions {
  /** Brokers the cluster should have running; fewer is a broker down. */
  readonly expectedBrokers: number;
  /** Total lag (messages) of one group on one topic above which growing lag alerts. Default 1000. */
  readonly consumerLagThreshold?: number;
  /** Free-space ratio of a broker volume below which the disk counts as almost full. Default 0.15. */
  readonly diskFreeRatio?: number;
  /** Regular expression of the broker data PVC names (Strimzi: `data-...`). Default `data-.*`. */
  readonly dataVolumeClaimPattern?: string;
}

export const KAFKA_ALERT_GROUP = 'kafka-platform.kafka';

/** Days before a Strimzi CA expires at which KafkaCertificateExpiring fires (Strimzi's default renewal window). */
export const CERTIFICATE_WARNING_DAYS = 30;

/** The Kafka alert rules; `forOverride` only from local tests. */
export function kafkaAlertGroups(options: KafkaAlertOptions): RuleGroup[] {
  const ns = `namespace="${options.namespace}"`;
  const lag = options.consumerLagThreshold ?? 1000;
  const free = options.diskFreeRatio ?? 0.15;
  const pvc = options.dataVolumeClaimPattern ?? 'data-.*';
  const rules: AlertRule[] = [
    {
      alert: 'KafkaUnderReplicatedPartitions',
      // Summed over brokers: each leader reports its own partitions.
      expr: `sum by (namespace) (kafka_server_replicamanager_underreplicatedpartitions{${ns}}) > 0`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Kafka has under-replicated partitions',
        description: '{{ $value }} partition(s) in namespace {{ $labels.namespace }} have fewer in-sync replicas than replicas; one more failure may stop writes or lose data.',
      },
    },
    {
      alert: 'KafkaOfflinePartitions',
      expr: `sum by (namespace) (kafka_controller_kafkacontroller_offlinepartitionscount{${ns}}) > 0`,
      for: '1m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Kafka has offline partitions',
        description: '{{ $value }} partition(s) in namespace {{ $labels.namespace }} have no leader: they can be neither written nor read.',
      },
    },
    {
      alert: 'KafkaActiveControllerCount',
      // Only the active KRaft controller reports 1; no series at all counts as 0 controllers.
      expr: promql(`
        sum by (namespace) (kafka_controller_kafkacontroller_activecontrollercount{${ns}}) != 1
        or
        absent(kafka_controller_kafkacontroller_activecontrollercount{${ns}}) * 0
      `),
      for: '1m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Kafka does not have exactly one active controller',
        description: 'Namespace {{ $labels.namespace }} reports {{ $value }} active KRaft controller(s); without exactly one, metadata changes (leader elections, topic changes) stall.',
      },
    },
    {
      alert: 'KafkaUnderMinIsrPartitions',
      expr: `sum by (namespace) (kafka_server_replicamanager_underminisrpartitioncount{${ns}}) > 0`,
      for: '1m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Kafka partitions are below min.insync.replicas',
        description: '{{ $value }} partition(s) in namespace {{ $labels.namespace }} have fewer in-sync replicas than min.insync.replicas: producers with acks=all are rejected.',
      },
    },
    {
      alert: 'KafkaBrokerDown',
      // Fenced brokers: registered but not heartbeating (as the active controller sees it).
      // Running brokers: a broker whose pod is gone exports nothing, so count the ones that do.
      expr: promql(`
        max by (namespace) (kafka_controller_kafkacontroller_fencedbrokercount{${ns}}) > 0
        or
        count by (namespace) (kafka_server_kafkaserver_brokerstate{${ns}} == 3) < ${options.expectedBrokers}
        or
        absent(kafka_server_kafkaserver_brokerstate{${ns}})
      `),
      for: '2m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'A Kafka broker is down',
        description: `Namespace {{ $labels.namespace }}: the active controller reports fenced brokers, or fewer than ${options.expectedBrokers} brokers report RUNNING.`,
      },
    },
    {
      alert: 'KafkaDiskAlmostFull',
      expr: promql(`
        kubelet_volume_stats_available_bytes{${ns}, persistentvolumeclaim=~"${pvc}"}
          / kubelet_volume_stats_capacity_bytes{${ns}, persistentvolumeclaim=~"${pvc}"}
        < ${free}
      `),
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'A Kafka data volume is almost full',
        description: `Volume {{ $labels.persistentvolumeclaim }} in namespace {{ $labels.namespace }} has {{ $value | humanizePercentage }} free (threshold ${free * 100}%); a full disk takes the broker offline.`,
      },
    },
    {
      alert: 'KafkaConsumerLagTooHigh',
      // Large and still growing: a burst that the group is already draining does not page.
      expr: promql(`
        sum by (namespace, consumergroup, topic) (kafka_consumergroup_lag{${ns}}) > ${lag}
        and
        sum by (namespace, consumergroup, topic) (delta(kafka_consumergroup_lag{${ns}}[10m])) > 0
      `),
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'A consumer group is falling behind',
        description: `Group {{ $labels.consumergroup }} lags {{ $value }} messages on topic {{ $labels.topic }} (namespace {{ $labels.namespace }}), above ${lag} and growing for 10 minutes.`,
      },
    },
    {
      alert: 'KafkaCertificateExpiring',
      // The Cluster Operator's gauge for the cluster and clients CAs it manages. Strimzi renews a
      // CA once it is inside its renewal window (30 days by default): still under 30 days an
      // hour later, the renewal did not happen, with the whole window left to act.
      expr: promql(`
        min by (resource_namespace, cluster, type) (strimzi_certificate_expiration_timestamp_ms{resource_namespace="${options.namespace}"}) / 1000 - time()
        < ${CERTIFICATE_WARNING_DAYS} * 86400
      `),
      for: '1h',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'A Strimzi CA certificate expires within 30 days and was not renewed',
        description:
          'The {{ $labels.type }} certificate of Kafka cluster {{ $labels.cluster }} (namespace {{ $labels.resource_namespace }}) expires in {{ $value | humanizeDuration }}; Strimzi should have renewed it on entering its renewal window. Clients must trust the renewed CA before the old one expires.',
      },
    },
    {
      alert: 'KafkaPodCrashLooping',
      expr: `max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{${ns}, reason="CrashLoopBackOff"}[5m])) >= 1`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'A pod in the Kafka namespace is crash-looping',
        description: 'Container {{ $labels.container }} of pod {{ $labels.pod }} (namespace {{ $labels.namespace }}) keeps restarting (CrashLoopBackOff).',
      },
    },
  ];
  return [{ name: KAFKA_ALERT_GROUP, rules: rules.map((r) => finishRule(r, options)) }];
}

export interface KafkaAlertRulesProps {
  /** Namespace of the Kafka cluster; the PrometheusRule is created there and watches only it. */
  readonly namespace: string;
  /** Extra labels on the PrometheusRule object. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Brokers the cluster should have running (the environment's `kafka.brokers`). */
  readonly expectedBrokers: number;
  /** Lag (messages) above which growing consumer lag alerts. Default 1000. */
  readonly consumerLagThreshold?: number;
  /** Free-space ratio of a broker volume that counts as almost full. Default 0.15. */
  readonly diskFreeRatio?: number;
  /** Where docs/runbooks.md is browsable; default the repository-relative path. */
  readonly runbookBaseUrl?: string;
  /** Resources to create first, e.g. the namespace (the rule names it as a plain string). */
  readonly dependsOn?: ITerraformDependable[];
}

/** The Kafka alerts as a PrometheusRule, for kafka-stack. */
export class KafkaAlertRules extends Construct {
  readonly rule: PrometheusRuleResource;

  constructor(scope: Construct, id: string, props: KafkaAlertRulesProps) {
    super(scope, id);
    this.rule = new PrometheusRuleResource(this, 'rule', {
      name: 'kafka-platform-kafka-alerts',
      namespace: props.namespace,
      labels: props.labels ?? {},
      dependsOn: props.dependsOn,
      groups: kafkaAlertGroups({
        namespace: props.namespace,
        expectedBrokers: props.expectedBrokers,
        consumerLagThreshold: props.consumerLagThreshold,
        diskFreeRatio: props.diskFreeRatio,
        runbookBaseUrl: props.runbookBaseUrl,
      }),
    });
  }
}
