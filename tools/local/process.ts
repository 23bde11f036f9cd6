import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

/**
 * Process and port helpers shared by every local service (Kafka nodes, PostgreSQL, the
 * Kubernetes control plane): pid files, liveness, clean exits and port checks on 127.0.0.1.
 */

/** Every local service binds here only. */
export const HOST = '127.0.0.1';

/** Progress output of a long operation. */
export type Log = (line: string) => void;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The pid recorded in `file`, if it holds a positive integer. */
export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The command line of a running process, or undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    if (fs.existsSync('/proc/self')) return undefined;
    // No procfs (macOS): ask ps.
    const r = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : undefined;
  }
}

/**
 * The pid of the running process whose command line contains every marker: the one in
 * `pidFile`, else found in /proc (and written back), so a lost pid file never hides a
 * running service that would then hold its ports against a second start.
 */
export function runningPidFrom(pidFile: string, ...markers: string[]): number | undefined {
  const matches = (pid: number) => {
    const cmd = commandLine(pid);
    return cmd !== undefined && markers.every((m) => cmd.includes(m));
  };
  const pid = readPidFile(pidFile);
  if (pid !== undefined && matches(pid)) return pid;
  if (!fs.existsSync('/proc/self')) return undefined;
  const found = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .find((p) => p !== process.pid && matches(p));
  if (found !== undefined && fs.existsSync(path.dirname(pidFile))) fs.writeFileSync(pidFile, `${found}\n`);
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A process that exited but was not yet reaped by its parent is gone for our purposes.
  const cmd = commandLine(pid);
  return cmd !== undefined && cmd.trim().length > 0;
}

/** Resolves true once `pid` is gone, false if it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(200);
  }
  return !isAlive(pid);
}

/** Linux's default ephemeral port range, used where /proc does not say. */
export const DEFAULT_EPHEMERAL_PORT_RANGE: readonly [number, number] = [32768, 60999];

/**
 * The ports the kernel picks from for outgoing connections (net.ipv4.ip_local_port_range): a fixed
 * listener inside it collides with a client's connection now and then, mostly while it restarts.
 */
export function ephemeralPortRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): readonly [number, number] {
  try {
    const [low, high] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low, high];
  } catch {
    // Not Linux, or no /proc: fall back to Linux's default.
  }
  return DEFAULT_EPHEMERAL_PORT_RANGE;
}

/**
 * Rejects with a message naming the port, what it is for and how to free it: `configKey` is
 * the setting to change in `configFile`.
 */
export function ensurePortFree(port: number, description: string, configKey: string, configFile = 'config/environments.ts', host = HOST): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        const [low, high] = ephemeralPortRange();
        // A port the kernel also hands to outgoing connections can be taken by any client while its listener is down.
        const hint = port >= low && port <= high ? ` (it lies in this machine's ephemeral port range ${low}-${high}, net.ipv4.ip_local_port_range, where outgoing connections can take it: move it below ${low})` : '';
        reject(new Error(`port ${port} (${description}) is already in use by another process: stop it or change ${configKey} in ${configFile}${hint}`));
      } else {
        reject(new Error(`cannot check port ${port} (${description}): ${err.message}`));
      }
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number, timeoutMs = 1000, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The last `lines` lines of a log file, for error messages. */
export function tailFile(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '(no log yet)';
  }
}

/** First lines of an error, for one-line status reports. */
export function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' ');
}

/**
 * Runs a command-line entry point: exits with the code it returns, or prints `prefix: message`
 * (no stack: these are errors for a user to act on) and exits 1.
 */
export function runMain(main: () => Promise<number>, prefix = 'error'): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${prefix}: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
