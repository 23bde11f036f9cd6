/**
 * End to end, with real parts only: the local three-node cluster with the JMX exporter agent on
 * every node, a real Prometheus scraping it and evaluating the deployed alert rules (with a
 * short, explicit `for:` override), and one broker stopped and started again.
 */
import { Kafka, logLevel } from 'kafkajs';
import { kafkaAlertGroups } from '../../modules/observability/kafka-alerts';
import { dashboardQueries, kafkaClusterDashboard } from '../../modules/observability/dashboards';
import { attachJmxExporter, jmxExporterArgs, nodeHasAgent, scrapeNode, underReplicatedPartitions } from '../../tools/jmx-exporter';
import { clusterUp, describeQuorum, localBootstrapServers, localNodes, runningPid, startNode, stopNode, waitForHealthy } from '../../tools/local/kafka';
import {
  LocalPrometheus,
  prometheusAlerts,
  prometheusDown,
  prometheusMetricNames,
  prometheusQuery,
  prometheusTargets,
  prometheusUp,
} from '../../tools/local-prometheus';

const TOPIC = 'observability-e2e';
const FOR_OVERRIDE = '5s';
const log = (line: string) => console.log(`[observability-e2e] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Metric names in PromQL: every one is followed by a `{...}` selector in these expressions. */
function metricNames(exprs: readonly string[]): Set<string> {
  return new Set(exprs.flatMap((e) => [...e.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1])));
}

/** Names the JMX exporter must produce (the rest come from Kafka Exporter, the kubelet, kube-state-metrics). */
const FROM_JMX_EXPORTER = /^(kafka_(server|controller|network|log)_|jvm_)/;
/** Exported only once the event happened: no request error has to occur for the test. */
const CONDITIONAL = new Set(['kafka_network_requestmetrics_errors_total']);

function requiredNames(): string[] {
  const alertExprs = kafkaAlertGroups({ namespace: 'kafka', expectedBrokers: 3 }).flatMap((g) => g.rules.map((r) => r.expr));
  const dashboardExprs = dashboardQueries(kafkaClusterDashboard('kafka'));
  return [...metricNames([...alertExprs, ...dashboardExprs])].filter((n) => FROM_JMX_EXPORTER.test(n) && !CONDITIONAL.has(n)).sort();
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return { value, ms: Date.now() - started };
    } catch (err) {
      last = err;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(1000);
  }
}

async function alertState(url: string, name: string): Promise<'pending' | 'firing' | 'inactive'> {
  const alerts = (await prometheusAlerts(url)).filter((a) => a.labels.alertname === name);
  if (alerts.some((a) => a.state === 'firing')) return 'firing';
  return alerts.length > 0 ? 'pending' : 'inactive';
}

async function ensureTopic(): Promise<void> {
  const admin = new Kafka({ clientId: 'observability-e2e', brokers: localBootstrapServers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    log(created ? `created topic ${TOPIC} (3 partitions, replication factor 3)` : `topic ${TOPIC} exists`);
  } finally {
    await admin.disconnect();
  }
}

describe('local Prometheus and the JMX exporter against the local cluster', () => {
  let prom: LocalPrometheus;

  beforeAll(async () => {
    const started = Date.now();
    // A no-op when global setup already started the cluster; then attach the agent where missing.
    await clusterUp({ extraJvmArgs: jmxExporterArgs, log });
    const restarted = await attachJmxExporter({ log });
    log(`cluster ready with the agent on every node (restarted: [${restarted.join(',')}]) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    await ensureTopic();
    prom = await prometheusUp({ interval: '2s', forOverride: FOR_OVERRIDE, freshData: true, log });
  }, 600_000);

  afterAll(async () => {
    await prometheusDown({ log });
  }, 60_000);

  it('finds on the nodes every exporter metric the alerts and the cluster dashboard use', async () => {
    const required = requiredNames();
    expect(required.length).toBeGreaterThan(30);
    const exported = new Set<string>();
    for (const node of localNodes()) {
      expect({ node: node.id, agent: nodeHasAgent(node.id) }).toEqual({ node: node.id, agent: true });
      // What it exports, not how fast: on a loaded machine (two cores shared with other JVMs) a
      // first scrape of every MBean has taken over 10 s, so it gets 30 s and a second try.
      const body = await scrapeNode(node.id, 30_000).catch(() => scrapeNode(node.id, 30_000));
      for (const line of body.split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
        if (m) exported.add(m[1]);
      }
      // The series every alert on this node's health depends on.
      expect(body).toMatch(/^kafka_server_replicamanager_underreplicatedpartitions /m);
      expect(body).toMatch(/^kafka_server_kafkaserver_brokerstate 3\.0$/m);
    }
    log(`scraped ${exported.size} metric names from ${localNodes().length} nodes; checking ${required.length} used by alerts and dashboards`);
    expect(required.filter((n) => !exported.has(n))).toEqual([]);
  });

  it('scrapes every node and holds those metrics', async () => {
    const { ms } = await waitFor('every Kafka target up', 60_000, async () => {
      const targets = await prometheusTargets(prom.url);
      return targets.length === localNodes().length && targets.every((t) => t.health === 'up') ? targets : undefined;
    });
    log(`all ${localNodes().length} targets up after ${ms} ms`);
    const names = new Set(await prometheusMetricNames(prom.url));
    expect(requiredNames().filter((n) => !names.has(n))).toEqual([]);
    const [active] = await prometheusQuery(prom.url, 'sum(kafka_controller_kafkacontroller_activecontrollercount{namespace="kafka"})');
    expect(active.value).toBe(1);
  });

  it('fires KafkaUnderReplicatedPartitions when a broker stops and resolves it once the broker is back', async () => {
    // Start from a fully replicated cluster, so the alert can only come from our stop.
    await waitFor('no under-replicated partitions', 120_000, async () => ((await underReplicatedPartitions()) === 0 ? true : undefined));
    await waitFor('KafkaUnderReplicatedPartitions inactive', 60_000, async () =>
      (await alertState(prom.url, 'KafkaUnderReplicatedPartitions')) === 'inactive' ? true : undefined,
    );

    // A node that is not the KRaft leader: the quorum keeps its leader and other users barely notice.
    const quorum = await describeQuorum();
    const victim = localNodes().find((n) => n.id !== quorum.leaderId)!;
    log(`stopping node ${victim.id} (quorum leader is node ${quorum.leaderId})`);
    const stopStarted = Date.now();
    try {
      await stopNode(victim.id, { log });
      const firing = await waitFor('KafkaUnderReplicatedPartitions firing', 120_000, async () =>
        (await alertState(prom.url, 'KafkaUnderReplicatedPartitions')) === 'firing' ? true : undefined,
      );
      log(`KafkaUnderReplicatedPartitions firing ${((Date.now() - stopStarted) / 1000).toFixed(1)}s after the stop began (${firing.ms} ms after the node was down)`);
      const alert = (await prometheusAlerts(prom.url)).find((a) => a.labels.alertname === 'KafkaUnderReplicatedPartitions')!;
      expect(alert.labels).toMatchObject({ namespace: 'kafka', severity: 'warning' });
      expect(Number(alert.value)).toBeGreaterThan(0);
      expect(alert.annotations.runbook_url).toBe('docs/runbooks.md#kafkaunderreplicatedpartitions');
      const down = await waitFor('KafkaBrokerDown firing', 60_000, async () => ((await alertState(prom.url, 'KafkaBrokerDown')) === 'firing' ? true : undefined));
      log(`KafkaBrokerDown firing too (${down.ms} ms later)`);
    } finally {
      if (runningPid(victim) === undefined) {
        await startNode(victim.id, { extraJvmArgs: jmxExporterArgs, log });
        await waitForHealthy({ log });
      }
    }
    const restartedAt = Date.now();
    const resolved = await waitFor('KafkaUnderReplicatedPartitions resolved', 180_000, async () =>
      (await alertState(prom.url, 'KafkaUnderReplicatedPartitions')) === 'inactive' ? true : undefined,
    );
    log(`KafkaUnderReplicatedPartitions resolved ${resolved.ms} ms after node ${victim.id} was healthy again`);
    expect(nodeHasAgent(victim.id)).toBe(true);
    await waitFor('KafkaBrokerDown resolved', 60_000, async () => ((await alertState(prom.url, 'KafkaBrokerDown')) === 'inactive' ? true : undefined));
    log(`stop-to-recovery cycle took ${((Date.now() - stopStarted) / 1000).toFixed(1)}s (restart to resolution ${((Date.now() - restartedAt) / 1000).toFixed(1)}s)`);
  }, 600_000);
});
