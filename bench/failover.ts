import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { versions } from '../config';
import { KafkaTools, javaBinary, kafkaClasspath, requireJavaAndKafka } from '../tools/kafka-tool';
import { LocalKafkaCluster } from '../tools/local/kafka';
import { waitForFullIsr } from './cluster';
import { ServiceProcess, lineTime } from './service-process';
import { BenchContext, freshTopic } from './throughput';

/** Who sends during the failover. */
export type FailoverClient = 'service' | 'java';
/** How the leader goes: SIGKILL (a crash, a node lost) or SIGTERM (a pod deletion, a rolling restart: controlled shutdown). */
export type FailoverStop = 'kill' | 'graceful';

export interface FailoverRun {
  /** The producer service, or Kafka's own Java producer (VerifiableProducer) with the same settings. */
  readonly client: FailoverClient;
  readonly stop: FailoverStop;
  /** Node stopped: the leader of the lowest-numbered partition whose leader is not the active KRaft controller. */
  readonly killedNode: number;
  /** The active KRaft controller at that moment, left running. */
  readonly activeController: number;
  /** Partitions that node led. */
  readonly partitions: number[];
  /** From the signal to the first acknowledgement of a send to every one of those partitions. */
  readonly resumeSeconds: number;
  /**
   * The same for the other partitions: their leaders live, yet with acks=all they wait until the
   * dead broker leaves their in-sync replicas, when the controller fences it. The cluster's share
   * of the outage; the difference to `resumeSeconds` is the client's.
   */
  readonly otherPartitionsResumeSeconds: number;
}

/** One acknowledged send: when, and to which partition. */
export interface Ack {
  readonly partition: number;
  readonly at: number;
}

/** When the longest pause in `partition`'s acknowledgements that starts around the kill ended. */
function stallEnd(acked: readonly Ack[], partition: number, killedAt: number): number {
  const times = acked.filter((l) => l.partition === partition).map((l) => l.at);
  let end = killedAt;
  let longest = -1;
  for (let i = 1; i < times.length; i++) {
    if (times[i] <= killedAt || times[i - 1] < killedAt - 1000) continue;
    if (times[i] - times[i - 1] > longest) {
      longest = times[i] - times[i - 1];
      end = times[i];
    }
  }
  return end;
}

/** Acknowledgements that arrive this soon after the kill were answered by the old leader. */
const IN_FLIGHT_MS = 100;

/** A producer running during the failover, reporting each acknowledged send. */
interface AckStream {
  readonly acked: Ack[];
  /** Resolves once sends are being acknowledged. */
  started(): Promise<void>;
  stop(): Promise<void>;
  tail(): string;
}

/** The producer service at `rate` msg/s; its `acked` lines (LOG_LEVEL=debug: one per acknowledged send, with the partition). */
function serviceProducer(ctx: BenchContext, topic: string, rate: number): AckStream {
  const acked: Ack[] = [];
  const producer = new ServiceProcess(
    'producer',
    {
      KAFKA_BROKERS: ctx.bootstrapServers,
      KAFKA_TOPIC: topic,
      MESSAGE_COUNT: String(rate * 120),
      RATE_LIMIT: String(rate),
      PAYLOAD_SIZE: String(ctx.shape.payloadSize),
      MESSAGE_ID_PREFIX: topic,
      LOG_LEVEL: 'debug',
    },
    { onLine: (l) => l.event === 'acked' && acked.push({ partition: Number(l.partition), at: lineTime(l) }) },
  );
  return {
    acked,
    started: async () => void (await producer.waitForEvent('start')),
    stop: async () => void (await producer.stop()),
    tail: () => producer.tail(),
  };
}

/**
 * Kafka's VerifiableProducer at the same rate and guarantees (acks=all, idempotent, gzip, 5 ms
 * linger) with keyed messages, so every partition gets sends as the service's keyed messages do;
 * it prints one `producer_send_success` line per acknowledged record, stamped when its callback ran.
 */
