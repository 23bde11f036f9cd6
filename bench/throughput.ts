import { spawn } from 'child_process';
import * as path from 'path';
import { Admin } from 'kafkajs';
import { KafkaTools, runKafkaTool } from '../tools/kafka-tool';
import { PROJECT_ROOT } from '../tools/paths';
import { createPostsLikeTopic } from './cluster';
import { MessageShape } from './payload';
import { ServiceProcess, lineTime } from './service-process';
import { MIB, WARMUP_SHARE } from './stats';
import { ConsumerLibrary } from '../services/shared/kafka/types';

/** One throughput measurement of one side. */
export interface ThroughputRun {
  readonly messages: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly mibPerSecond: number;
  /**
   * The consumer service only: its rate from the first poll that found a fifth of the records
   * committed to the last, which leaves the start's warm-up out (V8 compiling the hot paths,
   * first fetches). What a consumer that runs for days sustains.
   */
  readonly steadyMessagesPerSecond?: number;
}


export interface BenchContext {
  readonly admin: Admin;
  readonly bootstrapServers: string;
  readonly shape: MessageShape;
  /** Unique per bench run: topic and group names start with it. */
  readonly runId: string;
  readonly log: (line: string) => void;
}

const run = (messages: number, seconds: number, bytes: number): ThroughputRun => ({
  messages,
  seconds,
  messagesPerSecond: messages / seconds,
  mibPerSecond: (messages * bytes) / seconds / MIB,
});

/** The producer service at its defaults: time from its start line to the last acknowledgement, as its summary reports. */
export async function produceWithService(ctx: BenchContext, topic: string, messages: number, env: Record<string, string> = {}): Promise<ThroughputRun> {
  const producer = new ServiceProcess('producer', {
    KAFKA_BROKERS: ctx.bootstrapServers,
    KAFKA_TOPIC: topic,
    MESSAGE_COUNT: String(messages),
    PAYLOAD_SIZE: String(ctx.shape.payloadSize),
    MESSAGE_ID_PREFIX: topic,
    ...env,
  });
  const code = await producer.exited;
  const summary = producer.events('summary')[0];
  if (code !== 0 || !summary || summary.ok !== true) throw new Error(`producer service failed (exit ${code}):\n${producer.tail()}`);
  return run(Number(summary.sent), Number(summary.durationMs) / 1000, ctx.shape.messageBytes);
}

/** Kafka's ProducerPerformance with the service's guarantees: acks=all, idempotent, gzip; every other setting at its default. */
export async function produceWithKafkaTool(ctx: BenchContext, topic: string, messages: number, payloadFile: string): Promise<ThroughputRun> {
  const out = await runKafkaTool(
    KafkaTools.producerPerformance,
    [
      '--topic', topic,
      '--num-records', String(messages),
      '--throughput', '-1',
      '--payload-file', payloadFile,
      '--command-property', `bootstrap.servers=${ctx.bootstrapServers}`, 'acks=all', 'enable.idempotence=true', 'compression.type=gzip',
    ],
    { timeoutMs: 300_000, asKafkaScripts: true },
  );
  // Progress every 5 s, then the total: "100000 records sent, 41271.1 records/sec (40.31 MB/sec), 612.4 ms avg latency, ..."
  const m = [...out.matchAll(/(\d+) records sent, ([\d.]+) records\/sec/g)].pop();
  if (!m || Number(m[1]) !== messages) throw new Error(`unexpected ProducerPerformance output:\n${out.slice(-2000)}`);
  const sent = Number(m[1]);
  return run(sent, sent / Number(m[2]), ctx.shape.messageBytes);
}

/**
 * The consumer service at its defaults on a filled topic: from its group join to the moment
 * every message is processed and its offset committed (polled every 50 ms), the at-least-once
 * point; the join is left out as ConsumerPerformance leaves it out of fetch.nMsg.sec.
 */
