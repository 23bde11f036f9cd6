import { spawn, spawnSync } from 'child_process';
import { randomBytes, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { environments, versions } from '../config';
import { KAFKA_CLASSPATH, KafkaTools, javaBinary, requireJavaAndKafka, runKafkaTool, runKeytool } from './kafka-tool';
import { CACHE_DIR } from './paths';

/**
 * A three-node KRaft cluster (combined broker+controller roles) on 127.0.0.1, run as
 * detached java processes from the project's Kafka jars. State lives in .cache/local-kafka.
 */

const LOCAL = environments.local.localCluster;
const HOST = '127.0.0.1';

/** Everything the local cluster writes: per-node directories and the cluster identity. */
export const LOCAL_KAFKA_DIR = path.join(CACHE_DIR, 'local-kafka');
const CLUSTER_FILE = path.join(LOCAL_KAFKA_DIR, 'cluster.json');
/** Local CA, broker keystore and its password; kept across `down --purge` so clients keep trusting the CA. */
const TLS_DIR = path.join(LOCAL_KAFKA_DIR, 'tls');
/** One `<name>.password` file per SCRAM user. */
const USERS_DIR = path.join(LOCAL_KAFKA_DIR, 'users');
/** The SCRAM users of the SASL_SSL listener: the principals config/topics.ts grants ACLs to. */
export const LOCAL_SCRAM_USERS = ['producer', 'consumer'] as const;

export interface LocalNode {
  readonly id: number;
  readonly clientPort: number;
  readonly controllerPort: number;
  /** SASL_SSL (SCRAM-SHA-512 over TLS) listener. */
  readonly saslPort: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly configFile: string;
  readonly log4jFile: string;
  /** stdout and stderr of the JVM, including the broker's log4j2 output. */
  readonly logFile: string;
  readonly pidFile: string;
}

export type Log = (line: string) => void;

export interface StartOptions {
  /** Extra JVM flags per node, e.g. a `-javaagent:` for a metrics exporter. */
  readonly extraJvmArgs?: (nodeId: number) => string[];
  /** Progress output (default: console.log). */
  readonly log?: Log;
}

export interface ClusterUpOptions extends StartOptions {
  /** How long to wait for a quorum leader and all brokers (default 120 s). */
  readonly timeoutMs?: number;
}

export interface ClusterUpResult {
  readonly bootstrapServers: string;
  /** Node ids this call started (empty when the cluster was already running). */
  readonly startedNodes: number[];
  readonly durationMs: number;
}

export interface NodeStatus {
  readonly id: number;
  /** Pid of our running node process, if any. */
  readonly pid?: number;
  readonly alive: boolean;
  readonly clientPort: number;
  readonly clientListening: boolean;
  readonly controllerPort: number;
  readonly controllerListening: boolean;
  readonly saslPort: number;
  readonly saslListening: boolean;
  readonly logFile: string;
}

export interface QuorumStatus {
  readonly leaderId: number;
  readonly leaderEpoch?: number;
  readonly voters: number[];
}

export interface ClusterStatus {
  readonly bootstrapServers: string;
  readonly nodes: NodeStatus[];
  readonly quorum?: QuorumStatus;
  readonly quorumError?: string;
  /** Ids of the brokers registered (and unfenced) in the cluster metadata. */
  readonly brokers?: number[];
  readonly brokersError?: string;
  readonly healthy: boolean;
}

export interface StopOptions {
  /** Wait this long for a clean (controlled) shutdown before SIGKILL (default 60 s). */
  readonly timeoutMs?: number;
  readonly log?: Log;
}

export interface ClusterDownOptions extends StopOptions {
  /** Also delete the data, configs and logs (the next `up` formats a new cluster). */
  readonly purge?: boolean;
}

// ---------------------------------------------------------------------------------------
// Layout

export function localNodes(): LocalNode[] {
  return Array.from({ length: LOCAL.nodes }, (_, i) => localNode(i + 1));
}

export function localNode(id: number): LocalNode {
  if (!Number.isInteger(id) || id < 1 || id > LOCAL.nodes) {
    throw new Error(`node ${id} does not exist: the local cluster has nodes 1..${LOCAL.nodes} (localCluster.nodes in config/environments.ts)`);
  }
  const dir = path.join(LOCAL_KAFKA_DIR, `node-${id}`);
  return {
    id,
    clientPort: LOCAL.clientBasePort + id - 1,
    controllerPort: LOCAL.controllerBasePort + id - 1,
    saslPort: LOCAL.saslBasePort + id - 1,
    dir,
    dataDir: path.join(dir, 'data'),
    configFile: path.join(dir, 'server.properties'),
    log4jFile: path.join(dir, 'log4j2.properties'),
    logFile: path.join(dir, 'kafka.log'),
    pidFile: path.join(dir, 'kafka.pid'),
  };
}

/** `127.0.0.1:29092,127.0.0.1:29093,...` from config/environments.ts. */
export function localBootstrapServers(): string {
  return localNodes()
    .map((n) => `${HOST}:${n.clientPort}`)
    .join(',');
}

/** `127.0.0.1:29492,...`: the SASL_SSL listeners, where SCRAM users and their ACLs apply. */
export function localSaslBootstrapServers(): string {
  return localNodes()
    .map((n) => `${HOST}:${n.saslPort}`)
    .join(',');
}

/** PEM certificate of the local CA that signed the brokers' TLS certificate (exists after `clusterUp`). */
export function localCaFile(): string {
  return path.join(TLS_DIR, 'ca.crt');
}

/** File holding the SCRAM-SHA-512 password of a local user, e.g. `producer` (exists after `clusterUp`). */
export function localUserPasswordFile(name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`invalid SCRAM user name "${name}"`);
  return path.join(USERS_DIR, `${name}.password`);
}

