import { spawn } from 'child_process';
import * as fs from 'fs';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaTools, javaBinary, kafkaClasspath, requireJavaAndKafka, runKafkaTool } from '../../kafka-tool';
import { HOST, Log, ensurePortFree, errorText, isAlive, isListening, runningPidFrom, sleep, tailFile, waitForExit } from '../process';
import { LocalKafkaSpec, LocalNode, addresses, allNodes, nodeLayout } from './layout';
import { LOCAL_SCRAM_USERS, caFile, ensureScramUsers, ensureTls, userPasswordFile } from './secrets';
import { LOG4J2_PROPERTIES, serverProperties } from './server-config';
import { formatStorage, isFormatted, loadOrCreateIdentity, removeIdentity } from './storage';

/**
 * A KRaft cluster of combined broker+controller nodes on 127.0.0.1, run as detached java
 * processes from the project's Kafka jars: start, stop, kill, upgrade and inspect its nodes.
 */

export interface StartOptions {
  /** Extra JVM flags per node, e.g. a `-javaagent:` for a metrics exporter. */
  readonly extraJvmArgs?: (nodeId: number) => string[];
  /** Kafka release the started node(s) run (default: the cluster's `kafkaVersion`). */
  readonly kafkaVersion?: string;
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
  /** Kafka release the running process was started with. */
  readonly kafkaVersion?: string;
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

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly log?: Log;
  /** Also wait until the SCRAM users authenticate on every SASL_SSL listener (default: once `up` has created them). */
  readonly scramUsers?: boolean;
}

const MAX_LOG_BYTES = 20 * 1024 * 1024;
const sameIds = (a: readonly number[] | undefined, b: readonly number[]) => a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

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

export class LocalKafkaCluster {
  constructor(readonly spec: LocalKafkaSpec) {}

  nodes(): LocalNode[] {
    return allNodes(this.spec);
  }

  node(id: number): LocalNode {
    return nodeLayout(this.spec, id);
  }

  /** `127.0.0.1:29092,127.0.0.1:29093,...`: the PLAINTEXT listeners. */
  bootstrapServers(): string {
    return addresses(this.spec, 'clientPort');
  }

  /** The SASL_SSL listeners, where SCRAM users and their ACLs apply. */
  saslBootstrapServers(): string {
    return addresses(this.spec, 'saslPort');
  }

  caFile(): string {
    return caFile(this.spec);
  }

  userPasswordFile(name: string): string {
    return userPasswordFile(this.spec, name);
  }

  /** The pid of this node's broker if it is running; a pid file left by a dead or reused pid does not count. */
  runningPid(node: LocalNode): number | undefined {
    return runningPidFrom(node.pidFile, 'kafka.Kafka', node.configFile);
  }

