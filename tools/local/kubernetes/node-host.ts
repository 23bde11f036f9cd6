import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { which } from '../../go-build';

/**
 * What the local node touches on the host, each with its way back: the tools it needs, its
 * cgroups (v1, cgroupfs), its bridge, and how its processes and mounts are found.
 */

const run = promisify(execFile);
const CGROUP_FS = '/sys/fs/cgroup';

/** Host tools the node needs beyond what the project builds, and the Debian package of each. */
const HOST_TOOLS: ReadonlyArray<readonly [string, string]> = [
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
  ['mount', 'mount'],
  ['ip', 'iproute2'],
  ['iptables', 'iptables'],
  ['iptables-save', 'iptables'],
  ['ipset', 'ipset'],
  ['socat', 'socat'],
];

/** The first missing host tool, named with the package that brings it. */
export function missingHostTool(tools: ReadonlyArray<readonly [string, string]> = HOST_TOOLS): string | undefined {
  for (const [tool, pkg] of tools) {
    if (!which(tool) && !fs.existsSync(`/usr/sbin/${tool}`) && !fs.existsSync(`/usr/bin/${tool}`)) {
      return `${tool} is missing: the local node needs it; install it with: apt-get install -y ${pkg}`;
    }
  }
  if (!fs.existsSync('/usr/lib/cni/host-local')) return 'the CNI plugins are missing: the local node needs them; install them with: apt-get install -y containernetworking-plugins';
  if (!fs.existsSync('/bin/busybox')) return "/bin/busybox is missing: the node's test image is made from it; install it with: apt-get install -y busybox-static";
  if (process.getuid?.() !== 0) return 'the local node needs root (mount namespaces, cgroups, runc)';
  return undefined;
}

/**
 * Whether `pid` runs (a zombie does not). By /proc/PID/stat rather than the command line,
 * which reads empty while nsenter replaces itself with the component.
 */
export function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Shims serving the containerd at `socket` (their command line names it; argv[0] is the resolved binary). */
export function shimPids(socket: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return path.basename(cmd[0]).startsWith('containerd-shim-runc-v2') && cmd.includes(socket);
      } catch {
        return false;
      }
    });
}

/** Mounts below `dir` visible in this (the host's) mount namespace. */
export function hostMounts(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4]?.startsWith(dir));
}

/**
 * Mount points of the cgroup hierarchies: one per v1 controller and the v2 one of a hybrid
 * host (as here), or the single v2 one of a unified host (/sys/fs/cgroup itself).
 */
function cgroupMounts(): Array<{ dir: string; v1: boolean }> {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, dir, type]) => (type === 'cgroup' || type === 'cgroup2') && dir?.startsWith(CGROUP_FS))
    .map(([, dir, type]) => ({ dir, v1: type === 'cgroup' }));
}

function cgroupHierarchies(): string[] {
  return cgroupMounts().map((m) => m.dir);
}

/** The directories of cgroup `root` that exist, one per hierarchy. */
export function cgroupDirs(root: string): string[] {
  return cgroupHierarchies()
    .map((h) => path.join(h, root))
    .filter((d) => fs.existsSync(d));
}

/** The kubelet's cgroupRoot must exist in every hierarchy; cpuset needs its CPUs and memory nodes set. */
export function createCgroupRoot(root: string): void {
  for (const { dir: h, v1 } of cgroupMounts()) {
    const dir = path.join(h, root);
    fs.mkdirSync(dir, { recursive: true });
    // v1 only: a new v2 cgroup inherits its CPUs and memory nodes.
    for (const file of v1 ? ['cpuset.cpus', 'cpuset.mems'] : []) {
      if (fs.existsSync(path.join(dir, file)) && fs.readFileSync(path.join(dir, file), 'utf8').trim() === '') {
        fs.writeFileSync(path.join(dir, file), fs.readFileSync(path.join(h, file), 'utf8'));
      }
    }
  }
}

/** SIGKILL to every process in cgroup `root` and below (the node's containers). */
export function killCgroup(root: string): void {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    for (const p of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(p));
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  for (const d of cgroupDirs(root)) walk(d);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Removes cgroup `root`, deepest first (a cgroup goes once its processes have). */
export function removeCgroupRoot(root: string): void {
  const remove = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) remove(path.join(dir, e.name));
    for (let i = 0; i < 20; i++) {
      try {
        fs.rmdirSync(dir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
      }
    }
    throw new Error(`cgroup ${dir} stays busy: processes ${fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim()}`);
  };
  for (const d of cgroupDirs(root)) remove(d);
}

export interface BridgeState {
  readonly exists: boolean;
  /** IPv4 addresses as `address/prefix`. */
  readonly addresses: string[];
}

export async function bridgeState(dev: string): Promise<BridgeState> {
  try {
    const { stdout } = await run('ip', ['-4', '-j', 'addr', 'show', 'dev', dev]);
    const [link] = JSON.parse(stdout) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>;
    return { exists: true, addresses: link.addr_info.map((a) => `${a.local}/${a.prefixlen}`) };
  } catch {
    return { exists: false, addresses: [] };
  }
}

/** The bridge with its address made here, so the bridge plugin needs no gateway mode. */
export async function createBridge(dev: string, { address, prefix }: { address: string; prefix: number }): Promise<void> {
  if (!(await bridgeState(dev)).exists) await run('ip', ['link', 'add', dev, 'type', 'bridge']);
  await run('ip', ['addr', 'replace', `${address}/${prefix}`, 'dev', dev]);
  await run('ip', ['link', 'set', dev, 'up']);
}

export async function removeBridge(dev: string): Promise<void> {
  if ((await bridgeState(dev)).exists) await run('ip', ['link', 'del', dev]);
}
