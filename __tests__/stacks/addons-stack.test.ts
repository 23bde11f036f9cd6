import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { parse } from 'yaml';
import { loadConfig, versions } from '../../config';
import { AddonsStack } from '../../stacks/addons-stack';
import { ALERT_RECEIVER_VARIABLES, AlertReceiverType, GRAFANA_ADMIN_PASSWORD_VARIABLE } from '../../modules/observability/kube-prometheus-stack';
import { DASHBOARD_LABEL, dashboardQueries } from '../../modules/observability/dashboards';
import { SERVICE_METRICS } from '../../modules/observability/service-metrics';
import { ALLOY_OTLP_HTTP_PORT } from '../../modules/observability/alloy';
import { TEMPO_OTLP_GRPC_PORT } from '../../modules/observability/tempo';
import { chartBundleDir } from '../support/deploy';
import { chartArchive, chartDefaults, unknownValuesKeys, validateChartValuesSchema } from '../support/schemas';
import { TerraformJson, resourcesOf, synthEnvironment } from '../support/synth';

/** Chart name -> directory of its upstream values.yaml (and values.schema.json) under the schemas dir. */
const CHART_SCHEMAS: Record<string, string> = {
  'kube-prometheus-stack': 'kube-prometheus-stack',
  loki: 'loki',
  alloy: 'alloy',
  'strimzi-kafka-operator': 'strimzi',
};
/** Charts checked against their own archive in the chart bundle (values.yaml and the templates' `.Values` paths). */
const CHART_ARCHIVES = { tempo: versions.charts.tempo } as const;

type Values = Record<string, unknown>;

/**
 * validateChartValuesSchema compiles the chart's schema on each call into one shared Ajv, which
 * rejects a second schema with the same $id; a fresh copy of the module per call avoids that.
 */
function chartSchemaProblems(chart: string, values: Values): string[] {
  let problems: string[] = [];
  jest.isolateModules(() => {
    const schemas = require('../support/schemas') as { validateChartValuesSchema: typeof validateChartValuesSchema };
    problems = schemas.validateChartValuesSchema(chart, values);
  });
  return problems;
}

/** The values a helm_release sends, merged from its `values` documents. */
function releaseValues(release: TerraformJson): Values {
  const docs = (release.values ?? []) as string[];
  return Object.assign({}, ...docs.map((d) => parse(d) as Values)) as Values;
}

function releases(stack: TerraformJson): { id: string; chart: string; version: string; values: Values }[] {
  return Object.entries(resourcesOf(stack, 'helm_release')).map(([id, r]) => ({
    id,
    chart: r.chart as string,
    version: r.version as string,
    values: releaseValues(r),
  }));
}

function valuesOf(stack: TerraformJson, chart: string): Values {
  const r = releases(stack).find((x) => x.chart === chart);
  if (!r) throw new Error(`no helm_release of chart ${chart} in addons-stack`);
  return r.values;
}

