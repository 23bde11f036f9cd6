import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CACHE_DIR, PROJECT_ROOT } from '../tools/paths';

/** One JSON log line of a service. */
export type LogLine = Record<string, unknown> & { readonly event?: string; readonly time?: string };

export interface ServiceRunOptions {
  /** Called for every JSON line, in order, shortly after it is written. */
  readonly onLine?: (line: LogLine) => void;
}

/** Where each service run's stdout goes; kept for a look after a failed run. */
export const SERVICE_LOG_DIR = path.join(CACHE_DIR, 'bench', 'logs');

let counter = 0;

/**
 * A producer or consumer service as a real process (node + tsx). Its stdout goes to a file, as a
 * container runtime's does, and is tailed from there: a pipe the bench reads too slowly on a busy
 * machine would block the service's synchronous log writes and show up as latency.
 */
export class ServiceProcess {
  /** Every line but the per-message ones (those only reach `onLine`). */
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  /** The exit code once the process has exited (null when a signal ended it), undefined before. */
  exitCode: number | null | undefined;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly tailer: NodeJS.Timeout;
  private position = 0;
  private partial = '';

  constructor(
    readonly service: 'producer' | 'consumer',
    env: Record<string, string>,
    private readonly options: ServiceRunOptions = {},
  ) {
    fs.mkdirSync(SERVICE_LOG_DIR, { recursive: true });
    this.logFile = path.join(SERVICE_LOG_DIR, `${Date.now().toString(36)}-${++counter}-${service}.log`);
    const out = fs.openSync(this.logFile, 'w');
    this.child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'services', service, 'main.ts')], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', ...env },
      stdio: ['ignore', out, 'pipe'],
    });
    fs.closeSync(out);
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.tailer = setInterval(() => this.readNew(), 20);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.exitCode = code;
        clearInterval(this.tailer);
        this.readNew();
        resolve(code);
      }),
    );
  }

  private readNew(): void {
    const size = fs.statSync(this.logFile).size;
    if (size <= this.position) return;
    const buffer = Buffer.alloc(size - this.position);
    const fd = fs.openSync(this.logFile, 'r');
    try {
      fs.readSync(fd, buffer, 0, buffer.length, this.position);
    } finally {
      fs.closeSync(fd);
    }
    this.position = size;
    const text = this.partial + buffer.toString('utf8');
    const raw = text.split('\n');
    this.partial = raw.pop() ?? '';
    for (const r of raw) {
      if (r.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(r) as LogLine;
      } catch {
        line = { event: 'unparsed', raw: r };
      }
      if (line.event !== 'message') this.lines.push(line);
      this.options.onLine?.(line);
    }
  }

  events(event: string): LogLine[] {
    return this.lines.filter((l) => l.event === event);
  }

  /** Resolves with the first line of `event`; rejects if the process exits first or after `timeoutMs`. */
  async waitForEvent(event: string, timeoutMs = 120_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((l) => l.event === event);
      if (found) return found;
      const exited = this.exitCode !== undefined;
      if (exited || Date.now() > deadline) {
        throw new Error(`${this.service} ${exited ? 'exited' : `gave no "${event}" line within ${timeoutMs / 1000}s`} (log: ${this.logFile}):\n${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it does not exit within `graceMs`. */
  async stop(graceMs = 30_000): Promise<number | null> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  tail(n = 10): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l).slice(0, 400)), ...this.stderr.slice(-5)].join('\n');
  }
}

/** Epoch milliseconds of a pino line's ISO `time`. */
export function lineTime(line: LogLine): number {
  const t = Date.parse(String(line.time));
  if (Number.isNaN(t)) throw new Error(`log line without a time: ${JSON.stringify(line).slice(0, 200)}`);
  return t;
}