function javaProducer(ctx: BenchContext, topic: string, rate: number, scratch: string): AckStream {
  const acked: Ack[] = [];
  const config = path.join(scratch, 'failover-producer.properties');
  fs.mkdirSync(scratch, { recursive: true });
  // VerifiableProducer sets retries=0 for itself; the Java producer's own default is back here.
  fs.writeFileSync(config, 'enable.idempotence=true\ncompression.type=gzip\nlinger.ms=5\nretries=2147483647\n');
  requireJavaAndKafka();
  const child = spawn(
    javaBinary(),
    ['-Xmx512m', '-cp', kafkaClasspath(versions.kafka.version), KafkaTools.verifiableProducer,
      '--bootstrap-server', ctx.bootstrapServers, '--topic', topic, '--max-messages', String(rate * 120), '--throughput', String(rate),
      '--acks', '-1', '--repeating-keys', '100000', '--value-prefix', '1', '--producer.config', config],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.includes('producer_send_success')) return;
    const event = JSON.parse(line) as { partition: number; timestamp: number };
    acked.push({ partition: event.partition, at: event.timestamp });
  });
  return {
    acked,
    started: async () => {
      const deadline = Date.now() + 60_000;
      while (acked.length === 0) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`VerifiableProducer acknowledged nothing (exit ${child.exitCode}):\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    tail: () => stderr.slice(-2000),
  };
}

/**
 * A producer at `rate` msg/s (the service or Kafka's own), a partition leader stopped mid-stream
 * (SIGKILLed, or SIGTERMed for a controlled shutdown). The producer's own acknowledgements tell
 * when sends to the stopped leader's partitions are acknowledged again, by their new leaders. The
 * node is restarted and the topic back at full ISR afterwards.
 *
 * The stopped node is never the active KRaft controller. The bench's nodes are brokers and
 * controllers at once, so killing the active controller also costs a controller election, and
 * the new controller then waits a whole broker session before it fences the dead broker (bench/:
 * 12.2-12.3 s against 9.4 s). Production runs dedicated controllers (docs/kafka.md): a broker
 * failure there is the case measured here.
 */
export async function leaderStopResume(ctx: BenchContext, cluster: LocalKafkaCluster, rate: number, client: FailoverClient, stop: FailoverStop, scratch: string): Promise<FailoverRun> {
  const topic = await freshTopic(ctx, `failover-${client}-${stop}-${Date.now().toString(36)}`);
  const producer = client === 'service' ? serviceProducer(ctx, topic, rate) : javaProducer(ctx, topic, rate, scratch);
  const { acked } = producer;
  let killedNode: number | undefined;
  try {
    await producer.started();
    await new Promise((r) => setTimeout(r, 4000));
    if (acked.length === 0) throw new Error(`the ${client} producer acknowledged nothing in 4 s:\n${producer.tail()}`);
    const activeController = (await cluster.describeQuorum()).leaderId;
    const partitions = (await ctx.admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.sort((a, b) => a.partitionId - b.partitionId);
    const victim = partitions.find((p) => p.leader !== activeController);
    if (!victim) throw new Error(`every partition of ${topic} is led by node ${activeController}, the active controller: no broker-only failure to measure`);
    killedNode = victim.leader;
    const led = partitions.filter((p) => p.leader === killedNode).map((p) => p.partitionId).sort((a, b) => a - b);
    const killedAt = Date.now();
    // A graceful stop returns once the process exited; its leaders moved before that.
    const stopping = stop === 'kill' ? cluster.killNode(killedNode) : cluster.stopNode(killedNode, { log: () => undefined });
    const deadline = killedAt + 90_000;
    const resumedAt = () => led.map((p) => acked.find((l) => l.partition === p && l.at >= killedAt + IN_FLIGHT_MS)).map((l) => l?.at);
    while (resumedAt().some((t) => t === undefined)) {
      if (Date.now() > deadline) throw new Error(`sends to partitions ${led.join(',')} not acknowledged within 90 s of stopping node ${killedNode} (${stop}, ${client}):\n${producer.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!(await stopping)) throw new Error(`node ${killedNode} was not running`);
    const resumeSeconds = (Math.max(...(resumedAt() as number[])) - killedAt) / 1000;
    // Let the other partitions' acknowledgements come in, then find where each one's stall ended.
    await new Promise((r) => setTimeout(r, 2000));
    const others = partitions.map((p) => p.partitionId).filter((p) => !led.includes(p));
    const otherPartitionsResumeSeconds = Math.max(...others.map((p) => stallEnd(acked, p, killedAt) - killedAt)) / 1000;
    return { client, stop, killedNode, activeController, partitions: led, resumeSeconds, otherPartitionsResumeSeconds };
  } finally {
    await producer.stop();
    if (killedNode !== undefined) {
      await cluster.startNode(killedNode, { log: () => undefined });
      await cluster.waitForHealthy({ log: () => undefined });
      await waitForFullIsr(ctx.admin, topic).catch(() => undefined);
    }
    await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  }
}
