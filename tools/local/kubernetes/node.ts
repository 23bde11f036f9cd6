/**
 * A real node on this machine: containerd 2.x, runc and a kubelet built from source, running
 * static pods (no API server needed yet). Both run inside one private mount
 * namespace, so the node's mounts (container root filesystems, volumes) never reach the host
 * and vanish with it, and so the kubelet sees the kernel settings it insists on without the
 * shared host's being changed.
 *
 *   npm run k8s:node -- up|down|status [DIR]   (DIR: .cache/local-node)
 */
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { promisify } from 'util';
import { ConfigError, localNode, localNodeProblems } from '../../../config';
import { CACHE_DIR } from '../../paths';
import { ensurePortFree, Log, readPidFile, runMain, sleep, tailFile } from '../process';
import { bridgeAddress, KUBELET_SYSCTLS, NodeLayout, nodeLayout, NodeRegistration, renderCniConfig, renderContainerdConfig, renderKubeletConfig, renderRegistryHosts } from './node-config';
import { localRegistryAddress } from '../../images/registry';
import { BUSYBOX_IMAGE, NodeImage, nodeImages, PAUSE_IMAGE } from './node-images';
import { ensureNodeBinaries, NodeBinaries, nodeBinaryPaths } from './node-build';
import {
  BridgeState,
  bridgeState,
  cgroupDirs,
  createBridge,
  createCgroupRoot,
  hostMounts,
  killCgroup,
  missingHostTool,
  removeBridge,
  removeCgroupRoot,
  running,
  shimPids,
} from './node-host';

export { missingHostTool };

const run = promisify(execFile);
const CRI_NAMESPACE = 'k8s.io';
/** The project's local registry (environments.local.imageRegistry), where `npm run images` pushes. */
const localRegistryHost = () => localRegistryAddress().host;

export interface NodeUpResult {
  /** Milliseconds until containerd answered and the kubelet was healthy. */
  readonly readyInMs: number;
  readonly images: { readonly pause: string; readonly busybox: string };
}

/** Joining a control plane: what the kubelet registers with, and what the node needs first. */
export interface NodeJoin {
  readonly registration: NodeRegistration;
  /** Pods reach Services through the bridge's address (a route in every pod). */
  readonly serviceCidr: string;
  /**
   * Pod ranges of the cluster's simulated nodes, routed the same way: their pods run no
   * container, but this machine may answer for some of their addresses (a stand-in's relays).
   */
  readonly simulatedPodCidrs?: readonly string[];
  /** More images to import (e.g. the cluster DNS's). */
  readonly images?: readonly NodeImage[];
  /** Runs once the bridge exists, before the kubelet starts (the host's rules for it). */
  readonly prepareNetwork?: () => Promise<void>;
}

/** A pod as the kubelet's `/runningpods/` lists it. */
export interface RunningPod {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly uid: string };
  readonly spec: { readonly containers: ReadonlyArray<{ readonly name: string; readonly image: string }> };
}

/** A pod as the kubelet's `/pods` lists it (the fields read here). */
export interface KubeletPod {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly status: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly containerStatuses?: ReadonlyArray<{ readonly name: string; readonly ready: boolean; readonly state: Record<string, unknown>; readonly imageID: string }>;
  };
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https') ? https : http).get(url, { timeout: 3000, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
  });
}

export class LocalNode {
  readonly layout: NodeLayout;

  constructor(
    dir: string,
    readonly config = localNode,
    readonly bin: NodeBinaries = nodeBinaryPaths(),
  ) {
    this.layout = nodeLayout(config, path.resolve(dir));
  }

  private pid(name: keyof NodeLayout['pids']): number | undefined {
    const pid = readPidFile(this.layout.pids[name]);
    return pid !== undefined && running(pid) ? pid : undefined;
  }

  running(): boolean {
    return this.pid('kubelet') !== undefined && this.pid('containerd') !== undefined;
  }

  /** `ctr` against this node's containerd, in the CRI namespace. */
  async ctr(...args: string[]): Promise<string> {
    const { stdout } = await run(this.bin.ctr, ['--address', this.layout.containerdSocket, '--namespace', CRI_NAMESPACE, ...args], { maxBuffer: 16 << 20 });
    return stdout;
  }

