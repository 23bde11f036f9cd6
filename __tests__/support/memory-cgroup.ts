import * as fs from 'fs';
import * as path from 'path';

/**
 * A real memory cgroup, as a container runtime makes for a pod's memory limit: the kernel
 * OOM-kills a process in it that goes over the limit, exactly as it would in the pod. cgroup v2
 * (memory.max) and v1 (memory.limit_in_bytes) are both supported; creating one needs root.
 */
export class MemoryCgroup {
  private constructor(
    readonly dir: string,
    private readonly v2: boolean,
  ) {}

  /** Creates `name` with `limitBytes`; fails with what to do when no memory controller is writable. */
  static create(name: string, limitBytes: number): MemoryCgroup {
    const v2Root = '/sys/fs/cgroup';
    const v1Root = '/sys/fs/cgroup/memory';
    const v2 = readOr(path.join(v2Root, 'cgroup.controllers'), '').split(/\s+/).includes('memory');
    const root = v2 ? v2Root : v1Root;
    if (!v2 && !fs.existsSync(path.join(root, 'memory.limit_in_bytes'))) {
      throw new Error(`no cgroup memory controller at ${v2Root} (v2) or ${v1Root} (v1): this test runs the service under a real memory limit and needs one`);
    }
    const dir = path.join(root, name);
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(limitBytes));
      // v1 only: no swap either, as in a pod (kubelet runs without swap by default).
      if (!v2 && fs.existsSync(path.join(dir, 'memory.memsw.limit_in_bytes'))) fs.writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
      if (v2) fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
    } catch (err) {
      throw new Error(`cannot create the memory cgroup ${dir} (${(err as Error).message}): run the tests as root, or with a delegated cgroup`);
    }
    return new MemoryCgroup(dir, v2);
  }

  /** A shell command that moves itself into this cgroup, then runs `argv` in its place. */
  wrap(argv: readonly string[]): string[] {
    const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return ['sh', '-c', `echo $$ > '${path.join(this.dir, 'cgroup.procs')}' && exec ${quoted}`];
  }

  /** Highest memory use seen, in bytes (v2: memory.peak needs Linux 5.19). */
  peakBytes(): number {
    return Number(readOr(path.join(this.dir, this.v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'), 'NaN'));
  }

  /** Processes the kernel OOM-killed in this cgroup so far. */
  oomKills(): number {
    const text = readOr(path.join(this.dir, this.v2 ? 'memory.events' : 'memory.oom_control'), '');
    const m = /^oom_kill (\d+)$/m.exec(text);
    if (!m) throw new Error(`${this.dir} does not count OOM kills (no oom_kill line): kernel too old for this test`);
    return Number(m[1]);
  }

  /** Removes the cgroup; its processes must have exited. */
  remove(): void {
    for (let i = 0; i < 20; i++) {
      try {
        fs.rmdirSync(this.dir);
        return;
      } catch {
        // The kernel frees a cgroup shortly after its last process is reaped.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
