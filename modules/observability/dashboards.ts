import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { SERVICE_METRICS } from './service-metrics';

/**
 * Grafana dashboards as code: a Kafka cluster overview (metric names from
 * modules/kafka-cluster/kafka-metrics.yaml and Kafka Exporter) and one for the producer and
 * consumer services (metric names from service-metrics.ts). Shipped as ConfigMaps carrying the
 * label Grafana's dashboards sidecar watches in every namespace.
 */

type Json = Record<string, unknown>;

/** Label and value the kube-prometheus-stack Grafana sidecar looks for. */
export const DASHBOARD_LABEL = { grafana_dashboard: '1' } as const;

const PROM = { type: 'prometheus', uid: '${datasource}' };
const LOKI = { type: 'loki', uid: '${loki}' };

interface Query {
  readonly expr: string;
  readonly legend?: string;
}

interface PanelSpec {
  readonly type: 'timeseries' | 'stat' | 'heatmap' | 'logs';
  readonly title: string;
  readonly description?: string;
  readonly queries: readonly Query[];
  readonly unit?: string;
  /** Grid width out of 24. */
  readonly w?: number;
  readonly h?: number;
  /** Stat only: value from which the panel turns red. */
  readonly redFrom?: number;
  /** Stat only: green only at exactly this value (e.g. one active controller). */
  readonly expect?: number;
}

interface RowSpec {
  readonly row: string;
  readonly panels: readonly PanelSpec[];
}

const stat = (title: string, expr: string, extra: Partial<PanelSpec> = {}): PanelSpec => ({ type: 'stat', title, queries: [{ expr }], w: 4, h: 4, ...extra });
const series = (title: string, queries: readonly Query[], unit: string, extra: Partial<PanelSpec> = {}): PanelSpec => ({ type: 'timeseries', title, queries, unit, ...extra });

function thresholds(p: PanelSpec): Json {
  if (p.expect !== undefined) {
    return { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: p.expect }, { color: 'red', value: p.expect + 1 }] };
  }
  if (p.redFrom !== undefined) return { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: p.redFrom }] };
  return { mode: 'absolute', steps: [{ color: 'blue', value: null }] };
}

function panel(p: PanelSpec, id: number, gridPos: Json): Json {
  const datasource = p.type === 'logs' ? LOKI : PROM;
  const targets = p.queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource,
    expr: q.expr,
    ...(q.legend ? { legendFormat: q.legend } : {}),
    ...(p.type === 'heatmap' ? { format: 'heatmap' } : {}),
  }));
  const base: Json = { id, type: p.type, title: p.title, description: p.description ?? '', datasource, gridPos, targets };
  switch (p.type) {
    case 'stat':
      return {
        ...base,
        fieldConfig: { defaults: { unit: p.unit ?? 'short', thresholds: thresholds(p), color: { mode: 'thresholds' } }, overrides: [] },
        options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value' },
      };
    case 'timeseries':
      return {
        ...base,
        fieldConfig: { defaults: { unit: p.unit ?? 'short', custom: { fillOpacity: 10, lineWidth: 1 } }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
      };
    case 'heatmap':
      return {
        ...base,
        options: { calculate: false, yAxis: { unit: p.unit ?? 's' }, color: { scheme: 'Oranges', mode: 'scheme' }, cellGap: 1 },
      };
    case 'logs':
      return { ...base, options: { showTime: true, wrapLogMessage: true, sortOrder: 'Descending', enableLogDetails: true } };
  }
}