export async function consumeWithService(ctx: BenchContext, topic: string, messages: number, env: Record<string, string> = {}): Promise<ThroughputRun> {
  const groupId = `${topic}-svc-${Date.now().toString(36)}`;
  const consumer = new ServiceProcess('consumer', {
    KAFKA_BROKERS: ctx.bootstrapServers,
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_GROUP_ID: groupId,
    ...env,
  });
  try {
    const joined = lineTime(await consumer.waitForEvent('group_join'));
    const deadline = Date.now() + 300_000;
    let warm: { at: number; committed: number } | undefined;
    for (;;) {
      const committed = await committedTotal(ctx.admin, groupId, topic);
      if (committed >= messages) break;
      if (!warm && committed >= messages * WARMUP_SHARE) warm = { at: Date.now(), committed };
      // A service that died does not get the rest of the 300 s.
      if (consumer.exitCode !== undefined) throw new Error(`consumer service exited with code ${consumer.exitCode} after committing ${committed} of ${messages} (log: ${consumer.logFile}):\n${consumer.tail()}`);
      if (Date.now() > deadline) throw new Error(`consumer service committed ${committed} of ${messages} within 300 s:\n${consumer.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const doneAt = Date.now();
    const steady = warm && doneAt > warm.at ? { steadyMessagesPerSecond: (messages - warm.committed) / ((doneAt - warm.at) / 1000) } : {};
    return { ...run(messages, (doneAt - joined) / 1000, ctx.shape.messageBytes), ...steady };
  } finally {
    await consumer.stop();
  }
}

/**
 * The group's committed offsets summed; 0 while the group's coordinator answers with a retriable
 * error (COORDINATOR_LOAD_IN_PROGRESS after its partition moved, for one): the poll asks again.
 */
async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } catch (err) {
    if ((err as { retriable?: boolean }).retriable === true) return 0;
    throw err;
  }
}

/**
 * A client library on its own (kafkajs, or @platformatic/kafka to compare) on the same topic, with
 * the consumer service's fetch settings (its defaults,
 * read from its own config): a group member that only counts the messages the client hands over (no
 * parsing, no commits), from its group join to the last one (bench/client-only.ts). It runs as a
 * fresh process started like the service: in the bench's own process, whose kafkajs code earlier
 * runs had already compiled, it had a warm JIT the service never has. The consumer service cannot
 * beat it with this client, so the report shows how much of the gap to ConsumerPerformance is the
 * client's and how much the service's own work. At kafkajs' own 10 MiB / 1 MiB fetches it reads
 * about a tenth faster, and is OOM-killed in the service's pod (docs/services.md, "Memory").
 */
export async function consumeWithClientOnly(ctx: BenchContext, topic: string, messages: number, client: ConsumerLibrary = 'kafkajs'): Promise<ThroughputRun> {
  const reader = startClientReader(ctx, topic, `${topic}-${client}-${Date.now().toString(36)}`, messages, { client });
  const events = await reader.finished;
  const joined = events.get('group_join')!;
  const warm = events.get('warm');
  const done = events.get('done')!;
  const steady = warm && done.at > warm.at ? { steadyMessagesPerSecond: (done.counted! - warm.counted!) / ((done.at - warm.at) / 1000) } : {};
  return { ...run(messages, (done.at - joined.at) / 1000, ctx.shape.messageBytes), ...steady };
}

/** One JSON line of bench/client-only.ts. */
export interface ReaderEvent {
  readonly event: string;
  readonly at: number;
  readonly counted?: number;
  /** LATENCY=1 only: [createdAt, latency ms] per record. */
  readonly samples?: [number, number][];
}

/**
 * bench/client-only.ts as a process of its own: `joined` resolves at its group join, `finished`
 * with its lines by event once it read `messages` and exited (rejects otherwise, within 300 s).
 */
export function startClientReader(
  ctx: BenchContext,
  topic: string,
  groupId: string,
  messages: number,
  { latency = false, client = 'kafkajs' }: { latency?: boolean; client?: ConsumerLibrary } = {},
): { joined: Promise<void>; finished: Promise<Map<string, ReaderEvent>>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bench', 'client-only.ts')], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: ctx.bootstrapServers, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, MESSAGES: String(messages), CLIENT: client, ...(latency ? { LATENCY: '1' } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onJoin: (() => void) | undefined;
  const joined = new Promise<void>((resolve) => (onJoin = resolve));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    // Looked for until seen: the latency line that comes last can be megabytes.
    if (onJoin && out.includes('"event":"group_join"')) {
      onJoin();
      onJoin = undefined;
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const finished = new Promise<number | null>((resolve) => child.on('exit', resolve)).then((code) => {
    clearTimeout(timer);
    const events = new Map(
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ReaderEvent)
        .map((e) => [e.event, e]),
    );
    if (code !== 0 || !events.has('group_join') || !events.has('done')) {
      throw new Error(`${client} alone did not read ${messages} messages within 300 s (exit ${code}):\n${out.slice(-1000)}${err.slice(-2000)}`);
    }
    return events;
  });
  // Awaited by the caller when it needs the lines; a run that fails first must not crash on it.
  finished.catch(() => undefined);
  // A reader that fails before its join fails the waiter on `joined` too.
  return { joined: Promise.race([joined, finished.then(() => undefined)]), finished, kill: () => child.kill('SIGKILL') };
}

/** Kafka's ConsumerPerformance at its defaults: fetch.nMsg.sec, i.e. without the group join. */
export async function consumeWithKafkaTool(ctx: BenchContext, topic: string, messages: number): Promise<ThroughputRun> {
  const out = await runKafkaTool(
    KafkaTools.consumerPerformance,
    ['--bootstrap-server', ctx.bootstrapServers, '--topic', topic, '--num-records', String(messages), '--group', `${topic}-perf-${Date.now().toString(36)}`, '--timeout', '60000'],
    { timeoutMs: 300_000, asKafkaScripts: true },
  );
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const row = out
    .split('\n')
    .map((l) => l.split(',').map((f) => f.trim()))
    .find((f) => f.length === 10 && /^\d+$/.test(f[4]));
  if (!row) throw new Error(`unexpected ConsumerPerformance output:\n${out.slice(-2000)}`);
  const consumed = Number(row[4]);
  if (consumed < messages) throw new Error(`ConsumerPerformance read ${consumed} of ${messages} messages:\n${out.slice(-2000)}`);
  return run(consumed, Number(row[7]) / 1000, ctx.shape.messageBytes);
}

/** A fresh posts-like topic named after the run, and its `.dlq`, which the consumer service requires. */
export async function freshTopic(ctx: BenchContext, what: string): Promise<string> {
  const topic = `${ctx.runId}-${what}`;
  await Promise.all([createPostsLikeTopic(ctx.admin, topic), createPostsLikeTopic(ctx.admin, `${topic}.dlq`)]);
  return topic;
}