// ---------------------------------------------------------------------------------------
// Secrets: TLS material and SCRAM passwords, generated once and readable by the owner only

/** Reads a secret file, creating it with a random value (mode 0600) the first time. */
function loadOrCreateSecret(file: string): string {
  if (fs.existsSync(file)) {
    const value = fs.readFileSync(file, 'utf8').trim();
    if (value.length > 0) return value;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // base64url has no ',', '=', '[' or ']', which Kafka's config syntax would misread.
  const value = randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return value;
}

interface BrokerTls {
  readonly keystore: string;
  readonly password: string;
}

const TLS_FILES = {
  password: path.join(TLS_DIR, 'keystore.password'),
  caKeystore: path.join(TLS_DIR, 'ca.p12'),
  brokerKeystore: path.join(TLS_DIR, 'broker.p12'),
} as const;

/**
 * A local CA and a broker keystore (PKCS12, SAN IP:127.0.0.1 and DNS:localhost) signed by it,
 * made with the JDK's keytool once; later calls only read them. Built in a scratch directory
 * and renamed into place, so an interrupted run never leaves half a keystore behind.
 */
async function ensureTls(log: Log): Promise<BrokerTls> {
  const complete = [TLS_FILES.password, TLS_FILES.caKeystore, TLS_FILES.brokerKeystore, localCaFile()].every((f) => fs.existsSync(f));
  if (complete) return { keystore: TLS_FILES.brokerKeystore, password: fs.readFileSync(TLS_FILES.password, 'utf8').trim() };

  fs.mkdirSync(LOCAL_KAFKA_DIR, { recursive: true });
  const work = fs.mkdtempSync(path.join(LOCAL_KAFKA_DIR, 'tls-new-'));
  fs.chmodSync(work, 0o700);
  try {
    const password = loadOrCreateSecret(path.join(work, 'keystore.password'));
    const env = { LOCAL_KAFKA_STOREPASS: password };
    const store = (file: string) => ['-keystore', path.join(work, file), '-storetype', 'PKCS12', '-storepass:env', 'LOCAL_KAFKA_STOREPASS'];
    const san = 'SAN=IP:127.0.0.1,DNS:localhost';
    await runKeytool(['-genkeypair', '-alias', 'ca', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', 'CN=kafka-platform local CA', '-ext', 'BC:c=ca:true', ...store('ca.p12')], env);
    await runKeytool(['-exportcert', '-rfc', '-alias', 'ca', '-file', path.join(work, 'ca.crt'), ...store('ca.p12')], env);
    await runKeytool(['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', 'CN=localhost', '-ext', san, ...store('broker.p12')], env);
    await runKeytool(['-certreq', '-alias', 'broker', '-file', path.join(work, 'broker.csr'), ...store('broker.p12')], env);
    await runKeytool(
      ['-gencert', '-alias', 'ca', '-rfc', '-validity', '3650', '-infile', path.join(work, 'broker.csr'), '-outfile', path.join(work, 'broker.crt'),
        '-ext', san, '-ext', 'KU:c=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth', ...store('ca.p12')],
      env,
    );
    // The CA first, so keytool can chain the signed certificate to it on import.
    await runKeytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', path.join(work, 'ca.crt'), ...store('broker.p12')], env);
    await runKeytool(['-importcert', '-noprompt', '-alias', 'broker', '-file', path.join(work, 'broker.crt'), ...store('broker.p12')], env);
    for (const f of ['broker.csr', 'broker.crt']) fs.rmSync(path.join(work, f));
    for (const f of ['ca.p12', 'broker.p12']) fs.chmodSync(path.join(work, f), 0o600);
    fs.rmSync(TLS_DIR, { recursive: true, force: true });
    fs.renameSync(work, TLS_DIR);
    log(`Created a local CA and broker certificate in ${TLS_DIR} (clients trust ${localCaFile()})`);
    return { keystore: TLS_FILES.brokerKeystore, password };
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Creates or updates the SCRAM-SHA-512 credentials of `LOCAL_SCRAM_USERS` through the plaintext
 * listener, whose ANONYMOUS principal is a super user. Upserting the same password is harmless,
 * so this runs on every `clusterUp`. The password goes to Kafka's ConfigCommand in a 0600 file,
 * not on its command line.
 */
async function ensureScramUsers(bootstrapServers: string): Promise<void> {
  await Promise.all(
    LOCAL_SCRAM_USERS.map(async (name) => {
      const password = loadOrCreateSecret(localUserPasswordFile(name));
      const configFile = path.join(USERS_DIR, `.${name}.scram.properties`);
      fs.writeFileSync(configFile, `SCRAM-SHA-512=iterations=8192,password=${password}\n`, { mode: 0o600 });
      try {
        await runKafkaTool(
          KafkaTools.configs,
          ['--bootstrap-server', bootstrapServers, '--alter', '--entity-type', 'users', '--entity-name', name, '--add-config-file', configFile],
          { timeoutMs: 60_000 },
        );
      } finally {
        fs.rmSync(configFile, { force: true });
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------
// Cluster identity: one cluster id and one metadata directory id per node, generated once

interface ClusterIdentity {
  readonly clusterId: string;
  readonly directoryIds: Record<string, string>;
}

/** A Kafka Uuid (base64url of 16 random bytes); Kafka itself never hands out ids starting with '-'. */
function kafkaUuid(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function loadOrCreateIdentity(nodes: readonly LocalNode[]): ClusterIdentity {
  if (fs.existsSync(CLUSTER_FILE)) {
    const identity = JSON.parse(fs.readFileSync(CLUSTER_FILE, 'utf8')) as ClusterIdentity;
    const missing = nodes.filter((n) => !identity.directoryIds[String(n.id)]);
    if (missing.length === 0) return identity;
    throw new Error(
      `${CLUSTER_FILE} has no identity for node(s) ${missing.map((n) => n.id).join(', ')} (was localCluster.nodes changed?): ` +
        'run `tsx tools/local-kafka.ts down --purge` to start from an empty cluster',
    );
  }
  const formatted = nodes.filter((n) => isFormatted(n));
  if (formatted.length > 0) {
    throw new Error(
      `${CLUSTER_FILE} is missing but node data exists in ${formatted[0].dataDir}: ` +
        'run `tsx tools/local-kafka.ts down --purge` to start from an empty cluster',
    );
  }
  const identity: ClusterIdentity = {
    clusterId: kafkaUuid(),
    directoryIds: Object.fromEntries(nodes.map((n) => [String(n.id), kafkaUuid()])),
  };
  fs.mkdirSync(LOCAL_KAFKA_DIR, { recursive: true });
  fs.writeFileSync(CLUSTER_FILE, `${JSON.stringify(identity, null, 2)}\n`);
  return identity;
}

function isFormatted(node: LocalNode): boolean {
  return fs.existsSync(path.join(node.dataDir, 'meta.properties'));
}

// ---------------------------------------------------------------------------------------
// Configuration files

function serverProperties(node: LocalNode, nodes: readonly LocalNode[], tls: BrokerTls): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    // Dynamic KRaft quorum (KIP-853): voters come from the formatted storage, not from static config.
    'controller.quorum.bootstrap.servers': nodes.map((n) => `${HOST}:${n.controllerPort}`).join(','),
    'controller.listener.names': 'CONTROLLER',
    listeners: `PLAINTEXT://${HOST}:${node.clientPort},CONTROLLER://${HOST}:${node.controllerPort},SASL_SSL://${HOST}:${node.saslPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${node.clientPort},CONTROLLER://${HOST}:${node.controllerPort},SASL_SSL://${HOST}:${node.saslPort}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
    'inter.broker.listener.name': 'PLAINTEXT',
    // Clients as in the Kubernetes clusters: TLS plus SCRAM-SHA-512, users created by clusterUp.
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.ssl.keystore.type': 'PKCS12',
    'listener.name.sasl_ssl.ssl.keystore.location': tls.keystore,
    'listener.name.sasl_ssl.ssl.keystore.password': tls.password,
    'log.dirs': node.dataDir,
    'num.partitions': 3,
    'default.replication.factor': 3,
    'min.insync.replicas': 2,
    'offsets.topic.replication.factor': 3,
    // Fewer internal partitions than the default 50 keep the first group join fast on a laptop.
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 3,
    'transaction.state.log.min.isr': 2,
    'transaction.state.log.num.partitions': 10,
    'share.coordinator.state.topic.replication.factor': 3,
    'share.coordinator.state.topic.min.isr': 2,
    'auto.create.topics.enable': false,
    // ACLs are stored and listed as in production (the topics module manages them), while
    // local plaintext clients, whose principal is ANONYMOUS, stay unrestricted; SCRAM users on
    // the SASL_SSL listener get only what their ACLs allow.
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:ANONYMOUS',
    'group.initial.rebalance.delay.ms': 0,
    // Small segments and short retention: this cluster holds test and demo data only.
    'log.segment.bytes': 64 * 1024 * 1024,
    'log.retention.hours': 24,
  };
  return (
    `# Generated by tools/local-cluster.ts from config/environments.ts (localCluster); rewritten on every start.\n` +
    Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') +
    '\n'
  );
}

const LOG4J2_PROPERTIES = `# Generated by tools/local-cluster.ts. The broker logs to stdout, which goes to kafka.log.
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
# Every client and server config is dumped at INFO on start; server.properties has ours.
logger.configdump.name = org.apache.kafka.common.config.AbstractConfig
logger.configdump.level = WARN
`;

function writeNodeFiles(node: LocalNode, nodes: readonly LocalNode[], tls: BrokerTls): void {
  fs.mkdirSync(node.dataDir, { recursive: true });
  // Owner-only: it holds the keystore password.
  fs.writeFileSync(node.configFile, serverProperties(node, nodes, tls), { mode: 0o600 });
  fs.chmodSync(node.configFile, 0o600);
  fs.writeFileSync(node.log4jFile, LOG4J2_PROPERTIES);
}

async function formatStorage(node: LocalNode, nodes: readonly LocalNode[], identity: ClusterIdentity): Promise<void> {
  const initialControllers = nodes.map((n) => `${n.id}@${HOST}:${n.controllerPort}:${identity.directoryIds[String(n.id)]}`).join(',');
  await runKafkaTool(KafkaTools.storage, [
    'format',
    '--config', node.configFile,
    '--cluster-id', identity.clusterId,
    '--initial-controllers', initialControllers,
    '--release-version', versions.kafka.metadataVersion,
  ]);
  // The storage tool picks a random directory id; the quorum needs the one named in --initial-controllers.
  const meta = fs.readFileSync(path.join(node.dataDir, 'meta.properties'), 'utf8');
  const dirId = /^directory\.id=(.+)$/m.exec(meta)?.[1];
  if (dirId !== identity.directoryIds[String(node.id)]) {
    throw new Error(`formatting node ${node.id} gave directory.id ${dirId}, expected ${identity.directoryIds[String(node.id)]}`);
  }
}

// ---------------------------------------------------------------------------------------
// Processes

function readPid(node: LocalNode): number | undefined {
  try {
    const pid = Number(fs.readFileSync(node.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    if (fs.existsSync('/proc/self')) return undefined;
    // No procfs (macOS): ask ps.
    const r = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : undefined;
  }
}

/** The pid of this node's broker if it is running; a pid file left by a dead or reused pid does not count. */
export function runningPid(node: LocalNode): number | undefined {
  const pid = readPid(node);
  if (pid === undefined) return undefined;
  const cmd = commandLine(pid);
  return cmd !== undefined && cmd.includes('kafka.Kafka') && cmd.includes(node.configFile) ? pid : undefined;
}

/** Rejects with a message naming the port, what it is for and the config key to change. */
export function ensurePortFree(port: number, description: string, configKey: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new Error(
            `port ${port} (${description}) is already in use by another process: stop it or change ${configKey} in config/environments.ts`,
          ),
        );
      } else {
        reject(new Error(`cannot check port ${port} (${description}): ${err.message}`));
      }
    });
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve()));
  });
}

function isListening(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: HOST });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function checkPorts(node: LocalNode): Promise<void> {
  await ensurePortFree(node.clientPort, `node ${node.id} client listener`, 'localCluster.clientBasePort');
  await ensurePortFree(node.controllerPort, `node ${node.id} controller listener`, 'localCluster.controllerBasePort');
  await ensurePortFree(node.saslPort, `node ${node.id} SASL_SSL listener`, 'localCluster.saslBasePort');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '(no log yet)';
  }
}

const MAX_LOG_BYTES = 20 * 1024 * 1024;

function spawnNode(node: LocalNode, options: StartOptions): number {
  // Keep one previous log; a long-lived dev cluster must not fill the disk.
  if (fs.existsSync(node.logFile) && fs.statSync(node.logFile).size > MAX_LOG_BYTES) {
    fs.renameSync(node.logFile, `${node.logFile}.1`);
  }
  const out = fs.openSync(node.logFile, 'a');
  fs.writeSync(out, `\n==== ${new Date().toISOString()} starting node ${node.id} (Kafka ${versions.kafka.version})\n`);
  const args = [
    '-Xmx512m',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${node.log4jFile}`,
    `-Dkafka.logs.dir=${node.dir}`,
    ...(options.extraJvmArgs?.(node.id) ?? []),
    '-cp',
    KAFKA_CLASSPATH,
    'kafka.Kafka',
    node.configFile,
  ];
  // Detached with its own session and no pipes back to us, so it outlives the CLI.
  const child = spawn(javaBinary(), args, { cwd: node.dir, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`cannot start node ${node.id}: java did not start (see ${node.logFile})`);
  child.on('error', () => undefined);
  child.unref();
  fs.writeFileSync(node.pidFile, `${child.pid}\n`);
  return child.pid;
}

async function prepareAndSpawn(nodes: readonly LocalNode[], toStart: readonly LocalNode[], options: StartOptions): Promise<void> {
  const log = options.log ?? console.log;
  const identity = loadOrCreateIdentity(nodes);
  const tls = await ensureTls(log);
  for (const node of toStart) writeNodeFiles(node, nodes, tls);
  const unformatted = toStart.filter((n) => !isFormatted(n));
  if (unformatted.length > 0) {
    log(`Formatting storage of node(s) ${unformatted.map((n) => n.id).join(', ')} (cluster id ${identity.clusterId})`);
    await Promise.all(unformatted.map((n) => formatStorage(n, nodes, identity)));
  }
  for (const node of toStart) {
    const pid = spawnNode(node, options);
    log(`Started node ${node.id} (pid ${pid}, client ${HOST}:${node.clientPort}, SASL_SSL ${HOST}:${node.saslPort}, controller ${HOST}:${node.controllerPort}, log ${node.logFile})`);
  }
}

// ---------------------------------------------------------------------------------------
// Health

function parseQuorum(output: string): QuorumStatus {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(output)?.[1]?.trim();
  const leaderId = Number(field('LeaderId'));
  const votersText = field('CurrentVoters');
  if (!Number.isInteger(leaderId) || votersText === undefined) {
    throw new Error(`unexpected MetadataQuorumCommand output:\n${output}`);
  }
  // Kafka 4 prints voters as JSON objects ({"id": 1, ...}); older versions as [1,2,3].
  const ids = votersText.includes('{')
    ? [...votersText.matchAll(/"id":\s*(\d+)/g)].map((m) => Number(m[1]))
    : [...votersText.matchAll(/\d+/g)].map((m) => Number(m[0]));
  const epoch = Number(field('LeaderEpoch'));
  return { leaderId, leaderEpoch: Number.isInteger(epoch) ? epoch : undefined, voters: ids.sort((a, b) => a - b) };
}

/** The KRaft quorum as Kafka's own `kafka-metadata-quorum describe --status` sees it. */
export async function describeQuorum(bootstrapServers = localBootstrapServers()): Promise<QuorumStatus> {
  const out = await runKafkaTool(KafkaTools.metadataQuorum, ['--bootstrap-server', bootstrapServers, 'describe', '--status'], {
    timeoutMs: 30_000,
  });
  return parseQuorum(out);
}

/** Ids of the registered, unfenced brokers as a client (kafkajs) sees them. */
export async function describeBrokers(bootstrapServers = localBootstrapServers()): Promise<number[]> {
  const kafka = new Kafka({
    clientId: 'local-cluster-health',
    brokers: bootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ');
}

const sameIds = (a: readonly number[] | undefined, b: readonly number[]) => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

async function nodeStatuses(nodes: readonly LocalNode[]): Promise<NodeStatus[]> {
  return Promise.all(
    nodes.map(async (n) => {
      const pid = runningPid(n);
      const [clientListening, controllerListening, saslListening] = await Promise.all([
        isListening(n.clientPort),
        isListening(n.controllerPort),
        isListening(n.saslPort),
      ]);
      return {
        id: n.id,
        pid,
        alive: pid !== undefined,
        clientPort: n.clientPort,
        clientListening,
        controllerPort: n.controllerPort,
        controllerListening,
        saslPort: n.saslPort,
        saslListening,
        logFile: n.logFile,
      };
    }),
  );
}

/**
 * Per node: process alive, ports listening; cluster-wide: quorum leader and voters
 * (Kafka's MetadataQuorumCommand) and registered brokers (kafkajs), when reachable.
 */
export async function clusterStatus(): Promise<ClusterStatus> {
  const nodes = localNodes();
  const ids = nodes.map((n) => n.id);
  const bootstrapServers = localBootstrapServers();
  const statuses = await nodeStatuses(nodes);
  const reachable = statuses.filter((s) => s.clientListening).map((s) => `${HOST}:${s.clientPort}`);
  if (reachable.length === 0) {
    return { bootstrapServers, nodes: statuses, quorumError: 'no client listener is reachable', brokersError: 'no client listener is reachable', healthy: false };
  }
  const [quorum, brokers] = await Promise.allSettled([describeQuorum(reachable.join(',')), describeBrokers(reachable.join(','))]);
  const q = quorum.status === 'fulfilled' ? quorum.value : undefined;
  const b = brokers.status === 'fulfilled' ? brokers.value : undefined;
  const healthy =
    statuses.every((s) => s.alive && s.clientListening && s.controllerListening) &&
    q !== undefined &&
    ids.includes(q.leaderId) &&
    sameIds(q.voters, ids) &&
    sameIds(b, ids);
  return {
    bootstrapServers,
    nodes: statuses,
    quorum: q,
    quorumError: quorum.status === 'rejected' ? errorText(quorum.reason) : undefined,
    brokers: b,
    brokersError: brokers.status === 'rejected' ? errorText(brokers.reason) : undefined,
    healthy,
  };
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly log?: Log;
}

/**
 * Waits until every node runs, the quorum has a leader with all nodes as voters and every
 * broker is registered. Fails early when a node process dies, pointing to its log.
 */
export async function waitForHealthy(options: WaitOptions = {}): Promise<ClusterStatus> {
  const log = options.log ?? console.log;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const nodes = localNodes();
  const ids = nodes.map((n) => n.id);
  const started = Date.now();
  let lastReport = started;
  let summary = 'no node reachable yet';
  for (;;) {
    for (const node of nodes) {
      if (runningPid(node) === undefined) {
        throw new Error(`node ${node.id} is not running (it exited or was never started); see ${node.logFile}:\n${tail(node.logFile)}`);
      }
    }
    // kafkajs is cheap; the quorum tool starts a JVM, so it runs only once all brokers are visible.
    const brokers = await describeBrokers().catch((err: unknown) => errorText(err));
    if (Array.isArray(brokers) && sameIds(brokers, ids)) {
      const quorum = await describeQuorum().catch((err: unknown) => errorText(err));
      if (typeof quorum !== 'string' && ids.includes(quorum.leaderId) && sameIds(quorum.voters, ids)) {
        return clusterStatus();
      }
      summary = `brokers [${brokers.join(',')}] registered, quorum: ${typeof quorum === 'string' ? quorum : `leader ${quorum.leaderId}, voters [${quorum.voters.join(',')}]`}`;
    } else {
      summary = Array.isArray(brokers) ? `brokers registered: [${brokers.join(',')}] of [${ids.join(',')}]` : `brokers not reachable yet (${brokers})`;
    }
    const elapsed = Date.now() - started;
    if (elapsed > timeoutMs) {
      throw new Error(
        `the local Kafka cluster is not healthy after ${Math.round(elapsed / 1000)}s (${summary}); ` +
          `see the node logs:\n${nodes.map((n) => `  ${n.logFile}`).join('\n')}\n` +
          `last lines of ${nodes[0].logFile}:\n${tail(nodes[0].logFile)}`,
      );
    }
    if (Date.now() - lastReport >= 5000) {
      log(`  ... waiting for the quorum and ${ids.length} brokers (${Math.round(elapsed / 1000)}s): ${summary}`);
      lastReport = Date.now();
    }
    await sleep(1000);
  }
}

// ---------------------------------------------------------------------------------------
// Commands

/**
 * Starts every node that is not running (formatting storage the first time) and waits until
 * the cluster is healthy. A no-op when the cluster is already up and healthy.
 */
export async function clusterUp(options: ClusterUpOptions = {}): Promise<ClusterUpResult> {
  const log = options.log ?? console.log;
  const started = Date.now();
  requireJavaAndKafka();
  const nodes = localNodes();
  const bootstrapServers = localBootstrapServers();
  const toStart = nodes.filter((n) => runningPid(n) === undefined);
  if (toStart.length === 0) {
    const status = await clusterStatus();
    if (status.healthy) {
      await ensureScramUsers(bootstrapServers);
      warnIfNoSaslListener(status, log);
      log(`The local Kafka cluster is already running: ${bootstrapServers}`);
      return { bootstrapServers, startedNodes: [], durationMs: Date.now() - started };
    }
  }
  for (const node of toStart) {
    fs.rmSync(node.pidFile, { force: true });
    await checkPorts(node);
  }
  await prepareAndSpawn(nodes, toStart, options);
  log(`Waiting for the KRaft quorum and ${nodes.length} brokers (up to ${Math.round((options.timeoutMs ?? 120_000) / 1000)}s)`);
  const status = await waitForHealthy({ timeoutMs: options.timeoutMs, log });
  await ensureScramUsers(bootstrapServers);
  warnIfNoSaslListener(status, log);
  const durationMs = Date.now() - started;
  log(`The local Kafka cluster is up in ${(durationMs / 1000).toFixed(1)}s: ${bootstrapServers} (SASL_SSL ${localSaslBootstrapServers()})`);
  return { bootstrapServers, startedNodes: toStart.map((n) => n.id), durationMs };
}

/** Nodes started before the SASL_SSL listener existed keep running without it until restarted. */
function warnIfNoSaslListener(status: ClusterStatus, log: Log): void {
  const missing = status.nodes.filter((n) => !n.saslListening);
  if (missing.length === 0) return;
  log(
    `WARNING: node(s) ${missing.map((n) => n.id).join(', ')} have no SASL_SSL listener on port(s) ${missing.map((n) => n.saslPort).join(', ')} ` +
      '(started with an older configuration): restart the cluster with `npm run kafka:down && npm run kafka:up`',
  );
}

/** Starts one stopped node (its ports must be free) without waiting for it to join. */
export async function startNode(id: number, options: StartOptions = {}): Promise<void> {
  requireJavaAndKafka();
  const node = localNode(id);
  if (runningPid(node) !== undefined) return;
  fs.rmSync(node.pidFile, { force: true });
  await checkPorts(node);
  await prepareAndSpawn(localNodes(), [node], options);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A process that exited but was not yet reaped by its parent is gone for our purposes.
  const cmd = commandLine(pid);
  return cmd !== undefined && cmd.trim().length > 0;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(200);
  }
  return !isAlive(pid);
}

/**
 * Stops one node with SIGTERM (the broker's controlled shutdown moves its partition leadership
 * away first) and waits for it to exit; SIGKILL after the timeout. Returns false if it was not running.
 */
export async function stopNode(id: number, options: StopOptions = {}): Promise<boolean> {
  const log = options.log ?? console.log;
  const node = localNode(id);
  const pid = runningPid(node);
  if (pid === undefined) {
    fs.rmSync(node.pidFile, { force: true });
    return false;
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = Date.now();
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid, timeoutMs))) {
    log(`WARNING: node ${id} (pid ${pid}) did not stop within ${Math.round(timeoutMs / 1000)}s; killing it (see ${node.logFile})`);
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 10_000);
  }
  fs.rmSync(node.pidFile, { force: true });
  log(`Stopped node ${id} (pid ${pid}) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return true;
}

/** Stops every node; data is kept unless `purge` is set. */
export async function clusterDown(options: ClusterDownOptions = {}): Promise<void> {
  const log = options.log ?? console.log;
  const nodes = localNodes();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const running = nodes.flatMap((node) => {
    const pid = runningPid(node);
    if (pid === undefined) fs.rmSync(node.pidFile, { force: true });
    return pid === undefined ? [] : [{ node, pid }];
  });
  if (running.length === 0) log('The local Kafka cluster is not running');
  // All at once: a broker's controlled shutdown needs an active controller, so nodes stopped one
  // by one leave the last one waiting (Kafka waits up to 5 minutes) for a quorum that is gone.
  const started = Date.now();
  for (const { pid } of running) process.kill(pid, 'SIGTERM');
  const majority = Math.floor(nodes.length / 2) + 1;
  let pending = running;
  let quorumLostAt: number | undefined;
  while (pending.length > 0) {
    await sleep(200);
    const now = Date.now();
    for (const { node, pid } of pending.filter((p) => !isAlive(p.pid))) {
      fs.rmSync(node.pidFile, { force: true });
      log(`Stopped node ${node.id} (pid ${pid}) in ${((now - started) / 1000).toFixed(1)}s`);
    }
    pending = pending.filter((p) => isAlive(p.pid));
    if (pending.length > 0 && pending.length < majority) quorumLostAt ??= now;
    // The quorum leader's graceful resignation takes ~5 s; longer than that without a majority means stuck.
    const stuck = quorumLostAt !== undefined && now - quorumLostAt > 15_000;
    if (pending.length > 0 && (stuck || now - started > timeoutMs)) {
      for (const { node, pid } of pending) {
        const why = stuck ? 'cannot finish its controlled shutdown without a controller quorum' : `did not stop within ${Math.round(timeoutMs / 1000)}s`;
        log(`WARNING: node ${node.id} (pid ${pid}) ${why}; killing it (see ${node.logFile})`);
        process.kill(pid, 'SIGKILL');
      }
      for (const { node, pid } of pending) {
        await waitForExit(pid, 10_000);
        fs.rmSync(node.pidFile, { force: true });
      }
      pending = [];
    }
  }
  if (options.purge) {
    for (const node of nodes) fs.rmSync(node.dir, { recursive: true, force: true });
    fs.rmSync(CLUSTER_FILE, { force: true });
    log(`Deleted the local cluster's data in ${LOCAL_KAFKA_DIR}`);
  }
}
