import { spawn } from 'child_process';
import * as fs from 'fs';

/** Prints a step header and returns a function that prints its duration. */
export function step(label: string): () => void {
  const started = Date.now();
  console.log(`==> ${label}`);
  // Named, since the bootstrap's builds run two at a time and their lines interleave.
  return () => console.log(`    done in ${formatDuration(Date.now() - started)}: ${label.replace(/ from .*$/, '')}`);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** File receiving stdout and stderr; its tail is shown on failure. */
  readonly logFile: string;
  /** What is being done, for the heartbeat line. */
  readonly activity: string;
  /** Seconds between heartbeat lines. */
  readonly heartbeatSeconds?: number;
}

/**
 * Runs a long command with its output in a log file and a heartbeat line on the
 * console, so a slow build is visibly alive. Rejects with the log's tail on failure.
 */
export function runLogged(command: string, args: readonly string[], options: RunOptions): Promise<string> {
  fs.writeFileSync(options.logFile, `$ ${command} ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      fs.appendFileSync(options.logFile, d);
    });
    child.stderr.on('data', (d: Buffer) => fs.appendFileSync(options.logFile, d));
    const timer = setInterval(
      () => console.log(`    ... still ${options.activity} (${formatDuration(Date.now() - started)}, log: ${options.logFile})`),
      (options.heartbeatSeconds ?? 30) * 1000,
    );
    child.on('error', (err) => {
      clearInterval(timer);
      reject(new Error(`${options.activity}: cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      if (code === 0) return resolve(stdout);
      const tail = fs.readFileSync(options.logFile, 'utf8').split('\n').slice(-25).join('\n');
      reject(new Error(`${options.activity} failed (exit ${code}). Last lines of ${options.logFile}:\n${tail}`));
    });
  });
}
