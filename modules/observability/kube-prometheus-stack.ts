import { Construct } from 'constructs';
import { TerraformVariable } from 'cdktf';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ChartPin, ChartSourceConfig } from '../../config';
import { HelmChart } from '../helm-chart';
import { DASHBOARD_LABEL, escapeTerraformTemplate } from './dashboards';

/** Where Alertmanager sends notifications. */
export type AlertReceiverType = 'webhook' | 'slack' | 'pagerduty';

/** The sensitive Terraform variable holding the receiver's secret, per receiver type. */
export const ALERT_RECEIVER_VARIABLES: Readonly<Record<AlertReceiverType, { readonly name: string; readonly key: string; readonly description: string }>> = {
  webhook: { name: 'alertmanager_webhook_url', key: 'url', description: 'URL Alertmanager POSTs alert notifications to (webhook receiver)' },
  slack: { name: 'alertmanager_slack_webhook_url', key: 'api-url', description: 'Slack incoming-webhook URL for alert notifications' },
  pagerduty: { name: 'alertmanager_pagerduty_routing_key', key: 'routing-key', description: 'PagerDuty Events API v2 routing (integration) key for alert notifications' },
};

/** The sensitive Terraform variable holding Grafana's admin password. */
export const GRAFANA_ADMIN_PASSWORD_VARIABLE = 'grafana_admin_password';

/** Secret Alertmanager mounts at /etc/alertmanager/secrets/<name>/ (alertmanagerSpec.secrets). */
const RECEIVER_SECRET = 'alertmanager-receiver';
const GRAFANA_ADMIN_SECRET = 'grafana-admin';

export interface AlertRoutingProps {
  /** Receiver type; the matching sensitive variable must be set at plan time (TF_VAR_<name>). */
  readonly receiver: AlertReceiverType;
  /** Slack channel (Slack receiver only); default the webhook's own channel. */
  readonly slackChannel?: string;
  /** How often a still-firing alert is re-sent. Default 4h. */
  readonly repeatInterval?: string;
}

export interface KubePrometheusStackProps {
  /** Namespace of the release and its Secrets (created by the caller). */
  readonly namespace: string;
  /** Pinned chart (versions.charts.kubePrometheusStack). */
  readonly chart: ChartPin;
  /** Where the chart comes from; default its repository. */
  readonly chartSource?: ChartSourceConfig;
  /** Prometheus TSDB retention, e.g. `15d`. */
  readonly retention: string;
  /** Prometheus volume size, e.g. `50Gi`. */
  readonly storageSize: string;
  /** Storage class of the Prometheus volume; undefined uses the cluster default. */
  readonly storageClass?: string;
  /** Loki's HTTP base URL, added to Grafana as the `Loki` data source (uid `loki`). */
  readonly lokiUrl: string;
  /** Tempo's HTTP base URL, added to Grafana as the `Tempo` data source (uid `tempo`). */
  readonly tempoUrl: string;
  /** Alertmanager routing. */
  readonly alerting: AlertRoutingProps;
  /**
   * The control plane is the cloud's (EKS, GKE): its scheduler, controller manager and etcd
   * expose no metrics to the cluster and kube-proxy's bind to the node's loopback, so their
   * scraping and their rules are left out (`*Down` would fire forever). Default false.
   */
  readonly managedControlPlane?: boolean;
}

/** The chart's control-plane components: each key gates its Service, ServiceMonitor and rules. */
export const CONTROL_PLANE_COMPONENTS = ['kubeScheduler', 'kubeControllerManager', 'kubeEtcd', 'kubeProxy'] as const;

/** Values that stop scraping of (and alerting on) what a managed control plane hides; none otherwise. */
export function controlPlaneValues(managed: boolean): Record<string, { enabled: false }> {
  return managed ? Object.fromEntries(CONTROL_PLANE_COMPONENTS.map((c) => [c, { enabled: false as const }])) : {};
}