  /**
   * Starts containerd and the kubelet (building them first when missing), then loads the
   * images. With `join`, the kubelet registers with an API server (node-cluster.ts).
   */
  async up(log: Log = console.log, timeoutMs = 120_000, join?: NodeJoin): Promise<NodeUpResult> {
    const problems = localNodeProblems(this.config);
    if (problems.length) throw new ConfigError(problems);
    const missing = missingHostTool();
    if (missing) throw new Error(missing);
    if (this.running()) throw new Error(`the node in ${this.layout.dir} already runs: stop it first (down)`);
    const c = this.config;
    for (const [port, key] of [
      [c.kubeletPort, 'kubeletPort'],
      [c.kubeletReadOnlyPort, 'kubeletReadOnlyPort'],
      [c.kubeletHealthzPort, 'kubeletHealthzPort'],
      [c.containerdStreamPort, 'containerdStreamPort'],
    ] as const) {
      await ensurePortFree(port, `the local node's ${key}`, `localNode.${key}`);
    }
    await ensureNodeBinaries();
    try {
      return await this.start(log, timeoutMs, join);
    } catch (err) {
      // Nothing half-started stays behind; the logs do.
      await this.down(() => undefined);
      throw err;
    }
  }

  private async start(log: Log, timeoutMs: number, join?: NodeJoin): Promise<NodeUpResult> {
    const c = this.config;
    const started = Date.now();
    const l = this.layout;
    for (const d of [l.binDir, l.ipamDir, l.staticPodDir, l.podLogsDir, l.varLogDir, l.shimSocketDir, l.sysctlDir, l.cniConfDir, l.kubeletRoot, path.dirname(l.logs.kubelet), path.dirname(l.pids.kubelet), path.dirname(l.containerdConfig)]) {
      fs.mkdirSync(d, { recursive: true });
    }
    const runc = this.bin.runc;
    for (const [name, target] of [
      ['containerd-shim-runc-v2', this.bin.containerdShim],
      ['runc', runc],
    ]) {
      fs.rmSync(path.join(l.binDir, name), { force: true });
      fs.symlinkSync(target, path.join(l.binDir, name));
    }
    fs.writeFileSync(l.containerdConfig, renderContainerdConfig(l, runc));
    const registry = localRegistryHost();
    fs.mkdirSync(path.join(l.registryHostsDir, registry), { recursive: true });
    fs.writeFileSync(path.join(l.registryHostsDir, registry, 'hosts.toml'), renderRegistryHosts(registry));
    // Before containerd starts: without a network config the CRI reports the network not ready.
    fs.writeFileSync(path.join(l.cniConfDir, '10-kafka-platform-node.conflist'), renderCniConfig(l, join ? [join.serviceCidr, ...(join.simulatedPodCidrs ?? [])] : []));
    fs.rmSync(l.ipamDir, { recursive: true, force: true });
    await createBridge(this.config.bridge, bridgeAddress(this.config.podSubnet));
    if (join?.prepareNetwork) await join.prepareNetwork();
    fs.writeFileSync(l.kubeletConfig, renderKubeletConfig(l, join?.registration));
    createCgroupRoot(this.layout.cgroupRoot);

    const ns = await this.startNamespace();
    log(`Starting containerd (log: ${l.logs.containerd})`);
    this.spawnInNamespace(ns, 'containerd', [this.bin.containerd, '--config', l.containerdConfig]);
    await this.waitFor('containerd', timeoutMs, async () => {
      await this.ctr('version');
      return true;
    });

    log('Loading the pause and busybox images');
    const images = nodeImages(l.imagesDir);
    for (const image of [images.pause, images.busybox, ...(join?.images ?? [])]) {
      await this.ctr('images', 'import', '--local', image.archive);
      // Pinned: the kubelet's image garbage collection leaves them be.
      await this.ctr('images', 'label', image.name, 'io.cri-containerd.pinned=pinned');
    }

    const reg = join?.registration;
    log(`Starting kubelet on ${reg ? reg.nodeIp : '127.0.0.1'}:${c.kubeletPort}${reg ? ', registering with the API server' : ''} (log: ${l.logs.kubelet})`);
    this.spawnInNamespace(ns, 'kubelet', [
      this.bin.kubelet,
      `--config=${l.kubeletConfig}`,
      `--root-dir=${l.kubeletRoot}`,
      `--cert-dir=${path.join(l.kubeletRoot, 'pki')}`,
      `--hostname-override=${c.name}`,
      // Registered, its address is the bridge's: 127.0.0.1 is refused ("nodeIP can't be
      // loopback address"), and the API server reaches the kubelet there.
      ...(reg
        ? [
            `--kubeconfig=${reg.kubeconfig}`,
            `--node-ip=${reg.nodeIp}`,
            `--node-labels=${Object.entries(reg.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')}`,
          ]
        : []),
      '--v=2',
    ]);
    await this.waitFor('kubelet', timeoutMs, async () => (await httpGet(`http://127.0.0.1:${c.kubeletHealthzPort}/healthz`)).status === 200);
    const digest = async (name: string) => (await this.ctr('images', 'ls', `name==${name}`)).split('\n')[1]?.split(/\s+/)[2] ?? '';
    return { readyInMs: Date.now() - started, images: { pause: await digest(PAUSE_IMAGE), busybox: await digest(BUSYBOX_IMAGE) } };
  }

