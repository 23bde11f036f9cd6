import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { parse } from 'yaml';
import { ensurePortFree, errorText, isAlive, isListening, Log, runningPidFrom, sleep, tailFile, waitForExit } from '../process';
import { KubeApi, KubeObject, resourcePath } from './api';
import { KubernetesBinaries, kubernetesBinaryPaths, kwokStorageClassFile } from './build';
import { admissionConfigFile, clientKubeconfig, componentCommands, HEALTH, kwokConfigFile, renderAdmissionConfig, renderKwokConfig } from './components';
import { JoinedNode, JoinedNodeStatus } from './node-cluster';
import { KWOK_NODE_ANNOTATION } from './components';
import { apiServerUrl, COMPONENTS, ComponentLayout, ComponentName, LocalKubernetesLayout } from './layout';
import { nodeCount, nodeIsReady, simulatedNodes, ZONE_LABEL } from './nodes';
import { CLIENTS, ensurePki, renderKubeconfig } from './pki';

/**
 * A Kubernetes control plane on 127.0.0.1 from binaries built from source: etcd, the API
 * server (default admission plugins, PodSecurity among them), controller-manager, scheduler,
 * and kwok, whose simulated nodes (one per zone) run pods that turn Running and Ready without
 * containers. Each component is a detached process with a pid file and a log.
 */

export interface ComponentStatus {
  readonly name: ComponentName;
  readonly pid?: number;
  readonly port: number;
  readonly listening: boolean;
  readonly healthy: boolean;
  readonly logFile: string;
}

export interface NodeStatus {
  readonly name: string;
  readonly zone: string;
  readonly ready: boolean;
  /** A kwok node (no containers run on it), as opposed to the real node. */
  readonly simulated: boolean;
}

export interface LocalKubernetesStatus {
  readonly components: readonly ComponentStatus[];
  readonly nodes?: readonly NodeStatus[];
  readonly nodesError?: string;
  /** The real node's host processes, when the layout has one. */
  readonly realNode?: JoinedNodeStatus;
  /** Every component healthy and every node Ready. */
  readonly ready: boolean;
  readonly server: string;
  readonly kubeconfig: string;
}

export interface UpOptions {
  readonly log?: Log;
  /** How long to wait for each step (default 120 s). */
  readonly timeoutMs?: number;
}

export interface UpResult {
  readonly kubeconfig: string;
  readonly server: string;
  /** Components this call started (empty when everything already ran). */
  readonly started: readonly ComponentName[];
  /** Milliseconds until the API server was ready, the nodes Ready, and pods admissible. */
  readonly readyInMs: number;
}

const STOP_TIMEOUT_MS = 20_000;