/** Lays rows out top to bottom and panels left to right, wrapping at 24 columns. */
function layout(rows: readonly RowSpec[]): Json[] {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const r of rows) {
    panels.push({ id: id++, type: 'row', title: r.row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of r.panels) {
      const w = p.w ?? 12;
      const h = p.h ?? 8;
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panel(p, id++, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return panels;
}

function datasourceVariable(name: string, type: string, label: string): Json {
  return { name, label, type: 'datasource', query: type, current: {}, hide: 0, refresh: 1, regex: '', options: [] };
}

function labelVariable(name: string, label: string, metric: string, defaultValue: string): Json {
  const query = `label_values(${metric}, ${name})`;
  return {
    name,
    label,
    type: 'query',
    datasource: PROM,
    definition: query,
    query: { query, refId: `${name}-values` },
    current: { selected: true, text: defaultValue, value: defaultValue },
    refresh: 2,
    includeAll: false,
    multi: false,
    sort: 1,
    hide: 0,
    options: [],
  };
}

function dashboard(uid: string, title: string, description: string, variables: Json[], rows: readonly RowSpec[]): Json {
  return {
    uid,
    title,
    description,
    tags: ['kafka', 'kafka-platform'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timezone: 'utc',
    annotations: { list: [] },
    links: [],
    templating: { list: variables },
    panels: layout(rows),
  };
}

const RATE = '$__rate_interval';

/** The Kafka cluster overview, for the cluster in namespace `defaultNamespace`. */
export function kafkaClusterDashboard(defaultNamespace: string): Json {
  const ns = 'namespace="$namespace"';
  const rows: RowSpec[] = [
    {
      row: 'Health',
      panels: [
        stat('Brokers running', `count(kafka_server_kafkaserver_brokerstate{${ns}} == 3)`, { description: 'Brokers in state RUNNING (3)' }),
        stat('Active controllers', `sum(kafka_controller_kafkacontroller_activecontrollercount{${ns}})`, { expect: 1 }),
        stat('Fenced brokers', `max(kafka_controller_kafkacontroller_fencedbrokercount{${ns}})`, { redFrom: 1 }),
        stat('Under-replicated partitions', `sum(kafka_server_replicamanager_underreplicatedpartitions{${ns}})`, { redFrom: 1 }),
        stat('Under min ISR partitions', `sum(kafka_server_replicamanager_underminisrpartitioncount{${ns}})`, { redFrom: 1 }),
        stat('Offline partitions', `sum(kafka_controller_kafkacontroller_offlinepartitionscount{${ns}})`, { redFrom: 1 }),
        stat('Topics', `max(kafka_controller_kafkacontroller_globaltopiccount{${ns}})`),
        stat('Partitions', `max(kafka_controller_kafkacontroller_globalpartitioncount{${ns}})`),
        stat('Offline log directories', `sum(kafka_log_logmanager_offlinelogdirectorycount{${ns}})`, { redFrom: 1 }),
        stat('Preferred leader imbalance', `max(kafka_controller_kafkacontroller_preferredreplicaimbalancecount{${ns}})`),
        stat('KRaft leader (node id)', `max(kafka_server_raftmetrics_current_leader{${ns}})`),
        stat('KRaft epoch', `max(kafka_server_raftmetrics_current_epoch{${ns}})`),
      ],
    },
    {
      row: 'Throughput',
      panels: [
        series('Messages in per topic', [{ expr: `sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesin_total{${ns}, topic!=""}[${RATE}]))`, legend: '{{topic}}' }], 'mps'),
        series(
          'Bytes in / out per broker',
          [
            { expr: `sum by (pod) (rate(kafka_server_brokertopicmetrics_bytesin_total{${ns}, topic=""}[${RATE}]))`, legend: 'in {{pod}}' },
            { expr: `-sum by (pod) (rate(kafka_server_brokertopicmetrics_bytesout_total{${ns}, topic=""}[${RATE}]))`, legend: 'out {{pod}}' },
          ],
          'Bps',
        ),
        series('Requests per type', [{ expr: `sum by (request) (rate(kafka_network_requestmetrics_requests_total{${ns}}[${RATE}]))`, legend: '{{request}}' }], 'reqps'),
        series(
          'Request total time p99',
          [{ expr: `max by (request) (kafka_network_requestmetrics_totaltimems{${ns}, quantile="0.99"})`, legend: '{{request}}' }],
          'ms',
        ),
        series(
          'Failed produce / fetch requests',
          [
            { expr: `sum(rate(kafka_server_brokertopicmetrics_failedproducerequests_total{${ns}, topic=""}[${RATE}]))`, legend: 'produce' },
            { expr: `sum(rate(kafka_server_brokertopicmetrics_failedfetchrequests_total{${ns}, topic=""}[${RATE}]))`, legend: 'fetch' },
          ],
          'reqps',
        ),
        series('Request errors by code', [{ expr: `sum by (request, error) (rate(kafka_network_requestmetrics_errors_total{${ns}}[${RATE}]))`, legend: '{{request}} {{error}}' }], 'reqps'),
      ],
    },
    {
      row: 'Replication and KRaft',
      panels: [
        series(
          'ISR shrinks / expands',
          [
            { expr: `sum by (pod) (rate(kafka_server_replicamanager_isrshrinks_total{${ns}}[${RATE}]))`, legend: 'shrink {{pod}}' },
            { expr: `sum by (pod) (rate(kafka_server_replicamanager_isrexpands_total{${ns}}[${RATE}]))`, legend: 'expand {{pod}}' },
          ],
          'ops',
        ),
        series('Partition leaders per broker', [{ expr: `sum by (pod) (kafka_server_replicamanager_leadercount{${ns}})`, legend: '{{pod}}' }], 'short'),
        series(
          'KRaft commit latency',
          [
            { expr: `max by (pod) (kafka_server_raftmetrics_commit_latency_avg{${ns}})`, legend: 'avg {{pod}}' },
            { expr: `max by (pod) (kafka_server_raftmetrics_commit_latency_max{${ns}})`, legend: 'max {{pod}}' },
          ],
          'ms',
        ),
        series(
          'Metadata log: end offset and high watermark',
          [
            { expr: `max by (pod) (kafka_server_raftmetrics_log_end_offset{${ns}})`, legend: 'end {{pod}}' },
            { expr: `max by (pod) (kafka_server_raftmetrics_high_watermark{${ns}})`, legend: 'hw {{pod}}' },
          ],
          'short',
        ),
        series('Broker metadata apply lag', [{ expr: `max by (pod) (kafka_server_brokermetadata_last_applied_record_lag_ms{${ns}})`, legend: '{{pod}}' }], 'ms'),
        series('Controller event queue time p99', [{ expr: `max by (pod) (kafka_controller_controllereventmanager_eventqueuetimems{${ns}, quantile="0.99"})`, legend: '{{pod}}' }], 'ms'),
      ],
    },
    {
      row: 'Brokers',
      panels: [
        series(
          'Request handler / network thread idle',
          [
            { expr: `min by (pod) (kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent{${ns}})`, legend: 'handlers {{pod}}' },
            { expr: `min by (pod) (kafka_network_socketserver_networkprocessoravgidlepercent{${ns}})`, legend: 'network {{pod}}' },
          ],
          'percentunit',
        ),
        series('Request queue size', [{ expr: `max by (pod) (kafka_network_requestchannel_requestqueuesize{${ns}})`, legend: '{{pod}}' }], 'short'),
        series(
          'Log flushes and flush time p99',
          [
            { expr: `sum by (pod) (rate(kafka_log_logflushstats_logflushes_total{${ns}}[${RATE}]))`, legend: 'flushes/s {{pod}}' },
            { expr: `max by (pod) (kafka_log_logflushstats_logflushtimems{${ns}, quantile="0.99"})`, legend: 'p99 ms {{pod}}' },
          ],
          'short',
        ),
        series('Size on disk per topic', [{ expr: `sum by (topic) (kafka_log_log_size{${ns}})`, legend: '{{topic}}' }], 'bytes'),
        series(
          'Data volume free',
          [{ expr: `min by (persistentvolumeclaim) (kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}})`, legend: '{{persistentvolumeclaim}}' }],
          'percentunit',
        ),
        series('Client connections', [{ expr: `sum by (pod, listener) (kafka_server_socketservermetrics_connection_count{${ns}})`, legend: '{{pod}} {{listener}}' }], 'short'),
        series('JVM heap used', [{ expr: `sum by (pod) (jvm_memory_used_bytes{${ns}, area="heap"})`, legend: '{{pod}}' }], 'bytes'),
        series('GC time', [{ expr: `sum by (pod) (rate(jvm_gc_collection_seconds_sum{${ns}}[${RATE}]))`, legend: '{{pod}}' }], 'percentunit'),
      ],
    },
    {
      row: 'Consumer groups',
      panels: [
        series('Consumer lag per group and topic', [{ expr: `sum by (consumergroup, topic) (kafka_consumergroup_lag{${ns}})`, legend: '{{consumergroup}} / {{topic}}' }], 'short', { w: 24 }),
      ],
    },
  ];
  return dashboard(
    'kafka-platform-cluster',
    'Kafka platform / Cluster',
    'KRaft Kafka cluster health, throughput, replication and brokers (JMX exporter rules: modules/kafka-cluster/kafka-metrics.yaml)',
    [datasourceVariable('datasource', 'prometheus', 'Prometheus'), labelVariable('namespace', 'Namespace', 'kafka_server_replicamanager_partitioncount', defaultNamespace)],
    rows,
  );
}

/** The producer and consumer services, in namespace `defaultNamespace`. */
export function kafkaServicesDashboard(defaultNamespace: string): Json {
  const m = SERVICE_METRICS;
  const ns = 'namespace="$namespace"';
  const latency = (q: number) => ({
    expr: `histogram_quantile(${q}, sum by (le) (rate(${m.endToEndLatency.name}_bucket{${ns}}[${RATE}])))`,
    legend: `p${Math.round(q * 100)}`,
  });
  const rows: RowSpec[] = [
    {
      row: 'Overview',
      panels: [
        stat('Produced / s', `sum(rate(${m.produced.name}{${ns}}[${RATE}]))`, { unit: 'mps' }),
        stat('Consumed / s', `sum(rate(${m.consumed.name}{${ns}}[${RATE}]))`, { unit: 'mps' }),
        stat('Errors / s', `sum(rate(${m.errors.name}{${ns}}[${RATE}]))`, { unit: 'short', redFrom: 0.001 }),
        stat('Dead letters (range)', `sum(increase(${m.dlq.name}{${ns}}[$__range]))`, { redFrom: 1 }),
        stat('End-to-end latency p99', latency(0.99).expr, { unit: 's' }),
        stat(
          'Producer error ratio',
          `sum(rate(${m.errors.name}{${ns}, stage="produce"}[${RATE}])) / (sum(rate(${m.errors.name}{${ns}, stage="produce"}[${RATE}])) + sum(rate(${m.produced.name}{${ns}}[${RATE}])))`,
          { unit: 'percentunit', redFrom: 0.05 },
        ),
      ],
    },
    {
      row: 'Messages',
      panels: [
        series(
          'Produced and consumed per topic',
          [
            { expr: `sum by (topic) (rate(${m.produced.name}{${ns}}[${RATE}]))`, legend: 'produced {{topic}}' },
            { expr: `sum by (topic) (rate(${m.consumed.name}{${ns}}[${RATE}]))`, legend: 'consumed {{topic}}' },
          ],
          'mps',
        ),
        series('Errors by stage', [{ expr: `sum by (stage) (rate(${m.errors.name}{${ns}}[${RATE}]))`, legend: '{{stage}}' }], 'ops'),
        series('Dead letters per source topic', [{ expr: `sum by (topic) (rate(${m.dlq.name}{${ns}}[${RATE}]))`, legend: '{{topic}}' }], 'mps'),
        series(
          'Consumer lag (Kafka Exporter)',
          [{ expr: 'sum by (consumergroup, topic) (kafka_consumergroup_lag)', legend: '{{consumergroup}} / {{topic}}' }],
          'short',
        ),
      ],
    },
    {
      row: 'End-to-end latency',
      panels: [
        series('Latency quantiles', [latency(0.5), latency(0.95), latency(0.99)], 's'),
        {
          type: 'heatmap',
          title: 'Latency distribution',
          queries: [{ expr: `sum by (le) (increase(${m.endToEndLatency.name}_bucket{${ns}}[${RATE}]))`, legend: '{{le}}' }],
          unit: 's',
        },
      ],
    },
    {
      row: 'Logs',
      panels: [
        {
          type: 'logs',
          title: 'Service logs (Loki)',
          queries: [{ expr: '{namespace="$namespace"}' }],
          w: 24,
          h: 10,
        },
      ],
    },
  ];
  return dashboard(
    'kafka-platform-services',
    'Kafka platform / Services',
    'Producer and consumer: throughput, errors, dead letters, end-to-end latency and logs (metrics contract: modules/observability/service-metrics.ts)',
    [
      datasourceVariable('datasource', 'prometheus', 'Prometheus'),
      datasourceVariable('loki', 'loki', 'Loki'),
      labelVariable('namespace', 'Namespace', m.produced.name, defaultNamespace),
    ],
    rows,
  );
}

/** Every PromQL expression of a dashboard (to check metric names against a real scrape). */
export function dashboardQueries(model: Json): string[] {
  const out: string[] = [];
  for (const p of (model.panels as Json[]) ?? []) {
    if ((p.datasource as { type?: string } | undefined)?.type !== 'prometheus') continue;
    for (const t of (p.targets as { expr: string }[]) ?? []) out.push(t.expr);
  }
  return out;
}

/**
 * Terraform reads `${` and `%{` in any string as template syntax; Grafana's `${datasource}`
 * must reach the ConfigMap literally, so both are escaped.
 */
export function escapeTerraformTemplate(text: string): string {
  // Replacer functions: in a replacement string `$$` would itself collapse to `$`.
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

export interface KafkaDashboardsProps {
  /** Namespace the ConfigMaps are created in (the sidecar searches every namespace). */
  readonly namespace: string;
  /** Namespace of the Kafka cluster, the cluster dashboard's default selection. */
  readonly kafkaNamespace: string;
  /** Namespace of the producer and consumer, the services dashboard's default selection. */
  readonly workloadsNamespace: string;
}

/** The Kafka cluster and services dashboards as ConfigMaps picked up by Grafana's sidecar. */
export class KafkaDashboards extends Construct {
  /** The dashboard models, by file name (for tests). */
  readonly dashboards: Readonly<Record<string, Json>>;
  readonly configMaps: ConfigMapV1[];

  constructor(scope: Construct, id: string, props: KafkaDashboardsProps) {
    super(scope, id);
    this.dashboards = {
      'kafka-platform-cluster.json': kafkaClusterDashboard(props.kafkaNamespace),
      'kafka-platform-services.json': kafkaServicesDashboard(props.workloadsNamespace),
    };
    this.configMaps = Object.entries(this.dashboards).map(
      ([file, model]) =>
        new ConfigMapV1(this, file.replace(/\.json$/, ''), {
          metadata: {
            name: `dashboard-${file.replace(/\.json$/, '')}`,
            namespace: props.namespace,
            labels: { ...DASHBOARD_LABEL, 'app.kubernetes.io/part-of': 'kafka-platform' },
          },
          data: { [file]: escapeTerraformTemplate(JSON.stringify(model, null, 1)) },
        }),
    );
  }
}