/**
 * Prometheus (selecting PodMonitors, ServiceMonitors and PrometheusRules from every namespace),
 * Alertmanager and Grafana, plus the CRDs other stacks create objects of. Receiver secrets and
 * the Grafana admin password come from sensitive Terraform variables into Kubernetes Secrets:
 * they never appear in the chart values, the code or the synthesized JSON.
 */
export class KubePrometheusStack extends Construct {
  readonly chart: HelmChart;
  readonly receiverVariable: TerraformVariable;
  readonly grafanaPasswordVariable: TerraformVariable;

  constructor(scope: Construct, id: string, props: KubePrometheusStackProps) {
    super(scope, id);
    const receiver = ALERT_RECEIVER_VARIABLES[props.alerting.receiver];

    this.receiverVariable = new TerraformVariable(this, 'receiver-secret', {
      type: 'string',
      sensitive: true,
      nullable: false,
      description: receiver.description,
    });
    this.receiverVariable.overrideLogicalId(receiver.name);
    this.grafanaPasswordVariable = new TerraformVariable(this, 'grafana-admin-password', {
      type: 'string',
      sensitive: true,
      nullable: false,
      description: 'Password of the Grafana admin user',
    });
    this.grafanaPasswordVariable.overrideLogicalId(GRAFANA_ADMIN_PASSWORD_VARIABLE);

    const receiverSecret = new SecretV1(this, 'receiver', {
      metadata: { name: RECEIVER_SECRET, namespace: props.namespace, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
      data: { [receiver.key]: this.receiverVariable.stringValue },
    });
    const grafanaSecret = new SecretV1(this, 'grafana-admin', {
      metadata: { name: GRAFANA_ADMIN_SECRET, namespace: props.namespace, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
      data: { 'admin-user': 'admin', 'admin-password': this.grafanaPasswordVariable.stringValue },
    });

    this.chart = new HelmChart(this, 'chart', {
      releaseName: 'kube-prometheus-stack',
      namespace: props.namespace,
      chart: props.chart,
      source: props.chartSource,
      dependsOn: [receiverSecret, grafanaSecret],
      values: {
        ...controlPlaneValues(props.managedControlPlane ?? false),
        prometheus: {
          prometheusSpec: {
            // Nil selectors would only match this release's own labels; empty ones match
            // everything, in every namespace (the *NamespaceSelector defaults are empty too).
            podMonitorSelectorNilUsesHelmValues: false,
            serviceMonitorSelectorNilUsesHelmValues: false,
            ruleSelectorNilUsesHelmValues: false,
            probeSelectorNilUsesHelmValues: false,
            podMonitorSelector: {},
            podMonitorNamespaceSelector: {},
            serviceMonitorSelector: {},
            serviceMonitorNamespaceSelector: {},
            ruleSelector: {},
            ruleNamespaceSelector: {},
            retention: props.retention,
            storageSpec: {
              volumeClaimTemplate: {
                spec: {
                  ...(props.storageClass ? { storageClassName: props.storageClass } : {}),
                  accessModes: ['ReadWriteOnce'],
                  resources: { requests: { storage: props.storageSize } },
                },
              },
            },
          },
        },
        alertmanager: {
          alertmanagerSpec: { secrets: [RECEIVER_SECRET] },
          config: alertmanagerConfig(props.alerting),
        },
        grafana: {
          admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
          defaultDashboardsTimezone: 'utc',
          sidecar: {
            dashboards: {
              enabled: true,
              label: Object.keys(DASHBOARD_LABEL)[0],
              labelValue: Object.values(DASHBOARD_LABEL)[0],
              searchNamespace: 'ALL',
            },
          },
          additionalDataSources: grafanaDataSources(props.lokiUrl, props.tempoUrl),
        },
      },
    });
  }
}

/** Uids of the data sources, which the links between them name. */
export const DATA_SOURCE_UIDS = { prometheus: 'prometheus', loki: 'loki', tempo: 'tempo' } as const;

/**
 * The Loki and Tempo data sources, linked both ways. Logs to trace: the services' JSON log
 * lines carry `trace_id`, which a derived field turns into a link to the trace in Tempo.
 * Trace to logs: a span's resource attributes name its namespace and pod, which are the Loki
 * labels Alloy gives the pod's logs; the query keeps the lines of that trace. Grafana's own
 * `${...}` variables are escaped so Terraform passes them through literally.
 */
export function grafanaDataSources(lokiUrl: string, tempoUrl: string): Record<string, unknown>[] {
  return [
    {
      name: 'Loki',
      type: 'loki',
      uid: DATA_SOURCE_UIDS.loki,
      access: 'proxy',
      url: lokiUrl,
      jsonData: {
        maxLines: 1000,
        derivedFields: [
          {
            name: 'trace_id',
            matcherRegex: '"trace_id":"([0-9a-f]{32})"',
            datasourceUid: DATA_SOURCE_UIDS.tempo,
            url: escapeTerraformTemplate('${__value.raw}'),
            urlDisplayLabel: 'Trace',
          },
        ],
      },
    },
    {
      name: 'Tempo',
      type: 'tempo',
      uid: DATA_SOURCE_UIDS.tempo,
      access: 'proxy',
      url: tempoUrl,
      jsonData: {
        tracesToLogsV2: {
          datasourceUid: DATA_SOURCE_UIDS.loki,
          tags: [
            { key: 'k8s.namespace.name', value: 'namespace' },
            { key: 'k8s.pod.name', value: 'pod' },
          ],
          filterByTraceID: true,
          spanStartTimeShift: '-5m',
          spanEndTimeShift: '5m',
        },
        serviceMap: { datasourceUid: DATA_SOURCE_UIDS.prometheus },
        nodeGraph: { enabled: true },
        lokiSearch: { datasourceUid: DATA_SOURCE_UIDS.loki },
      },
    },
  ];
}

/** Path of the receiver secret inside the Alertmanager pod. */
function secretFile(key: string): string {
  return `/etc/alertmanager/secrets/${RECEIVER_SECRET}/${key}`;
}

/**
 * Alertmanager configuration: every alert to one receiver, grouped per namespace and alert.
 * The receiver reads its URL or key from the mounted Secret (`*_file` settings).
 */
export function alertmanagerConfig(alerting: AlertRoutingProps): Record<string, unknown> {
  const key = ALERT_RECEIVER_VARIABLES[alerting.receiver].key;
  const text = [
    '{{ range .Alerts }}*{{ .Annotations.summary }}* ({{ .Labels.severity }}, {{ .Labels.namespace }})',
    '{{ .Annotations.description }}',
    'Runbook: {{ .Annotations.runbook_url }}',
    '{{ end }}',
  ].join('\n');
  const receiverConfig: Record<AlertReceiverType, Record<string, unknown>> = {
    webhook: { webhook_configs: [{ url_file: secretFile(key), send_resolved: true }] },
    slack: {
      slack_configs: [
        {
          api_url_file: secretFile(key),
          ...(alerting.slackChannel ? { channel: alerting.slackChannel } : {}),
          send_resolved: true,
          title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}',
          text,
        },
      ],
    },
    pagerduty: {
      pagerduty_configs: [
        {
          routing_key_file: secretFile(key),
          send_resolved: true,
          severity: '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
          description: '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}',
        },
      ],
    },
  };
  return {
    global: { resolve_timeout: '5m' },
    route: {
      receiver: 'platform',
      group_by: ['namespace', 'alertname'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: alerting.repeatInterval ?? '4h',
      routes: [
        // The chart's always-firing heartbeat and its info inhibitor are not for humans.
        { receiver: 'null', matchers: ['alertname = "Watchdog"'] },
        { receiver: 'null', matchers: ['alertname = "InfoInhibitor"'] },
      ],
    },
    receivers: [{ name: 'null' }, { name: 'platform', ...receiverConfig[alerting.receiver] }],
  };
}