/** GET of a health path; true on a 2xx answer. Self-signed serving certificates are fine here. */
function healthy(component: ComponentLayout): Promise<boolean> {
  const { path, https: tls } = HEALTH[component.name];
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${component.port}${path}`;
  return new Promise((resolve) => {
    const req = (tls ? https : http).get(url, { timeout: 2000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export class LocalKubernetes {
  /** The real node that joins this control plane, when its config has one. */
  readonly realNode?: JoinedNode;

  constructor(readonly layout: LocalKubernetesLayout) {
    if (layout.config.realNode) this.realNode = new JoinedNode(layout, layout.config.realNode);
  }

  get server(): string {
    return apiServerUrl(this.layout);
  }

  /** The pid of a running component of this control plane (its command line names this folder). */
  runningPid(name: ComponentName, bin: KubernetesBinaries = kubernetesBinaryPaths()): number | undefined {
    return runningPidFrom(this.layout.components[name].pidFile, binaryOf(bin, name), this.layout.dir);
  }

  /** A client with the admin credentials. */
  api(): KubeApi {
    return KubeApi.fromKubeconfig(this.layout.kubeconfig);
  }

  /**
   * Starts whatever is not running, in order, each once its predecessor answers; then the
   * StorageClass and nodes, and waits until the nodes are Ready and pods can be created.
   */
  async up(options: UpOptions = {}): Promise<UpResult> {
    const log = options.log ?? ((line: string) => console.log(line));
    const timeoutMs = options.timeoutMs ?? 120_000;
    const started = Date.now();
    const bin = kubernetesBinaryPaths();
    const missing = COMPONENTS.map((name) => binaryOf(bin, name)).filter((b) => !fs.existsSync(b));
    if (missing.length > 0) {
      throw new Error(`not built yet: ${missing.join(', ')}: run \`npm run k8s:up\` or \`npm run bootstrap -- --with-kubernetes\` (builds them once per machine: up to an hour on two cores)`);
    }
    // Every free port is checked before anything starts, so a conflict changes nothing.
    const toStart = COMPONENTS.filter((name) => this.runningPid(name, bin) === undefined);
    for (const name of toStart) {
      const c = this.layout.components[name];
      await ensurePortFree(c.port, `local Kubernetes ${name}`, c.portKey);
    }
    if (toStart.includes('etcd')) await ensurePortFree(this.layout.config.etcdPeerPort, 'local Kubernetes etcd peer', 'localKubernetes.etcdPeerPort');

    ensurePki(this.layout, log);
    this.writeConfigFiles();
    const commands = componentCommands(this.layout, bin);
    for (const name of COMPONENTS) {
      const component = this.layout.components[name];
      if (toStart.includes(name)) {
        log(`Starting ${name} on 127.0.0.1:${component.port} (log: ${component.logFile})`);
        this.spawn(component, commands[name]);
      }
      await this.waitHealthy(component, bin, timeoutMs);
    }

    const api = this.api();
    try {
      await this.applyStorageClassAndNodes(api);
      const nodes = nodeCount(this.layout.config);
      await api.waitFor(`${nodes} Ready simulated nodes`, async () => ((await this.nodeStatuses(api)).filter((n) => n.simulated && n.ready).length === nodes ? true : undefined), timeoutMs);
      // Pods of a namespace are refused until its `default` ServiceAccount exists.
      await api.waitFor('the default ServiceAccount', () => api.find(resourcePath('', 'v1', 'serviceaccounts', 'default', 'default')), timeoutMs);
      if (this.realNode) await this.realNode.up(api, log, Math.max(timeoutMs, 300_000));
    } finally {
      api.close();
    }
    const readyInMs = Date.now() - started;
    log(`Local Kubernetes ready at ${this.server} in ${(readyInMs / 1000).toFixed(1)}s: ${nodeCount(this.layout.config)} simulated nodes Ready (${this.layout.config.nodeLayout})${this.realNode ? ` and the real node ${this.realNode.config.name}` : ''}; kubeconfig ${this.layout.kubeconfig}`);
    return { kubeconfig: this.layout.kubeconfig, server: this.server, started: toStart, readyInMs };
  }

  /** Stops every component, newest first; `purge` also removes etcd's data (the certificates stay). */
  async down(options: { readonly purge?: boolean; readonly log?: Log } = {}): Promise<ComponentName[]> {
    const log = options.log ?? ((line: string) => console.log(line));
    const bin = kubernetesBinaryPaths();
    const stopped: ComponentName[] = [];
    // The node first: its kubelet and enforcer still talk to the API server while they stop.
    if (this.realNode) await this.realNode.down(log);
    for (const name of [...COMPONENTS].reverse()) {
      const pid = this.runningPid(name, bin);
      if (pid === undefined) continue;
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(pid, STOP_TIMEOUT_MS))) {
        log(`${name} (pid ${pid}) did not stop in ${STOP_TIMEOUT_MS / 1000}s: killing it`);
        process.kill(pid, 'SIGKILL');
        await waitForExit(pid, 5000);
      }
      fs.rmSync(this.layout.components[name].pidFile, { force: true });
      stopped.push(name);
    }
    log(stopped.length ? `Stopped ${stopped.join(', ')}` : 'Local Kubernetes was not running');
    if (options.purge) {
      for (const dir of [this.layout.etcdDataDir, this.layout.certDir, this.layout.configDir]) fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(this.layout.kubeconfig, { force: true });
      log(`Removed the cluster's data in ${this.layout.dir} (certificates kept)`);
    }
    return stopped;
  }

  async status(): Promise<LocalKubernetesStatus> {
    const bin = kubernetesBinaryPaths();
    const components = await Promise.all(
      COMPONENTS.map(async (name): Promise<ComponentStatus> => {
        const c = this.layout.components[name];
        const pid = this.runningPid(name, bin);
        return { name, pid, port: c.port, listening: await isListening(c.port), healthy: pid !== undefined && (await healthy(c)), logFile: c.logFile };
      }),
    );
    let nodes: NodeStatus[] | undefined;
    let nodesError: string | undefined;
    let realNode: JoinedNodeStatus | undefined;
    if (components.find((c) => c.name === 'kube-apiserver')?.healthy) {
      const api = this.api();
      try {
        nodes = await this.nodeStatuses(api);
        if (this.realNode) realNode = await this.realNode.status(api);
      } catch (err) {
        nodesError = errorText(err);
      } finally {
        api.close();
      }
    } else {
      nodesError = 'the API server is not running';
    }
    const simulated = nodes?.filter((n) => n.simulated) ?? [];
    const ready =
      components.every((c) => c.healthy) && nodes !== undefined && simulated.length === nodeCount(this.layout.config) && nodes.every((n) => n.ready) && (!this.realNode || realNode?.ready === true);
    return { components, nodes, nodesError, realNode, ready, server: this.server, kubeconfig: this.layout.kubeconfig };
  }

  private async nodeStatuses(api: KubeApi): Promise<NodeStatus[]> {
    const list = await api.get<{ items: KubeObject[] }>(resourcePath('', 'v1', 'nodes'));
    return list.items.map((n) => ({
      name: n.metadata.name,
      zone: n.metadata.labels?.[ZONE_LABEL] ?? '',
      ready: nodeIsReady(n),
      simulated: n.metadata.annotations?.[KWOK_NODE_ANNOTATION.key] === KWOK_NODE_ANNOTATION.value,
    }));
  }

  private writeConfigFiles(): void {
    fs.mkdirSync(this.layout.configDir, { recursive: true, mode: 0o700 });
    const write = (file: string, text: string) => fs.writeFileSync(file, text, { mode: 0o600 });
    for (const client of [CLIENTS.controllerManager, CLIENTS.scheduler, CLIENTS.kwok]) {
      write(clientKubeconfig(this.layout, client.file), renderKubeconfig(this.layout, client, this.server));
    }
    write(this.layout.kubeconfig, renderKubeconfig(this.layout, CLIENTS.admin, this.server));
    write(kwokConfigFile(this.layout), renderKwokConfig());
    if (this.layout.config.realNode) write(admissionConfigFile(this.layout), renderAdmissionConfig());
  }

  private spawn(component: ComponentLayout, command: readonly string[]): void {
    for (const file of [component.logFile, component.pidFile]) fs.mkdirSync(path.dirname(file), { recursive: true });
    const out = fs.openSync(component.logFile, 'a');
    fs.writeSync(out, `\n--- ${new Date().toISOString()} ${command.join(' ')}\n`);
    const [binary, ...args] = command;
    const child = spawn(binary, args, { cwd: this.layout.dir, detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${component.name} (${binary})`);
    fs.writeFileSync(component.pidFile, `${child.pid}\n`);
    child.unref();
  }

  private async waitHealthy(component: ComponentLayout, bin: KubernetesBinaries, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const pid = this.runningPid(component.name, bin);
      if (pid === undefined || !isAlive(pid)) {
        throw new Error(`${component.name} exited during start-up. Last lines of ${component.logFile}:\n${tailFile(component.logFile, 25)}`);
      }
      if (await healthy(component)) return;
      await sleep(200);
    }
    throw new Error(`${component.name} did not become healthy in ${timeoutMs / 1000}s. Last lines of ${component.logFile}:\n${tailFile(component.logFile, 25)}`);
  }

  /** kwok's `kwok-volume` StorageClass (the default) and the simulated nodes of the layout. */
  private async applyStorageClassAndNodes(api: KubeApi): Promise<void> {
    const storageClass = parse(fs.readFileSync(kwokStorageClassFile(), 'utf8')) as KubeObject;
    await api.apply(resourcePath('storage.k8s.io', 'v1', 'storageclasses', storageClass.metadata.name), storageClass);
    for (const node of simulatedNodes(this.layout.config)) {
      await api.apply(resourcePath('', 'v1', 'nodes', node.metadata.name), node);
    }
  }
}

function binaryOf(bin: KubernetesBinaries, name: ComponentName): string {
  const byName: Record<ComponentName, string> = {
    etcd: bin.etcd,
    'kube-apiserver': bin.kubeApiserver,
    'kube-controller-manager': bin.kubeControllerManager,
    'kube-scheduler': bin.kubeScheduler,
    kwok: bin.kwok,
  };
  return byName[name];
}