describe.each(['dev', 'prod'])('addons-stack (%s)', (environment) => {
  const addons = synthEnvironment(environment).stacks['addons-stack'];

  it('installs kube-prometheus-stack, Loki, Tempo, Alloy and the Strimzi operator from their pinned charts', () => {
    const pins = Object.values(versions.charts);
    const installed = releases(addons).map((r) => `${r.chart}@${r.version}`).sort();
    expect(installed).toEqual(pins.map((p) => `${p.chart}@${p.version}`).sort());
  });

  it.each(Object.keys(CHART_SCHEMAS))('sets only keys that exist in the %s chart defaults', (chart) => {
    const values = valuesOf(addons, chart);
    // On failure the diff names every offending key path, e.g. "grafana.sidecar.dashboards.folder".
    expect({ chart, unknownKeys: unknownValuesKeys(values, chartDefaults(CHART_SCHEMAS[chart])) }).toEqual({ chart, unknownKeys: [] });
    expect({ chart, schemaProblems: chartSchemaProblems(CHART_SCHEMAS[chart], values) }).toEqual({ chart, schemaProblems: [] });
  });

  it.each(Object.keys(CHART_ARCHIVES) as (keyof typeof CHART_ARCHIVES)[])('sets only keys that the %s chart defaults or its templates read', (chart) => {
    const pin = CHART_ARCHIVES[chart];
    const archive = chartArchive(path.join(chartBundleDir(), `${pin.chart}-${pin.version}.tgz`), pin.chart);
    const values = valuesOf(addons, pin.chart);
    expect({ chart, unknownKeys: unknownValuesKeys(values, archive.defaults, '', archive.templatePaths) }).toEqual({ chart, unknownKeys: [] });
  });

  it('runs Tempo on its own volume, receiving OTLP gRPC only, without usage reporting', () => {
    const tempo = valuesOf(addons, 'tempo');
    const t = tempo.tempo as Values;
    expect(t.reportingEnabled).toBe(false);
    // Only OTLP gRPC: the chart's Jaeger and OTLP/HTTP receivers would open ports nothing uses.
    expect(t.receivers).toEqual({ otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${TEMPO_OTLP_GRPC_PORT}` } } } });
    expect(t.retention).toBe(environment === 'prod' ? '168h' : '72h');
    expect(tempo.persistence).toMatchObject({ enabled: true, size: environment === 'prod' ? '50Gi' : '5Gi' });
    // The chart mounts the volume at /var/tempo: blocks and WAL must be below it.
    const storage = (t.storage as Values).trace as { local: { path: string }; wal: { path: string } };
    expect(storage.local.path.startsWith('/var/tempo/')).toBe(true);
    expect(storage.wal.path.startsWith('/var/tempo/')).toBe(true);
  });

  it('has Alloy receive OTLP/HTTP on a Service port and forward it to the Tempo release', () => {
    const alloy = valuesOf(addons, 'alloy').alloy as Values;
    const content = (alloy.configMap as { content: string }).content;
    expect(content).toMatch(new RegExp(`otelcol\\.receiver\\.otlp "services" \\{\\s*http \\{\\s*endpoint = "0\\.0\\.0\\.0:${ALLOY_OTLP_HTTP_PORT}"`));
    expect(alloy.extraPorts).toEqual([{ name: 'otlp-http', port: ALLOY_OTLP_HTTP_PORT, targetPort: ALLOY_OTLP_HTTP_PORT, protocol: 'TCP' }]);
    // The exporter names the Service the tempo release makes (its release name) and the port its receiver listens on.
    const tempoRelease = Object.values(resourcesOf(addons, 'helm_release')).find((r) => r.chart === 'tempo' || String(r.chart).endsWith('/tempo-2.2.4.tgz'))!;
    expect(content).toContain(`endpoint = "${tempoRelease.name}.${tempoRelease.namespace}.svc.cluster.local:${TEMPO_OTLP_GRPC_PORT}"`);
    // Receiver -> memory limiter -> batch -> Tempo, each output naming the next component's input.
    expect(content).toContain('traces = [otelcol.processor.memory_limiter.traces.input]');
    expect(content).toContain('traces = [otelcol.processor.batch.traces.input]');
    expect(content).toContain('traces = [otelcol.exporter.otlp.tempo.input]');
    expect(tempoRelease.depends_on ?? []).toEqual(expect.arrayContaining([expect.stringContaining('kube-prometheus-stack')]));
  });

  it('links Grafana from a log line to its trace and from a span to its logs', () => {
    const grafana = valuesOf(addons, 'kube-prometheus-stack').grafana as Values;
    const sources = grafana.additionalDataSources as { name: string; type: string; uid: string; url: string; jsonData: Values }[];
    const loki = sources.find((s) => s.type === 'loki')!;
    const tempo = sources.find((s) => s.type === 'tempo')!;
    expect(tempo.url).toMatch(/^http:\/\/tempo\..+\.svc\.cluster\.local:3200$/);
    // Logs to trace: the derived field's pattern finds the trace id in a line the services' own logger writes.
    const field = (loki.jsonData.derivedFields as { matcherRegex: string; datasourceUid: string; url: string }[])[0];
    expect(field.datasourceUid).toBe(tempo.uid);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    // The logger writes to file descriptor 1: a child process's stdout holds the line as Alloy would read it.
    const logger = path.resolve(__dirname, '../../services/shared/observability.ts');
    const script = `require(${JSON.stringify(logger)}).createLogger('consumer').warn({ event: 'dlq', trace_id: '${traceId}', span_id: '00f067aa0ba902b7' }, 'to the DLQ');`;
    const line = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' }).stdout;
    expect(line).toContain(traceId);
    expect(new RegExp(field.matcherRegex).exec(line)?.[1]).toBe(traceId);
    // Escaped for Terraform, which writes `${__value.raw}` into the values Helm gets.
    expect(field.url).toBe('$${__value.raw}');
    // Trace to logs: span resource attributes map to the labels Alloy gives pod logs.
    const toLogs = tempo.jsonData.tracesToLogsV2 as { datasourceUid: string; tags: { key: string; value: string }[]; filterByTraceID: boolean };
    expect(toLogs.datasourceUid).toBe(loki.uid);
    expect(toLogs.filterByTraceID).toBe(true);
    const alloyContent = ((valuesOf(addons, 'alloy').alloy as Values).configMap as { content: string }).content;
    for (const { value } of toLogs.tags) expect(alloyContent).toContain(`target_label  = "${value}"`);
    expect(toLogs.tags.map((t) => t.key).sort()).toEqual(['k8s.namespace.name', 'k8s.pod.name']);
  });

  it('makes Prometheus select monitors and rules from every namespace', () => {
    const spec = (valuesOf(addons, 'kube-prometheus-stack').prometheus as Values).prometheusSpec as Values;
    for (const kind of ['podMonitor', 'serviceMonitor', 'rule']) {
      expect(spec[`${kind}SelectorNilUsesHelmValues`]).toBe(false);
      expect(spec[`${kind}Selector`]).toEqual({});
      expect(spec[`${kind}NamespaceSelector`]).toEqual({});
    }
  });

  it('runs Loki monolithic on its filesystem and wires it into Grafana and Alloy', () => {
    const loki = valuesOf(addons, 'loki');
    expect(loki.deploymentMode).toBe('Monolithic');
    expect(((loki.loki as Values).storage as Values).type).toBe('filesystem');
    const grafana = valuesOf(addons, 'kube-prometheus-stack').grafana as Values;
    const sources = grafana.additionalDataSources as { type: string; url: string }[];
    const lokiSource = sources.find((s) => s.type === 'loki');
    expect(lokiSource?.url).toMatch(/^http:\/\/loki\..+\.svc\.cluster\.local:3100$/);
    const alloy = (valuesOf(addons, 'alloy').alloy as Values).configMap as { content: string };
    expect(alloy.content).toContain('loki.source.kubernetes "pods"');
    expect(alloy.content).toContain(`url = "${lokiSource!.url}/loki/api/v1/push"`);
  });

  it('turns on the Grafana dashboards sidecar for the label the dashboard ConfigMaps carry', () => {
    const sidecar = ((valuesOf(addons, 'kube-prometheus-stack').grafana as Values).sidecar as Values).dashboards as Values;
    const [label, value] = Object.entries(DASHBOARD_LABEL)[0];
    expect(sidecar).toMatchObject({ enabled: true, label, labelValue: value, searchNamespace: 'ALL' });
    const dashboards = Object.values(resourcesOf(addons, 'kubernetes_config_map_v1')).filter((c) => c.metadata.labels?.[label] === value);
    expect(dashboards).toHaveLength(2);
  });

  it('keeps the alert receiver secret and the Grafana password in sensitive variables, never in values', () => {
    const receiver = ALERT_RECEIVER_VARIABLES.webhook;
    for (const name of [receiver.name, GRAFANA_ADMIN_PASSWORD_VARIABLE]) {
      expect(addons.variable[name]).toMatchObject({ type: 'string', sensitive: true, nullable: false });
      expect(addons.variable[name].default).toBeUndefined();
    }
    const secrets = Object.values(resourcesOf(addons, 'kubernetes_secret_v1'));
    const receiverSecret = secrets.find((s) => s.metadata.name === 'alertmanager-receiver');
    expect(receiverSecret?.data).toEqual({ [receiver.key]: `\${var.${receiver.name}}` });
    // The variables are referenced from the Secrets only: not from any chart values.
    for (const r of releases(addons)) expect(JSON.stringify(r.values)).not.toContain('var.');
    const alertmanager = valuesOf(addons, 'kube-prometheus-stack').alertmanager as Values;
    expect((alertmanager.alertmanagerSpec as Values).secrets).toEqual(['alertmanager-receiver']);
    const config = alertmanager.config as { route: { receiver: string }; receivers: { name: string; webhook_configs?: { url_file: string }[] }[] };
    const platform = config.receivers.find((r) => r.name === config.route.receiver);
    expect(platform?.webhook_configs).toEqual([{ url_file: `/etc/alertmanager/secrets/alertmanager-receiver/${receiver.key}`, send_resolved: true }]);
  });

  it('ships dashboards that parse as JSON, fit the grid and query the services metrics contract', () => {
    const maps = Object.values(resourcesOf(addons, 'kubernetes_config_map_v1')).filter((c) => c.metadata.labels?.grafana_dashboard === '1');
    const uids = new Set<string>();
    for (const map of maps) {
      for (const [file, text] of Object.entries(map.data as Record<string, string>)) {
        expect(file).toMatch(/\.json$/);
        // Terraform turns the escaped `$${` back into `${` when it writes the ConfigMap.
        const model = JSON.parse(text.replace(/\$\$\{/g, '${')) as { uid: string; panels: { gridPos: { x: number; w: number } }[] };
        uids.add(model.uid);
        for (const p of model.panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        const queries = dashboardQueries(model).join('\n');
        if (model.uid === 'kafka-platform-services') {
          const used = new Set([...queries.matchAll(/kafka_platform_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
          expect([...used].sort()).toEqual(Object.values(SERVICE_METRICS).map((m) => m.name).sort());
        }
      }
    }
    expect([...uids].sort()).toEqual(['kafka-platform-cluster', 'kafka-platform-services']);
  });
});

describe('the values check', () => {
  it('names the key path of a value the chart does not have', () => {
    const typo = { grafana: { sidecar: { dashboards: { enabled: true, serchNamespace: 'ALL' } } } };
    expect(unknownValuesKeys(typo, chartDefaults('kube-prometheus-stack'))).toEqual(['grafana.sidecar.dashboards.serchNamespace']);
  });
});

describe('alert receiver options', () => {
  const RECEIVER_SETTINGS: Record<AlertReceiverType, string> = { webhook: 'webhook_configs', slack: 'slack_configs', pagerduty: 'pagerduty_configs' };

  it.each(Object.keys(RECEIVER_SETTINGS) as AlertReceiverType[])('routes every alert to a %s receiver reading its secret from a file', (receiver) => {
    const app = new App({ outdir: os.tmpdir() });
    const stack = new AddonsStack(app, 'addons-stack', { env: loadConfig('dev'), observability: { alerting: { receiver, slackChannel: '#kafka-alerts' } } });
    const synthesized = JSON.parse(Testing.synth(stack)) as TerraformJson;
    const v = ALERT_RECEIVER_VARIABLES[receiver];
    expect(synthesized.variable[v.name]).toMatchObject({ sensitive: true });
    const config = (valuesOf(synthesized, 'kube-prometheus-stack').alertmanager as Values).config as { receivers: Record<string, unknown>[] };
    const platform = config.receivers.find((r) => r.name === 'platform')!;
    const entry = (platform[RECEIVER_SETTINGS[receiver]] as Record<string, string>[])[0];
    const fileSetting = Object.keys(entry).find((k) => k.endsWith('_file'));
    expect(entry[fileSetting!]).toBe(`/etc/alertmanager/secrets/alertmanager-receiver/${v.key}`);
    expect(JSON.stringify(synthesized)).not.toMatch(/hooks\.slack\.com|events\.pagerduty\.com/);
  });
});
