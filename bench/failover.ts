import { LocalKafkaCluster } from '../tools/local/kafka';
import { waitForFullIsr } from './cluster';
import { LogLine, ServiceProcess, lineTime } from './service-process';
import { BenchContext, freshTopic } from './throughput';

export interface FailoverRun {
  /** Node SIGKILLed: the leader of the lowest-numbered partition whose leader is not the active KRaft controller. */
  readonly killedNode: number;
  /** The active KRaft controller at that moment, left running. */
  readonly activeController: number;
  /** Partitions that node led. */
  readonly partitions: number[];
  /** From the SIGKILL to the first acknowledgement of a send to every one of those partitions. */
  readonly resumeSeconds: number;
  /**
   * The same for the other partitions: their leaders live, yet with acks=all they wait until the
   * dead broker leaves their in-sync replicas, when the controller fences it. The cluster's share
   * of the outage; the difference to `resumeSeconds` is the client's.
   */
  readonly otherPartitionsResumeSeconds: number;
}

/** When the longest pause in `partition`'s acknowledgements that starts around the kill ended. */
function stallEnd(acked: readonly LogLine[], partition: number, killedAt: number): number {
  const times = acked.filter((l) => l.partition === partition).map(lineTime);
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

/**
 * The producer service at `rate` msg/s; a partition leader is SIGKILLed mid-stream. The
 * producer's own acknowledgements (its `acked` lines at LOG_LEVEL=debug: one per acknowledged
 * send, with the partition) tell when sends to the dead leader's partitions are acknowledged
 * again, by their new leaders. The node is restarted and the topic back at full ISR afterwards.
 *
 * The killed node is never the active KRaft controller. The bench's nodes are brokers and
 * controllers at once, so killing the active controller also costs a controller election, and
 * the new controller then waits a whole broker session before it fences the dead broker (bench/:
 * 12.2-12.3 s against 9.4 s). Production runs dedicated controllers (docs/kafka.md): a broker
 * failure there is the case measured here.
 */
export async function leaderKillResume(ctx: BenchContext, cluster: LocalKafkaCluster, rate: number): Promise<FailoverRun> {
  const topic = await freshTopic(ctx, `failover-${Date.now().toString(36)}`);
  const acked: LogLine[] = [];
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
    { onLine: (l) => l.event === 'acked' && acked.push(l) },
  );
  let killedNode: number | undefined;
  try {
    await producer.waitForEvent('start');
    await new Promise((r) => setTimeout(r, 4000));
    if (acked.length === 0) throw new Error(`the producer logged no "acked" line in 4 s (needs LOG_LEVEL=debug):\n${producer.tail()}`);
    const activeController = (await cluster.describeQuorum()).leaderId;
    const partitions = (await ctx.admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.sort((a, b) => a.partitionId - b.partitionId);
    const victim = partitions.find((p) => p.leader !== activeController);
    if (!victim) throw new Error(`every partition of ${topic} is led by node ${activeController}, the active controller: no broker-only failure to measure`);
    killedNode = victim.leader;
    const led = partitions.filter((p) => p.leader === killedNode).map((p) => p.partitionId).sort((a, b) => a - b);
    const killedAt = Date.now();
    if (!(await cluster.killNode(killedNode))) throw new Error(`node ${killedNode} was not running`);
    const deadline = killedAt + 90_000;
    const resumedAt = () => led.map((p) => acked.find((l) => l.partition === p && lineTime(l) >= killedAt + IN_FLIGHT_MS)).map((l) => (l ? lineTime(l) : undefined));
    while (resumedAt().some((t) => t === undefined)) {
      if (Date.now() > deadline) throw new Error(`sends to partitions ${led.join(',')} not acknowledged within 90 s of killing node ${killedNode}:\n${producer.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const resumeSeconds = (Math.max(...(resumedAt() as number[])) - killedAt) / 1000;
    // Let the other partitions' acknowledgements come in, then find where each one's stall ended.
    await new Promise((r) => setTimeout(r, 2000));
    const others = partitions.map((p) => p.partitionId).filter((p) => !led.includes(p));
    const otherPartitionsResumeSeconds = Math.max(...others.map((p) => stallEnd(acked, p, killedAt) - killedAt)) / 1000;
    return { killedNode, activeController, partitions: led, resumeSeconds, otherPartitionsResumeSeconds };
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