  /** Kafka release the node's running process was started with. */
  nodeVersion(node: LocalNode): string | undefined {
    if (this.runningPid(node) === undefined) return undefined;
    try {
      return fs.readFileSync(node.versionFile, 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /**
   * Starts every node that is not running (formatting storage the first time) and waits until
   * the cluster is healthy. A no-op when the cluster is already up and healthy.
   */
  async up(options: ClusterUpOptions = {}): Promise<ClusterUpResult> {
    const log = options.log ?? console.log;
    const started = Date.now();
    requireJavaAndKafka(options.kafkaVersion ?? this.spec.kafkaVersion);
    const nodes = this.nodes();
    const bootstrapServers = this.bootstrapServers();
    const toStart = nodes.filter((n) => this.runningPid(n) === undefined);
    if (toStart.length === 0) {
      const status = await this.status();
      if (status.healthy) {
        await ensureScramUsers(this.spec, bootstrapServers);
        this.warnIfNoSaslListener(status, log);
        await this.waitForScramUsers(status, options.timeoutMs);
        log(`The ${this.spec.name} cluster is already running: ${bootstrapServers}`);
        return { bootstrapServers, startedNodes: [], durationMs: Date.now() - started };
      }
    }
    for (const node of toStart) {
      fs.rmSync(node.pidFile, { force: true });
      await this.checkPorts(node);
    }
    await this.prepareAndSpawn(toStart, options);
    log(`Waiting for the KRaft quorum and ${nodes.length} brokers (up to ${Math.round((options.timeoutMs ?? 120_000) / 1000)}s)`);
    const status = await this.waitForHealthy({ timeoutMs: options.timeoutMs, log, scramUsers: false });
    await ensureScramUsers(this.spec, bootstrapServers);
    this.warnIfNoSaslListener(status, log);
    await this.waitForScramUsers(status, options.timeoutMs);
    await this.waitForGroupCoordinators(log, options.timeoutMs ?? 120_000);
    const durationMs = Date.now() - started;
    log(`The ${this.spec.name} cluster is up in ${(durationMs / 1000).toFixed(1)}s: ${bootstrapServers} (SASL_SSL ${this.saslBootstrapServers()})`);
    return { bootstrapServers, startedNodes: toStart.map((n) => n.id), durationMs };
  }

  /** Starts one stopped node (its ports must be free) without waiting for it to join. */
  async startNode(id: number, options: StartOptions = {}): Promise<void> {
    requireJavaAndKafka(options.kafkaVersion ?? this.spec.kafkaVersion);
    const node = this.node(id);
    if (this.runningPid(node) !== undefined) return;
    fs.rmSync(node.pidFile, { force: true });
    await this.checkPorts(node);
    await this.prepareAndSpawn([node], options);
  }

  /**
   * Stops one node with SIGTERM (the broker's controlled shutdown moves its partition leadership
   * away first) and waits for it to exit; SIGKILL after the timeout. Returns false if it was not running.
   */
  async stopNode(id: number, options: StopOptions = {}): Promise<boolean> {
    const log = options.log ?? console.log;
    const node = this.node(id);
    const pid = this.runningPid(node);
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

  /** SIGKILLs one node, as a crash or a lost machine would: no controlled shutdown, no flush. */
  async killNode(id: number): Promise<boolean> {
    const node = this.node(id);
    const pid = this.runningPid(node);
    if (pid === undefined) return false;
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 10_000);
    fs.rmSync(node.pidFile, { force: true });
    return true;
  }

  /** Stops every node; data is kept unless `purge` is set. */
  async down(options: ClusterDownOptions = {}): Promise<void> {
    const log = options.log ?? console.log;
    const nodes = this.nodes();
    const timeoutMs = options.timeoutMs ?? 60_000;
    const running = nodes.flatMap((node) => {
      const pid = this.runningPid(node);
      if (pid === undefined) fs.rmSync(node.pidFile, { force: true });
      return pid === undefined ? [] : [{ node, pid }];
    });
    if (running.length === 0) log(`The ${this.spec.name} cluster is not running`);
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
      removeIdentity(this.spec);
      log(`Deleted the ${this.spec.name} cluster's data in ${this.spec.dir}`);
    }
  }

  /** The KRaft quorum as Kafka's own `kafka-metadata-quorum describe --status` sees it. */
  async describeQuorum(bootstrapServers = this.bootstrapServers()): Promise<QuorumStatus> {
    const out = await runKafkaTool(KafkaTools.metadataQuorum, ['--bootstrap-server', bootstrapServers, 'describe', '--status'], { timeoutMs: 30_000 });
    return parseQuorum(out);
  }

  /** Ids of the registered, unfenced brokers as a client sees them. */
  async describeBrokers(bootstrapServers = this.bootstrapServers()): Promise<number[]> {
    const kafka = new Kafka({
      clientId: `${this.spec.name}-health`,
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

  /**
   * Per node: process alive, ports listening; cluster-wide: quorum leader and voters
   * (Kafka's MetadataQuorumCommand) and registered brokers, when reachable.
   */
  async status(): Promise<ClusterStatus> {
    const nodes = this.nodes();
    const ids = nodes.map((n) => n.id);
    const bootstrapServers = this.bootstrapServers();
    const statuses = await this.nodeStatuses(nodes);
    const reachable = statuses.filter((s) => s.clientListening).map((s) => `${HOST}:${s.clientPort}`);
    if (reachable.length === 0) {
      return { bootstrapServers, nodes: statuses, quorumError: 'no client listener is reachable', brokersError: 'no client listener is reachable', healthy: false };
    }
    const [quorum, brokers] = await Promise.allSettled([this.describeQuorum(reachable.join(',')), this.describeBrokers(reachable.join(','))]);
    const q = quorum.status === 'fulfilled' ? quorum.value : undefined;
    const b = brokers.status === 'fulfilled' ? brokers.value : undefined;
    const healthy =
      statuses.every((s) => s.alive && s.clientListening && s.controllerListening) && q !== undefined && ids.includes(q.leaderId) && sameIds(q.voters, ids) && sameIds(b, ids);
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

  /**
   * Waits until every node runs, the quorum has a leader with all nodes as voters and every
   * broker is registered. Fails early when a node process dies, pointing to its log.
   */
  async waitForHealthy(options: WaitOptions = {}): Promise<ClusterStatus> {
    const log = options.log ?? console.log;
    const timeoutMs = options.timeoutMs ?? 120_000;
    const nodes = this.nodes();
    const ids = nodes.map((n) => n.id);
    const started = Date.now();
    let lastReport = started;
    let summary = 'no node reachable yet';
    for (;;) {
      for (const node of nodes) {
        if (this.runningPid(node) === undefined) {
          throw new Error(`node ${node.id} is not running (it exited or was never started); see ${node.logFile}:\n${tailFile(node.logFile)}`);
        }
      }
      // The client probe is cheap; the quorum tool starts a JVM, so it runs only once all brokers are visible.
      const brokers = await this.describeBrokers().catch((err: unknown) => errorText(err));
      if (Array.isArray(brokers) && sameIds(brokers, ids)) {
        const quorum = await this.describeQuorum().catch((err: unknown) => errorText(err));
        if (typeof quorum !== 'string' && ids.includes(quorum.leaderId) && sameIds(quorum.voters, ids)) {
          const status = await this.status();
          // A restarted broker answers before it has replayed every SCRAM credential.
          if (options.scramUsers ?? this.scramUsersCreated()) await this.waitForScramUsers(status, Math.max(timeoutMs - (Date.now() - started), 10_000));
          return status;
        }
        summary = `brokers [${brokers.join(',')}] registered, quorum: ${typeof quorum === 'string' ? quorum : `leader ${quorum.leaderId}, voters [${quorum.voters.join(',')}]`}`;
      } else {
        summary = Array.isArray(brokers) ? `brokers registered: [${brokers.join(',')}] of [${ids.join(',')}]` : `brokers not reachable yet (${brokers})`;
      }
      const elapsed = Date.now() - started;
      if (elapsed > timeoutMs) {
        throw new Error(
          `the ${this.spec.name} cluster is not healthy after ${Math.round(elapsed / 1000)}s (${summary}); ` +
            `see the node logs:\n${nodes.map((n) => `  ${n.logFile}`).join('\n')}\n` +
            `last lines of ${nodes[0].logFile}:\n${tailFile(nodes[0].logFile)}`,
        );
      }
      if (Date.now() - lastReport >= 5000) {
        log(`  ... waiting for the quorum and ${ids.length} brokers (${Math.round(elapsed / 1000)}s): ${summary}`);
        lastReport = Date.now();
      }
      await sleep(1000);
    }
  }

  /**
   * Waits until every partition of the offsets topic has a coordinator that answers: a cluster
   * that has just started creates or loads them, and until then every group's first commit or
   * offset lookup fails with COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR. One probe group per
   * partition (Kafka maps a group to `abs(hashCode) % partitions`).
   */
  async waitForGroupCoordinators(log: Log, timeoutMs: number): Promise<void> {
    const kafka = new Kafka({ clientId: `${this.spec.name}-health`, brokers: this.bootstrapServers().split(','), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    const started = Date.now();
    let lastReport = started;
    let last = '';
    try {
      await admin.connect();
      for (;;) {
        try {
          // The first lookup creates the offsets topic on a fresh cluster.
          await admin.describeGroups([`${this.spec.name}-readiness`]);
          const [offsets] = (await admin.fetchTopicMetadata({ topics: [OFFSETS_TOPIC] })).topics;
          await admin.describeGroups(probeGroups(`${this.spec.name}-readiness`, offsets.partitions.length));
          return;
        } catch (err) {
          last = errorText(err);
        }
        const elapsed = Date.now() - started;
        if (elapsed > timeoutMs) throw new Error(`the ${this.spec.name} cluster's group coordinators did not answer within ${Math.round(elapsed / 1000)}s: ${last}`);
        if (Date.now() - lastReport >= 5000) {
          log(`  ... waiting for the group coordinators (${Math.round(elapsed / 1000)}s): ${last}`);
          lastReport = Date.now();
        }
        await sleep(500);
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async checkPorts(node: LocalNode): Promise<void> {
    const { configKey: key, portsDefinedIn: file } = this.spec;
    await ensurePortFree(node.clientPort, `node ${node.id} client listener`, `${key}.clientBasePort`, file);
    await ensurePortFree(node.controllerPort, `node ${node.id} controller listener`, `${key}.controllerBasePort`, file);
    await ensurePortFree(node.saslPort, `node ${node.id} SASL_SSL listener`, `${key}.saslBasePort`, file);
    if (node.externalPort !== undefined) await ensurePortFree(node.externalPort, `node ${node.id} EXTERNAL listener`, `${key}.externalBasePort`, file);
    if (node.podNetworkPort !== undefined) await ensurePortFree(node.podNetworkPort, `node ${node.id} PODS listener`, `${key}.podNetworkBasePort`, file);
  }

  private async nodeStatuses(nodes: readonly LocalNode[]): Promise<NodeStatus[]> {
    return Promise.all(
      nodes.map(async (n) => {
        const pid = this.runningPid(n);
        const [clientListening, controllerListening, saslListening] = await Promise.all([isListening(n.clientPort), isListening(n.controllerPort), isListening(n.saslPort)]);
        return {
          id: n.id,
          pid,
          alive: pid !== undefined,
          kafkaVersion: this.nodeVersion(n),
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

  private async prepareAndSpawn(toStart: readonly LocalNode[], options: StartOptions): Promise<void> {
    const log = options.log ?? console.log;
    const nodes = this.nodes();
    const version = options.kafkaVersion ?? this.spec.kafkaVersion;
    const identity = loadOrCreateIdentity(this.spec, nodes);
    const tls = await ensureTls(this.spec, log);
    for (const node of toStart) {
      fs.mkdirSync(node.dataDir, { recursive: true });
      // Owner-only: it holds the keystore password.
      fs.writeFileSync(node.configFile, serverProperties(node, nodes, tls), { mode: 0o600 });
      fs.chmodSync(node.configFile, 0o600);
      fs.writeFileSync(node.log4jFile, LOG4J2_PROPERTIES);
    }
    const unformatted = toStart.filter((n) => !isFormatted(n));
    if (unformatted.length > 0) {
      log(`Formatting storage of node(s) ${unformatted.map((n) => n.id).join(', ')} (cluster id ${identity.clusterId})`);
      await Promise.all(unformatted.map((n) => formatStorage(this.spec, n, nodes, identity, version)));
    }
    for (const node of toStart) {
      const pid = this.spawnNode(node, version, options);
      log(`Started node ${node.id} (Kafka ${version}, pid ${pid}, client ${HOST}:${node.clientPort}, SASL_SSL ${HOST}:${node.saslPort}, controller ${HOST}:${node.controllerPort}, log ${node.logFile})`);
    }
  }

  private spawnNode(node: LocalNode, version: string, options: StartOptions): number {
    // Keep one previous log; a long-lived dev cluster must not fill the disk.
    if (fs.existsSync(node.logFile) && fs.statSync(node.logFile).size > MAX_LOG_BYTES) {
      fs.renameSync(node.logFile, `${node.logFile}.1`);
    }
    const out = fs.openSync(node.logFile, 'a');
    fs.writeSync(out, `\n==== ${new Date().toISOString()} starting node ${node.id} (Kafka ${version})\n`);
    const args = [
      '-Xmx512m',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${node.log4jFile}`,
      `-Dkafka.logs.dir=${node.dir}`,
      ...(options.extraJvmArgs?.(node.id) ?? []),
      '-cp',
      kafkaClasspath(version),
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
    fs.writeFileSync(node.versionFile, `${version}\n`);
    return child.pid;
  }

  /** Whether `up` has created the SCRAM users (their password files exist). */
  private scramUsersCreated(): boolean {
    return LOCAL_SCRAM_USERS.every((name) => fs.existsSync(userPasswordFile(this.spec, name)));
  }

  /**
   * Waits until every SCRAM user authenticates on every node's SASL_SSL listener. Credentials
   * reach each broker asynchronously through the metadata log, so a client that connects right
   * after they were set can be refused for a moment, and kafkajs treats that refusal as fatal.
   * Worse, a combined broker+controller node of Kafka 4.3.1 that restarts keeps refusing every
   * SCRAM login (docs/services.md, "Proven locally"): it does not take the credentials from the
   * metadata it loads at startup, only from credential records that arrive after it started. So
   * when a login is refused, the same passwords are written again, which is such a record.
   */
  private async waitForScramUsers(status: ClusterStatus, timeoutMs = 60_000): Promise<void> {
    const ca = fs.readFileSync(caFile(this.spec), 'utf8');
    const probes = status.nodes
      .filter((n) => n.saslListening)
      .flatMap((n) => LOCAL_SCRAM_USERS.map((username) => ({ address: `${HOST}:${n.saslPort}`, username })));
    const deadline = Date.now() + timeoutMs;
    let rewrittenAt = 0;
    for (const probe of probes) {
      const password = fs.readFileSync(userPasswordFile(this.spec, probe.username), 'utf8').trim();
      for (;;) {
        const error = await scramLogin(probe.address, ca, probe.username, password, `${this.spec.name}-scram-probe`);
        if (error === undefined) break;
        if (Date.now() > deadline) {
          throw new Error(`SCRAM user "${probe.username}" cannot authenticate on ${probe.address} after ${Math.round(timeoutMs / 1000)}s: ${error}`);
        }
        if (Date.now() - rewrittenAt > 10_000) {
          await ensureScramUsers(this.spec, this.bootstrapServers());
          rewrittenAt = Date.now();
        }
        await sleep(500);
      }
    }
  }

  /** Nodes started before the SASL_SSL listener existed keep running without it until restarted. */
  private warnIfNoSaslListener(status: ClusterStatus, log: Log): void {
    const missing = status.nodes.filter((n) => !n.saslListening);
    if (missing.length === 0) return;
    log(
      `WARNING: node(s) ${missing.map((n) => n.id).join(', ')} have no SASL_SSL listener on port(s) ${missing.map((n) => n.saslPort).join(', ')} ` +
        '(started with an older configuration): restart the cluster with `npm run kafka:down && npm run kafka:up`',
    );
  }
}

/** One SCRAM-SHA-512 login over TLS, no retry (as kafkajs' services do): undefined when it succeeds, else the error. */
export async function scramLogin(address: string, ca: string, username: string, password: string, clientId: string): Promise<string | undefined> {
  const admin = new Kafka({
    clientId,
    brokers: [address],
    ssl: { ca: [ca] },
    sasl: { mechanism: 'scram-sha-512', username, password },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    return undefined;
  } catch (err) {
    return errorText(err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const OFFSETS_TOPIC = '__consumer_offsets';

/** Java's String.hashCode, which Kafka uses to place a group on an offsets partition. */
function javaHashCode(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/** Group ids of `prefix-N` form, one for each of the offsets topic's `partitions`. */
export function probeGroups(prefix: string, partitions: number): string[] {
  const byPartition = new Map<number, string>();
  for (let n = 0; byPartition.size < partitions && n < partitions * 1000; n++) {
    const group = `${prefix}-${n}`;
    // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
    const h = javaHashCode(group);
    const partition = (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
    if (!byPartition.has(partition)) byPartition.set(partition, group);
  }
  return [...byPartition.values()];
}