  /** Writes a static pod manifest; the kubelet picks it up within `fileCheckFrequency`. */
  writeStaticPod(name: string, manifest: string): string {
    const file = path.join(this.layout.staticPodDir, `${name}.yaml`);
    // Renamed into place: the kubelet skips dot files and would log a half-written one as unparsable.
    const partial = path.join(this.layout.staticPodDir, `.${name}.yaml.partial`);
    fs.writeFileSync(partial, manifest);
    fs.renameSync(partial, file);
    return file;
  }

  /** The kubelet's pods with their status, from its read-only port. */
  async pods(): Promise<KubeletPod[]> {
    const res = await httpGet(`http://127.0.0.1:${this.config.kubeletReadOnlyPort}/pods`);
    if (res.status !== 200) throw new Error(`kubelet /pods answered ${res.status}: ${res.body}`);
    return (JSON.parse(res.body) as { items?: KubeletPod[] }).items ?? [];
  }

  /** Pods the kubelet's runtime reports running (its authenticated port, anonymous allowed here). */
  async runningPods(): Promise<RunningPod[]> {
    const res = await httpGet(`https://127.0.0.1:${this.config.kubeletPort}/runningpods/`);
    if (res.status !== 200) throw new Error(`kubelet /runningpods/ answered ${res.status}: ${res.body}`);
    return (JSON.parse(res.body) as { items?: RunningPod[] }).items ?? [];
  }

  /** The log of a container of a pod, as the kubelet's CRI logging wrote it. */
  containerLog(namespace: string, pod: string, container: string): string | undefined {
    if (!fs.existsSync(this.layout.podLogsDir)) return undefined;
    const podDir = fs.readdirSync(this.layout.podLogsDir).find((d) => d.startsWith(`${namespace}_${pod}_`));
    if (!podDir) return undefined;
    const dir = path.join(this.layout.podLogsDir, podDir, container);
    if (!fs.existsSync(dir)) return undefined;
    return fs
      .readdirSync(dir)
      .sort()
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('');
  }

  /**
   * Stops everything the node started: the kubelet, every container (killed through its
   * cgroup), containerd, the shims, the namespace, then removes the node's cgroups.
   */
  async down(log: Log = console.log): Promise<void> {
    const kubelet = this.pid('kubelet');
    if (kubelet !== undefined) await this.stop('kubelet', kubelet, log);
    // Containers first, by cgroup: whatever the kubelet left running dies with its cgroup.
    killCgroup(this.layout.cgroupRoot);
    const containerd = this.pid('containerd');
    if (containerd !== undefined) {
      try {
        for (const id of (await this.ctr('tasks', 'ls', '-q')).split('\n').filter(Boolean)) {
          await this.ctr('tasks', 'delete', '--force', id).catch(() => undefined);
        }
      } catch {
        // containerd already gone: the shims are found below.
      }
      await this.stop('containerd', containerd, log);
    }
    for (const pid of this.shimPids()) {
      log(`Stopping containerd shim ${pid}`);
      process.kill(pid, 'SIGKILL');
      await this.exited(pid, 5000);
    }
    const ns = this.pid('namespace');
    if (ns !== undefined) await this.stop('namespace', ns, log);
    removeCgroupRoot(this.layout.cgroupRoot);
    await removeBridge(this.config.bridge);
  }


  /** The node's bridge on the host, if it exists, and its IPv4 addresses. */
  bridgeState(): Promise<BridgeState> {
    return bridgeState(this.config.bridge);
  }

  /** Shims serving this node's containerd. */
  shimPids(): number[] {
    return shimPids(this.layout.containerdSocket);
  }

  /** Mounts of the node's folder visible on the host: none, by design. */
  hostMounts(): string[] {
    return hostMounts(this.layout.dir);
  }

