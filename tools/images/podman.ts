/**
 * podman with project-owned configuration and per-machine storage, set for these machines:
 * runc (crun cannot run on hybrid cgroups), cgroupfs, a file event log, open-file limits
 * within the machine's hard limit, and registries resolved only by their full names.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { which } from '../go-build';
import { paths } from '../paths';
import { runLogged } from '../progress';
import { environments } from '../../config';
import { imagePaths } from './layout';
import { parseRegistry } from './registry';

/**
 * A hard limit of this process (`Max open files`, `Max processes`): containers may get no more,
 * and podman's defaults are above what these machines allow (no CAP_SYS_RESOURCE).
 */
function hardLimit(name: string, ceiling: number): number {
  const m = new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  const hard = m && m[1] !== 'unlimited' ? Number(m[1]) : ceiling;
  return Math.min(hard, ceiling);
}

function writeIfChanged(file: string, content: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** Plain-HTTP registries podman may push to and pull from: the local one, and loopback ones asked for. */
const insecureRegistries = new Set<string>([parseRegistry(environments.local.imageRegistry).host].filter(isLoopbackRegistry));

/** A registry on this machine's loopback (127.0.0.1:port or localhost:port), reached over plain HTTP. */
export function isLoopbackRegistry(host: string): boolean {
  return /^(127\.0\.0\.1|localhost):\d+$/.test(host);
}

/** Lets podman talk plain HTTP to `host` (host:port), which must be on the loopback. */
export function allowLoopbackRegistry(host: string): void {
  if (!isLoopbackRegistry(host)) throw new Error(`only a registry on the loopback may be reached without TLS, not ${host}`);
  insecureRegistries.add(host);
}

/** Environment that points podman at the project's configuration (written on first use). */
export function podmanEnv(): NodeJS.ProcessEnv {
  const dir = imagePaths.containers;
  const nofile = hardLimit('Max open files', 1048576);
  // conmon and runc run with at most 32768 processes whatever the caller's limit.
  const nproc = hardLimit('Max processes', 32768);
  writeIfChanged(
    imagePaths.containersConf,
    [
      '[containers]',
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${path.join(dir, 'events.log')}"`,
      `tmp_dir = "${path.join(dir, 'tmp')}"`,
      '',
    ].join('\n'),
  );
  writeIfChanged(
    imagePaths.storageConf,
    ['[storage]', 'driver = "overlay"', `graphroot = "${path.join(dir, 'storage')}"`, `runroot = "${path.join(dir, 'run')}"`, ''].join('\n'),
  );
  const registries = path.join(dir, 'registries.conf');
  writeIfChanged(
    registries,
    [
      // Only fully qualified names: nothing is ever looked up on a registry by short name.
      'unqualified-search-registries = []',
      ...[...insecureRegistries].sort().flatMap((host) => ['[[registry]]', `location = "${host}"`, 'insecure = true']),
      '',
    ].join('\n'),
  );
  return {
    ...process.env,
    CONTAINERS_CONF: imagePaths.containersConf,
    CONTAINERS_STORAGE_CONF: imagePaths.storageConf,
    CONTAINERS_REGISTRIES_CONF: registries,
  };
}

/** podman itself, or an error naming how it gets installed. */
export function requirePodman(): string {
  const podman = which('podman');
  if (!podman || !which('runc')) {
    throw new Error('podman and runc are missing: `npm run bootstrap` installs them (tools/system-packages.ts), or: sudo apt-get install podman runc iptables');
  }
  return podman;
}

export interface PodmanResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs podman and returns its output whatever the exit code. */
export function podmanRun(args: readonly string[], input?: string): PodmanResult {
  const r = spawnSync(requirePodman(), args, { env: podmanEnv(), encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs podman and returns its standard output; a failure throws with podman's own message. */
export function podman(args: readonly string[], input?: string): string {
  const r = podmanRun(args, input);
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** A long podman command (a build, a push) at low CPU priority, its output in a log with a heartbeat. */
export function podmanLogged(args: readonly string[], activity: string, logName: string): Promise<string> {
  fs.mkdirSync(paths.logs, { recursive: true });
  return runLogged('nice', ['-n', '19', requirePodman(), ...args], {
    env: podmanEnv(),
    logFile: path.join(paths.logs, `${logName}.log`),
    activity,
  });
}

/** True when local storage holds an image by that name or id. */
export function imageExists(ref: string): boolean {
  return podmanRun(['image', 'exists', ref]).status === 0;
}

/** Content digest (sha256:...) of a local image's manifest. */
export function imageDigest(ref: string): string {
  return podman(['image', 'inspect', '--format', '{{.Digest}}', ref]).trim();
}

/** Size in bytes of a local image (all its layers, uncompressed). */
export function imageSize(ref: string): number {
  return Number(podman(['image', 'inspect', '--format', '{{.Size}}', ref]).trim());
}
