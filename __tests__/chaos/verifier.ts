import { spawn } from 'child_process';
import * as readline from 'readline';
import { versions } from '../../config';
import { KafkaTools, javaBinary, kafkaClasspath, requireJavaAndKafka, runKafkaTool } from '../../tools/kafka-tool';

/**
 * The independent party of every fault test: Kafka's own command-line tools read what the
 * topic really holds, so the services' own counters are never the evidence.
 */

/** Sum of the log end offsets of every partition of `topic` (GetOffsetShell, latest). */
export async function logEndOffsets(bootstrapServers: string, topic: string): Promise<number> {
  const out = await runKafkaTool(KafkaTools.getOffsets, ['--bootstrap-server', bootstrapServers, '--topic', topic, '--time', 'latest'], { timeoutMs: 60_000 });
  return out
    .split('\n')
    .filter((l) => l.startsWith(`${topic}:`))
    .reduce((sum, l) => sum + Number(l.split(':')[2]), 0);
}

export interface TopicContent {
  /** Records read (every copy, redeliveries included). */
  readonly records: number;
  /** How many times each message id occurs. */
  readonly ids: Map<string, number>;
  /** Values that were not a JSON object with an `id`. */
  readonly unreadable: number;
}

/**
 * Reads the whole topic with Kafka's ConsoleConsumer (no group, from the beginning) and counts
 * message ids. Its output is read line by line as it streams, so topics of any size fit.
 */
export async function readTopic(bootstrapServers: string, topic: string): Promise<TopicContent> {
  const total = await logEndOffsets(bootstrapServers, topic);
  const ids = new Map<string, number>();
  let records = 0;
  let unreadable = 0;
  if (total === 0) return { records, ids, unreadable };
  requireJavaAndKafka();
  const args = ['-Xmx512m', '-cp', kafkaClasspath(versions.kafka.version), KafkaTools.consoleConsumer];
  args.push('--bootstrap-server', bootstrapServers, '--topic', topic, '--from-beginning', '--max-messages', String(total), '--timeout-ms', '60000');
  const child = spawn(javaBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const lines = readline.createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  for await (const line of lines) {
    if (line.trim() === '') continue;
    records++;
    // The id leads every value the producer writes: no need to parse a 100 KB payload.
    const id = /^\{"id":"([^"\\]+)"/.exec(line)?.[1];
    if (id === undefined) unreadable++;
    else ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`ConsoleConsumer on ${topic} exited ${code}: ${stderr.trim()}`);
  return { records, ids, unreadable };
}

/** What a fault case reports, and what its assertions are made on. */
export interface DeliveryReport {
  readonly case: string;
  readonly run: number;
  /** Messages the client under test was asked to send. */
  readonly sent: number;
  /** Messages the client under test reported acknowledged. */
  readonly acknowledged: number;
  /** Distinct ids the independent reader found. */
  readonly received: number;
  /** Acknowledged ids the independent reader did not find. */
  readonly lost: number;
  /** Copies beyond the first of any id. */
  readonly duplicates: number;
  /** A few lost ids, for the failure message. */
  readonly lostSample: string[];
}

/**
 * Compares what the producer acknowledged (ids `<prefix>-0` .. `<prefix>-(acknowledged-1)`,
 * since the producer acknowledges in order) with what the topic holds.
 */
export function deliveryReport(name: string, run: number, prefix: string, sent: number, acknowledged: number, content: TopicContent): DeliveryReport {
  const lostIds: string[] = [];
  for (let i = 0; i < acknowledged; i++) if (!content.ids.has(`${prefix}-${i}`)) lostIds.push(`${prefix}-${i}`);
  let received = 0;
  let duplicates = 0;
  for (const [id, n] of content.ids) {
    if (!id.startsWith(`${prefix}-`)) continue;
    received++;
    duplicates += n - 1;
  }
  return { case: name, run, sent, acknowledged, received, lost: lostIds.length, duplicates, lostSample: lostIds.slice(0, 5) };
}

/** One line per run in the test output, and a JSON line for tooling. */
export function printReport(r: DeliveryReport): void {
  console.log(
    `[chaos] ${r.case} run ${r.run}: sent ${r.sent}, acknowledged ${r.acknowledged}, received ${r.received}, lost ${r.lost}, duplicates ${r.duplicates}` +
      (r.lost > 0 ? ` (lost e.g. ${r.lostSample.join(', ')})` : ''),
  );
}