  /** The node's cgroup directories still on the host. */
  cgroupLeftovers(): string[] {
    return cgroupDirs(this.layout.cgroupRoot);
  }

  status(): { containerd?: number; kubelet?: number; namespace?: number; shims: number[] } {
    return { containerd: this.pid('containerd'), kubelet: this.pid('kubelet'), namespace: this.pid('namespace'), shims: this.shimPids() };
  }

  private async exited(pid: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (running(pid) && Date.now() < deadline) await sleep(100);
    return !running(pid);
  }

  private async stop(name: string, pid: number, log: Log): Promise<void> {
    log(`Stopping ${name} (pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    if (!(await this.exited(pid, 15_000))) {
      process.kill(pid, 'SIGKILL');
      await this.exited(pid, 5000);
    }
  }

  /**
   * The private mount namespace, held open by a sleeping process: inside, the node's own
   * folders cover /var/log (the kubelet's container log links) and /run/containerd (shim
   * sockets), and files with the kubelet's wanted values cover the kernel settings it checks.
   */
  private async startNamespace(): Promise<number> {
    const l = this.layout;
    const old = this.pid('namespace');
    if (old !== undefined) return old;
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', 'infinity'], { detached: true, stdio: 'ignore' });
    if (child.pid === undefined) throw new Error('could not start the node namespace (unshare)');
    child.unref();
    fs.writeFileSync(l.pids.namespace, `${child.pid}\n`);
    const ns = child.pid;
    // unshare has switched namespaces once its mount namespace differs from ours.
    await this.waitFor('namespace', 10_000, async () => fs.readlinkSync(`/proc/${ns}/ns/mnt`) !== fs.readlinkSync('/proc/self/ns/mnt'));
    // An empty mount point on the host; the shims' sockets go to the node's folder instead.
    fs.mkdirSync('/run/containerd', { recursive: true });
    const binds: Array<[string, string]> = [
      [l.varLogDir, '/var/log'],
      [l.shimSocketDir, '/run/containerd'],
    ];
    for (const [key, wanted] of Object.entries(KUBELET_SYSCTLS)) {
      const file = path.join(l.sysctlDir, key.replace(/\//g, '.'));
      fs.writeFileSync(file, `${wanted}\n`);
      binds.push([file, `/proc/sys/${key}`]);
    }
    for (const [source, target] of binds) await run('nsenter', [`--target=${ns}`, '--mount', '--', 'mount', '--bind', source, target]);
    return ns;
  }

  private spawnInNamespace(ns: number, name: 'containerd' | 'kubelet', command: readonly string[]): void {
    const logFile = this.layout.logs[name];
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `\n--- ${new Date().toISOString()} ${command.join(' ')}\n`);
    // nsenter enters the namespace and then runs the command in its own place: the pid is the component's.
    const child = spawn('nsenter', [`--target=${ns}`, '--mount', '--', ...command], {
      cwd: this.layout.dir,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, PATH: `${this.layout.binDir}:/usr/sbin:/usr/bin:/sbin:/bin` },
    });
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${name}`);
    child.unref();
    fs.writeFileSync(this.layout.pids[name], `${child.pid}\n`);
  }

  private async waitFor(name: keyof NodeLayout['pids'], timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.pid(name) === undefined) {
        const logFile = name === 'namespace' ? undefined : this.layout.logs[name];
        throw new Error(`${name} exited during start-up.${logFile ? ` Last lines of ${logFile}:\n${tailFile(logFile, 30)}` : ''}`);
      }
      try {
        if (await ready()) return;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(300);
    }
    throw new Error(`${name} not ready after ${timeoutMs / 1000}s (${last})`);
  }

}

if (require.main === module) {
  runMain(async () => {
    const [cmd, dir = path.join(CACHE_DIR, 'local-node')] = process.argv.slice(2);
    const node = new LocalNode(dir);
    if (cmd === 'up') {
      const r = await node.up();
      console.log(`node ready in ${(r.readyInMs / 1000).toFixed(1)}s; images: pause ${r.images.pause}, busybox ${r.images.busybox}`);
      console.log(`static pods: ${node.layout.staticPodDir}`);
      return 0;
    }
    if (cmd === 'down') {
      await node.down();
      return 0;
    }
    if (cmd === 'status') {
      console.log(JSON.stringify(node.status()));
      return 0;
    }
    console.error('usage: node.ts up|down|status [DIR]');
    return 2;
  }, 'local node');
}
