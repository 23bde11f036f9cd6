import { Admin, CompressionTypes, Kafka, Message, PartitionMetadata, Partitioners, Producer, RecordMetadata } from 'kafkajs';
import { Logger } from '../observability';
import { partitionForKey } from '../partitioner';
import { StartupRetry, untilBrokersAnswer } from './startup';
import { MessageProducer, OutgoingMessage, ProducerOptions } from './types';

/** One partition's messages, waiting to be acknowledged as part of a kafkajs call. */
export interface PartitionSend {
  readonly partition: number;
  readonly messages: readonly Message[];
  resolve(): void;
  reject(error: Error): void;
}

/** Rounds in which kafkajs may leave a partition out of its result before the send fails. */
const MAX_INCOMPLETE_ROUNDS = 10;

/**
 * Sends the partitions' messages in one kafkajs call and resolves each partition once kafkajs'
 * result acknowledges it; rejects them all if the call fails. kafkajs 2.2.4 can resolve a call
 * without having sent some of it: when a leader dies, its partitions move, and those that move to
 * a broker which had already answered for its own partitions in the same call are never re-sent
 * (kafkajs PR #1798, unreleased), so they are missing from the result. Their messages are sent
 * again, in a call of their own; nothing else of theirs was sent meanwhile, so order holds.
 */
export async function sendUntilAcknowledged(
  send: (messages: Message[]) => Promise<RecordMetadata[]>,
  topic: string,
  sends: readonly PartitionSend[],
  onIncomplete: (partitions: number[]) => void = () => undefined,
): Promise<void> {
  let remaining = sends;
  for (let round = 1; remaining.length > 0; round++) {
    let result: RecordMetadata[];
    try {
      result = await send(remaining.flatMap((s) => s.messages));
    } catch (err) {
      for (const s of remaining) s.reject(err as Error);
      return;
    }
    const acknowledged = new Set(result.filter((r) => r.topicName === topic && r.errorCode === 0).map((r) => r.partition));
    for (const s of remaining) if (acknowledged.has(s.partition)) s.resolve();
    remaining = remaining.filter((s) => !acknowledged.has(s.partition));
    if (remaining.length === 0) return;
    const partitions = [...new Set(remaining.map((s) => s.partition))];
    if (round === MAX_INCOMPLETE_ROUNDS) {
      const error = new Error(`partition(s) ${partitions.join(', ')} of ${topic} were not acknowledged in ${round} sends`);
      for (const s of remaining) s.reject(error);
      return;
    }
    onIncomplete(partitions);
  }
}

/**
 * An idempotent producer: retries never duplicate or reorder messages within a partition, and
 * `send` resolves only when every message is acknowledged by all in-sync replicas.
 *
 * Partitions with the same leader that are ready in the same turn of the event loop go out in
 * one kafkajs call, so one produce request per broker carries them all, as Kafka's Java
 * producer does (bench/: one request per partition made the brokers do 3.2x the requests of
 * ProducerPerformance at 1,000 msg/s, and spend 2.5x its CPU). Each partition counts as
 * acknowledged only when kafkajs' result names it: see sendUntilAcknowledged.
 */
