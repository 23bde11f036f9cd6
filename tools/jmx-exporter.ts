/**
 * The Prometheus JMX exporter java agent for the local cluster: fetched once from Maven Central
 * into the cache, attached to every node with the same rules file Strimzi uses on Kubernetes.
 *
 *   clusterUp({ extraJvmArgs: jmxExporterArgs })   // node N serves /metrics on 127.0.0.1:29300+N-1
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { versions } from '../config';
import { Log, localBootstrapServers, localNode, localNodes, runningPid, startNode, stopNode, waitForHealthy } from './local/kafka';
import { PROJECT_ROOT, paths } from './paths';

const HOST = '127.0.0.1';
/** The rules file shared with kafka-stack (Strimzi metricsConfig). */
export const KAFKA_METRICS_RULES = path.join(PROJECT_ROOT, 'modules', 'kafka-cluster', 'kafka-metrics.yaml');
/** Metrics port of node 1; node N serves on `base + N - 1`. */
export const JMX_EXPORTER_BASE_PORT = Number(process.env.KAFKA_PLATFORM_METRICS_BASE_PORT ?? 29300);
/** Same plugin version as tools/kafka/pom.xml, so the cached plugin is reused. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const pin = versions.jmxExporter;
const AGENT_DIR = path.join(paths.cache, 'jmx-exporter', pin.version);

/** Where the agent jar lives once fetched. */
export function jmxExporterJar(): string {
  return path.join(AGENT_DIR, `${pin.artifactId}-${pin.version}.jar`);
}

/**
 * Fetches the agent jar with Maven into the cache unless it is already there; returns its path.
 * Synchronous so it fits the `extraJvmArgs` hook. Concurrent callers are safe: each copies into
 * its own directory and the jar is renamed into place atomically.
 */
export function ensureJmxExporterAgent(): string {
  const jar = jmxExporterJar();
  if (fs.existsSync(jar)) return jar;
  fs.mkdirSync(AGENT_DIR, { recursive: true });
  const staging = fs.mkdtempSync(path.join(AGENT_DIR, '.download-'));
  try {
    const artifact = `${pin.groupId}:${pin.artifactId}:${pin.version}`;
    const r = spawnSync(
      'mvn',
      ['-B', '-q', `-Dmaven.repo.local=${paths.mavenRepo}`, `${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=${artifact}`, `-DoutputDirectory=${staging}`],
      { encoding: 'utf8', cwd: staging, timeout: 300_000 },
    );
    if (r.error) {
      const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new Error(missing ? 'Maven is required to fetch the JMX exporter agent from Maven Central: apt-get install maven' : `mvn failed: ${r.error.message}`);
    }
    const fetched = path.join(staging, path.basename(jar));
    if (r.status !== 0 || !fs.existsSync(fetched)) {
      throw new Error(`fetching ${artifact} from Maven Central failed (exit ${r.status}):\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n')}`);
    }
    fs.renameSync(fetched, jar);
    return jar;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** The metrics port of local node `nodeId`. */
export function jmxExporterPort(nodeId: number): number {
  localNode(nodeId); // validates the id
  return JMX_EXPORTER_BASE_PORT + nodeId - 1;
}

/** JVM flags attaching the exporter to node `nodeId`, for `clusterUp({ extraJvmArgs })` and `startNode`. */
export function jmxExporterArgs(nodeId: number): string[] {
  return [`-javaagent:${ensureJmxExporterAgent()}=${HOST}:${jmxExporterPort(nodeId)}:${KAFKA_METRICS_RULES}`];
}

/** `host:port` of every node's exporter, for a Prometheus scrape config. */
export function jmxExporterTargets(): string[] {
  return localNodes().map((n) => `${HOST}:${jmxExporterPort(n.id)}`);
}

/** Whether node `nodeId`'s running JVM carries our agent (false when it is not running). */
export function nodeHasAgent(nodeId: number): boolean {
  const pid = runningPid(localNode(nodeId));
  if (pid === undefined) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`-javaagent:${jmxExporterJar()}=`);
  } catch {
    return false;
  }
}

/** One GET of a node's /metrics; rejects when the exporter does not answer. */
export function scrapeNode(nodeId: number, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port: jmxExporterPort(nodeId), path: '/metrics', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`node ${nodeId} exporter answered HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`node ${nodeId} exporter did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Partitions whose ISR is smaller than their replica set, as a client sees them. */
export async function underReplicatedPartitions(bootstrapServers = localBootstrapServers()): Promise<number> {
  const kafka = new Kafka({ clientId: 'jmx-exporter-attach', brokers: bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata();
    return topics.flatMap((t) => t.partitions).filter((p) => p.isr.length < p.replicas.length).length;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function waitForFullReplication(timeoutMs: number, log: Log): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const urp = await underReplicatedPartitions().catch(() => -1);
    if (urp === 0) return;
    if (Date.now() > deadline) throw new Error(`partitions are still under-replicated after ${Math.round(timeoutMs / 1000)}s (last count: ${urp})`);
    log(`  ... waiting for ${urp < 0 ? 'the cluster' : `${urp} under-replicated partition(s)`} to catch up`);
    await sleep(2000);
  }
}

export interface AttachOptions {
  readonly log?: Log;
  /** Per node: how long to wait for the cluster to be healthy and fully replicated again (default 120 s). */
  readonly timeoutMs?: number;
}

/**
 * Restarts, one at a time, the running nodes that lack the agent (a cluster started without
 * `extraJvmArgs`), waiting after each until all brokers are back and every partition is in
 * sync, so the quorum and min.insync.replicas hold throughout. Data is kept. Returns the
 * restarted node ids; nodes that are not running are left to `clusterUp`.
 */
export async function attachJmxExporter(options: AttachOptions = {}): Promise<number[]> {
  const log = options.log ?? console.log;
  const timeoutMs = options.timeoutMs ?? 120_000;
  ensureJmxExporterAgent();
  const restarted: number[] = [];
  for (const node of localNodes()) {
    if (runningPid(node) === undefined || nodeHasAgent(node.id)) continue;
    log(`Node ${node.id} runs without the JMX exporter: restarting it with the agent (data kept)`);
    await waitForFullReplication(timeoutMs, log);
    await stopNode(node.id, { log });
    await startNode(node.id, { extraJvmArgs: jmxExporterArgs, log });
    await waitForHealthy({ timeoutMs, log });
    restarted.push(node.id);
  }
  if (restarted.length > 0) await waitForFullReplication(timeoutMs, log);
  return restarted;
}
