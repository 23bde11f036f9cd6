import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { PROJECT_ROOT } from '../../tools/paths';
import { bootstrapServers, brokerList } from '../support/kafka';
import { testTracingEnv } from '../support/traces';

/** One JSON log line of a service. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LogRecord = Record<string, any>;

/**
 * The services compiled as docker/services.Dockerfile's build stage compiles them, into a scratch
 * directory (once per test file): what the images run, and a process that starts in a fraction of
 * the time tsx takes to transpile it on a busy machine.
 */
export function compileServices(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'services-dist-'));
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(PROJECT_ROOT, 'services', 'tsconfig.build.json'), '--outDir', dir], { stdio: 'inherit' });
  return dir;
}

/** A service running as a real child process (node + tsx, as `npx tsx` does, without the npx wrapper; or its compiled JavaScript). */
export class ServiceProcess {
  readonly records: LogRecord[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private exitCode: number | null | undefined;

  constructor(
    readonly service: 'producer' | 'consumer',
    env: Record<string, string>,
    /** Run the JavaScript compileServices() wrote there instead of the TypeScript source. */
    compiledDir?: string,
  ) {
    const args = compiledDir ? [path.join(compiledDir, service, 'main.js')] : ['--import', 'tsx', path.join(PROJECT_ROOT, 'services', service, 'main.ts')];
    this.child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      // Debug turns on the consumer's per-message lines, which the tests read as its record of work.
      // Compiled files sit outside the project; their dependencies are the project's.
      // Tracing on as deployed, into the run's trace backend; a test's own OTEL_* win.
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: bootstrapServers(),
        HTTP_PORT: '0',
        LOG_LEVEL: 'debug',
        ...(compiledDir ? { NODE_PATH: path.join(PROJECT_ROOT, 'node_modules') } : {}),
        ...testTracingEnv(service),
        // `KAFKA_CONSUMER_CLIENT=platformatic npm run test:chaos` runs the suites' consumers on that client (docs/services.md).
        ...(service === 'consumer' && process.env.KAFKA_CONSUMER_CLIENT ? { KAFKA_CONSUMER_CLIENT: process.env.KAFKA_CONSUMER_CLIENT } : {}),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.records.push(JSON.parse(line) as LogRecord);
        } catch {
          this.records.push({ event: 'unparsed', line });
        }
      }
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.exitCode = code;
        this.notify();
        resolve(code);
      }),
    );
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  events(event: string): LogRecord[] {
    return this.records.filter((r) => r.event === event);
  }

  /** Resolves once `predicate` holds; rejects on timeout or if the process exits first. */
  waitFor(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate()) {
          done();
          resolve();
        } else if (this.exitCode !== undefined) {
          done();
          reject(new Error(`${this.service} exited (${this.exitCode}) before: ${what}\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${this.service}: ${what}\n${this.tail()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The HTTP port the service bound (HTTP_PORT=0 picks a free one). */
  async httpPort(): Promise<number> {
    await this.waitFor('http server', () => this.events('http_listening').length > 0, 30_000);
    return this.events('http_listening')[0].port as number;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Recent log lines for failure messages: everything but per-message lines, then the last message lines. */
  tail(lines = 15): string {
    const other = this.records.filter((r) => r.event !== 'message').slice(-lines);
    const messages = this.records.filter((r) => r.event === 'message');
    const out = [...other, ...messages.slice(-3)].map((r) => JSON.stringify(r).slice(0, 400));
    out.push(`(${messages.length} message lines)`);
    return [...out, ...this.stderr.slice(-5)].join('\n');
  }
}

/** The `message` log lines of one or more consumer runs. */
export function processed(...runs: ServiceProcess[]): LogRecord[] {
  return runs.flatMap((r) => r.events('message'));
}

export function kafka(): Kafka {
  return new Kafka({ clientId: 'services-test', brokers: brokerList(), logLevel: logLevel.NOTHING });
}

/** Creates `topics` as the platform does: 6 partitions, replication factor 3, min.insync.replicas 2. */
export async function createTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  await admin.createTopics({
    // kafkajs' own wait fails on the first "does not host this topic-partition" of a fresh topic.
    waitForLeaders: false,
    topics: topics.map((topic) => ({ topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] })),
  });
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
      const ready = meta.topics.every((t) => t.partitions.length === 6 && t.partitions.every((p) => p.leader >= 0 && p.isr.length === 3));
      if (ready && meta.topics.length === topics.length) return;
      last = 'partitions without a leader or full ISR';
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`topics ${topics.join(', ')} have no leaders after 60 s: ${last}`);
}

/** Removes this run's topics from the shared cluster; failures only leave garbage behind. */
export async function deleteTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
  const mine = topics.filter((t) => existing.has(t));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
}