export function createProducer(kafka: Kafka, logger: Logger, options: ProducerOptions, startup: StartupRetry): MessageProducer {
  // kafkajs' idempotent producer sends one request per broker at a time. Several sessions (each a
  // kafkajs producer with its own producer id and connections) let a broker have several requests
  // in flight; a partition always uses the same session, which keeps its sequence numbers and order.
  const sessions: Producer[] = Array.from({ length: Math.max(1, options.sessions) }, () =>
    kafka.producer({
      idempotent: true,
      // One request in flight per broker keeps sequence numbers simple for kafkajs' idempotence.
      maxInFlightRequests: 1,
      // A SIGKILLed broker is fenced after the controller's session timeout (9 s by default) before
      // its partitions get a new leader: retry for longer than that (about 40 s), never waiting more
      // than half a second between tries, so sends resume within 0.5 s of the new leader (bench/).
      // SEND_TIMEOUT_MS bounds it all.
      retry: { initialRetryTime: 100, maxRetryTime: 500, retries: 80 },
      // Every message arrives with its partition (partitionsOf). kafkajs' default partitioner
      // would filter the partition list for each message before looking at it.
      createPartitioner: () => ({ message }) => {
        if (message.partition === undefined || message.partition === null) throw new Error('a message without its partition reached the client');
        return message.partition;
      },
    }),
  );
  const partitioner = Partitioners.DefaultPartitioner();
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const topics = new TopicPartitions(kafka.admin(), startup);
  const connected = new Set<Producer>();
  for (const p of sessions) {
    p.on(p.events.CONNECT, () => connected.add(p));
    p.on(p.events.DISCONNECT, () => connected.delete(p));
  }
  const toMessage = (m: OutgoingMessage, partition?: number): Message => ({
    key: m.key ?? null,
    value: m.value,
    headers: m.headers ? { ...m.headers } : undefined,
    partition,
  });
  const partitionsOf = async (topic: string, messages: readonly OutgoingMessage[]) => {
    const partitionMetadata = await topics.get(topic);
    const count = partitionMetadata.length;
    // Keyed: the same murmur2 partition as kafkajs and the Java client, computed faster; no key: kafkajs' round robin.
    return messages.map((m) => (m.key !== null && m.key !== undefined ? partitionForKey(m.key, count) : partitioner({ topic, partitionMetadata, message: toMessage(m) })));
  };
  // Partition sends waiting per topic, session and leader. A leader gets one call at a time from
  // a session (kafkajs would hold a second one back anyway); what arrives meanwhile goes in the
  // next, so partitions that become ready one after the other still share a request.
  type Lane = { readonly topic: string; readonly session: Producer; waiting: PartitionSend[]; busy: boolean };
  const lanes = new Map<string, Lane>();
  const sendLane = (lane: Lane) => {
    if (lane.busy || lane.waiting.length === 0) return;
    const sends = lane.waiting;
    lane.waiting = [];
    lane.busy = true;
    const { topic, session } = lane;
    void sendUntilAcknowledged((messages) => session.send({ topic, acks: -1, compression, messages }), topic, sends, (partitions) =>
      logger.warn(
        { event: 'send_incomplete', topic, partitions },
        `the client resolved a send without acknowledging partition(s) ${partitions.join(', ')} of ${topic}: sending their messages again`,
      ),
    ).finally(() => {
      lane.busy = false;
      // Once the partitions just acknowledged have queued their next messages.
      setImmediate(() => sendLane(lane));
    });
  };
  const leaderOf = (topic: string, partition: number) => topics.cached(topic)?.find((p) => p.partitionId === partition)?.leader;
  const sendToPartition = async (topic: string, partition: number, messages: readonly OutgoingMessage[]) => {
    if (!topics.cached(topic)) await topics.get(topic);
    const s = partition % sessions.length;
    const key = `${topic}\0${s}\0${leaderOf(topic, partition) ?? -1}`;
    const lane = lanes.get(key) ?? { topic, session: sessions[s], waiting: [], busy: false };
    lanes.set(key, lane);
    await new Promise<void>((resolve, reject) => {
      lane.waiting.push({ partition, messages: messages.map((m) => toMessage(m, partition)), resolve, reject });
      // After every partition made ready in this turn of the event loop has queued its messages.
      if (lane.waiting.length === 1 && !lane.busy) setImmediate(() => sendLane(lane));
    });
  };
  return {
    connect: () => untilBrokersAnswer('producer connect', () => Promise.all(sessions.map((p) => p.connect())).then(() => undefined), startup),
    partitionsOf,
    sendToPartition,
    leaderOf,
    send: async (topic, messages) => {
      const partitions = await partitionsOf(topic, messages);
      const perPartition = new Map<number, OutgoingMessage[]>();
      messages.forEach((m, i) => {
        const list = perPartition.get(partitions[i]) ?? [];
        list.push(m);
        perPartition.set(partitions[i], list);
      });
      await Promise.all([...perPartition.entries()].map(([partition, list]) => sendToPartition(topic, partition, list)));
    },
    disconnect: async () => {
      await topics.close();
      await Promise.all(sessions.map((p) => p.disconnect()));
    },
    isConnected: () => connected.size === sessions.length,
  };
}

/** Partition metadata per topic for the producer's own partitioning, refreshed at most every 30 s. */
class TopicPartitions {
  private readonly cache = new Map<string, { readonly partitions: PartitionMetadata[]; readonly at: number }>();
  private connected?: Promise<void>;

  constructor(
    private readonly admin: Admin,
    private readonly startup: StartupRetry,
  ) {}

  async get(topic: string): Promise<PartitionMetadata[]> {
    const cached = this.cache.get(topic);
    if (cached && Date.now() - cached.at < 30_000) return cached.partitions;
    // During a failover the partition count is still known: keep producing with it. Without it
    // nothing can be sent, so the first lookup waits out brokers that do not answer yet.
    if (cached) return this.fetch(topic).catch(() => cached.partitions);
    return untilBrokersAnswer(`partitions of ${topic}`, () => this.fetch(topic), this.startup);
  }

  private async fetch(topic: string): Promise<PartitionMetadata[]> {
    try {
      this.connected ??= this.admin.connect();
      await this.connected;
      const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = meta.topics[0].partitions;
      this.cache.set(topic, { partitions, at: Date.now() });
      return partitions;
    } catch (err) {
      this.connected = undefined;
      throw err;
    }
  }

  /** The partitions as last fetched, however old. */
  cached(topic: string): readonly PartitionMetadata[] | undefined {
    return this.cache.get(topic)?.partitions;
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}
