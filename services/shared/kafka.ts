/**
 * The only file that talks to the Kafka client library (kafkajs). The services use the
 * small interfaces below, so swapping the library touches this file alone.
 */
import * as net from 'net';
import * as tls from 'tls';
import { promisify } from 'util';
import * as zlib from 'zlib';
import { Admin, CompressionCodecs, CompressionTypes, ISocketFactory, Consumer, EachBatchPayload, Kafka, KafkaConfig, LogEntry, Message, PartitionMetadata, Partitioners, Producer, RecordMetadata, logLevel } from 'kafkajs';
import { KafkaConnectionConfig } from './config';
import { Logger } from './observability';
import { partitionForKey } from './partitioner';

export interface OutgoingMessage {
  readonly key?: string | Buffer | null;
  readonly value: string | Buffer;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
}

/** One record of a fetched batch; its topic and partition are the batch's. */
export interface IncomingMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string | undefined>>;
  /** Broker or producer timestamp, epoch milliseconds as a string. */
  readonly timestamp: string;
}

/** What a batch handler can do besides reading messages. */
export interface BatchControl {
  /** False once a stop was requested or the partition was revoked: return after the current message. */
  shouldContinue(): boolean;
  /**
   * Marks a message done; only done messages are ever committed, in the background. True when
   * `CommitPolicy.everyMessages` done messages are not committed yet: then await `commit()`.
   */
  markProcessed(offset: string): boolean;
  /** Commits the offsets of the messages marked done so far (of every partition) and waits for it. */
  commit(): Promise<void>;
  heartbeat(): Promise<void>;
}

/** Messages of one partition, in offset order. */
export interface IncomingBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly IncomingMessage[];
}

export type BatchHandler = (batch: IncomingBatch, control: BatchControl) => Promise<void>;

/** A topic a service uses, with the setting that names it (for the error message). */
export interface RequiredTopic {
  readonly topic: string;
  /** Environment variable that names the topic, e.g. `KAFKA_DLQ_TOPIC`. */
  readonly setting: string;
  /** What the service needs to do with it, e.g. `Write`; named in an authorization error. */
  readonly operation: 'Read' | 'Write';
}

export interface MessageProducer {
  connect(): Promise<void>;
  /** Resolves when every message is acknowledged by all in-sync replicas (acks=all). */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * The partition each message goes to: the murmur2 hash of its key, as Kafka's Java client
   * does, or round robin for messages without a key.
   */
  partitionsOf(topic: string, messages: readonly OutgoingMessage[]): Promise<number[]>;
  /**
   * Sends messages of one partition and resolves when all in-sync replicas have them. Partitions
   * of the same leader handed over in the same turn of the event loop, or while that leader's
   * last request is out, share one request. A caller that waits for this before sending that
   * partition's next messages keeps their order, through retries too.
   */
  sendToPartition(topic: string, partition: number, messages: readonly OutgoingMessage[]): Promise<void>;
  /** The partition's leader as the metadata last fetched by `partitionsOf` says; undefined before that. */
  leaderOf(topic: string, partition: number): number | undefined;
  disconnect(): Promise<void>;
  isConnected(): boolean;
}

/** Record batch codecs kafkajs carries itself (snappy, lz4 and zstd need native add-ons). */
export const COMPRESSION_CODECS = ['gzip', 'none'] as const;
export type CompressionCodec = (typeof COMPRESSION_CODECS)[number];

export interface ProducerOptions {
  /** Codec of every record batch; the topics store what producers send. */
  readonly compression: CompressionCodec;
  /** Idempotent producer sessions; partition p always goes through session p mod sessions. */
  readonly sessions: number;
}

/**
 * When done messages are committed. A commit is a round trip to the group coordinator, which
 * writes it to all replicas of __consumer_offsets: awaited once per fetched batch it was the
 * largest part of the end-to-end latency, and awaited every 500 messages it halved throughput
 * (bench/). Committing later only widens what a crash redelivers.
 */
export interface CommitPolicy {
  /**
   * At most this many done messages stay uncommitted: a background commit starts at half of it,
   * processing waits at all of it. A crash redelivers no more.
   */
  readonly everyMessages: number;
  /** Commit what is done once this long has passed since the last commit, also when no message arrives. */
  readonly intervalMs: number;
}

/** Fetch sizes of a consumer (the Java client's fetch.* settings). */
export interface FetchOptions {
  /** The broker answers once this many bytes are available... */
  readonly minBytes: number;
  /** ...or once this long has passed. */
  readonly maxWaitMs: number;
  /** Most bytes per fetch response. */
  readonly maxBytes: number;
  /** Most bytes per partition in one fetch response. */
  readonly maxBytesPerPartition: number;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  /** Where a group without committed offsets starts. */
  readonly fromBeginning: boolean;
  /** How long the group waits for a silent member before reassigning its partitions. */
  readonly sessionTimeoutMs: number;
  /** Called when the client gives up (non-retriable error); the service should exit. */
  readonly onFatal: (error: Error) => void;
  readonly fetch: FetchOptions;
  readonly commit: CommitPolicy;
  /**
   * Partitions whose batches are handled at the same time. Each partition still has one batch
   * in hand at a time, so its order holds.
   */
  readonly partitionsConsumedConcurrently: number;
}

export interface MessageConsumer {
  /** Connects, joins the group and starts handing batches to `handler`. */
  start(handler: BatchHandler): Promise<void>;
  /** Stops fetching, waits for the running handler to return, leaves the group, disconnects. */
  stop(): Promise<void>;
  /** Joined the group and not stopped or crashed. */
  isReady(): boolean;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs log lines go through the service's pino logger, so every line is the same JSON. */
function logCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _ts, logger: _name, ...extra } = log as { message: string; timestamp?: string; logger?: string } & Record<string, unknown>;
      child[LEVELS[level] ?? 'info']({ namespace, ...extra }, message);
    };
}

function kafkaConfig(cfg: KafkaConnectionConfig, logger: Logger): KafkaConfig {
  return {
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    ssl: cfg.tls ? (cfg.tls.ca ? { ca: [cfg.tls.ca], rejectUnauthorized: true } : true) : false,
    sasl: cfg.sasl ? { mechanism: 'scram-sha-512', username: cfg.sasl.username, password: cfg.sasl.password } : undefined,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
    socketFactory: noDelaySocketFactory,
  };
}

const KEEP_ALIVE_DELAY_MS = 60_000;

/** kafkajs' own socket factory, plus TCP_NODELAY. */
const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect) : net.connect({ host, port }, onConnect);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
  return socket;
};

/**
 * kafkajs' gzip codec, except that small record batches are (de)compressed on the event loop.
 * A thread-pool job per produce request and per fetched batch, each finished through a callback,
 * cost more than the work at low rates and queued behind the brokers on a busy machine (bench/:
 * p50 at 1,000 msg/s 27 ms with kafkajs' codec, 9 ms without compression, 4 ms with this one).
 * Large batches still go to the thread pool, so a big fetch does not stall the event loop.
 */
const SYNC_COMPRESS_BYTES = 64 * 1024;
/** Compressed size below which a batch is inflated on the event loop (highly compressible batches grow tenfold and more). */
const SYNC_DECOMPRESS_BYTES = 4 * 1024;
/**
 * Output chunk of an inflate: zlib's default, 16 KiB, returns a 1 MiB batch in 64 callbacks and
 * then copies them together, a tenth of the consumer's CPU at full speed (bench/profile.ts). A
 * gzip member ends with its inflated size (mod 4 GiB), so one chunk of that size holds the whole
 * batch: no joining, no chunk larger than needed (a 1 MiB chunk for every small batch of a slow
 * stream was a gigabyte a second of garbage). The size only sizes the chunk: a wrong one (several
 * members, a corrupt trailer) costs more chunks, never a wrong result, and is capped by deflate's
 * largest ratio and INFLATE_CHUNK_MAX_BYTES.
 */
const INFLATE_CHUNK_MAX_BYTES = 64 * 1024 * 1024;
const DEFLATE_MAX_RATIO = 1032;
const inflateChunkBytes = (compressed: Buffer) => {
  const inflated = compressed.length >= 18 ? compressed.readUInt32LE(compressed.length - 4) : 0;
  // One byte more: a chunk filled exactly makes zlib allocate another whole one before it sees the end.
  return Math.max(64, Math.min(inflated + 1, compressed.length * DEFLATE_MAX_RATIO, INFLATE_CHUNK_MAX_BYTES));
};
const gzipAsync = promisify(zlib.gzip);
const unzipAsync = promisify<zlib.InputType, zlib.ZlibOptions, Buffer>(zlib.unzip);
CompressionCodecs[CompressionTypes.GZIP] = () => ({
  compress: async (encoder: { buffer: Buffer }) => (encoder.buffer.length < SYNC_COMPRESS_BYTES ? zlib.gzipSync(encoder.buffer) : gzipAsync(encoder.buffer)),
  decompress: async (buffer: Buffer) =>
    buffer.length < SYNC_DECOMPRESS_BYTES ? zlib.unzipSync(buffer, { chunkSize: inflateChunkBytes(buffer) }) : unzipAsync(buffer, { chunkSize: inflateChunkBytes(buffer) }),
});

/** How often, in messages, a batch handler's shouldContinue() asks kafkajs whether the partition is still assigned. */
const REVOCATION_CHECK_EVERY = 64;

/** A consumer with nothing in hand for this long commits what it processed. */
const IDLE_COMMIT_MS = 20;

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

/** A connection factory for one service. */
export class KafkaClient {
  private readonly kafka: Kafka;

  constructor(cfg: KafkaConnectionConfig, private readonly logger: Logger) {
    this.kafka = new Kafka(kafkaConfig(cfg, logger));
  }

  /**
   * Fails, before anything is read or written, when a topic the service uses does not exist or
   * its user may not describe it, with an error naming the topic, its setting and the fix.
   * Otherwise a missing topic shows up later as kafkajs' bare `This server does not host this
   * topic-partition`, and a missing DLQ only when the first malformed message arrives.
   */
  async requireTopics(required: readonly RequiredTopic[]): Promise<void> {
    const admin = this.kafka.admin({ retry: { retries: 2 } });
    await admin.connect();
    try {
      for (const r of required) {
        await admin.fetchTopicMetadata({ topics: [r.topic] }).catch((err: unknown) => {
          throw explainTopicError(err, r);
        });
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
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
  producer(options: ProducerOptions = { compression: 'gzip', sessions: 1 }): MessageProducer {
    // kafkajs' idempotent producer sends one request per broker at a time. Several sessions (each a
    // kafkajs producer with its own producer id and connections) let a broker have several requests
    // in flight; a partition always uses the same session, which keeps its sequence numbers and order.
    const sessions: Producer[] = Array.from({ length: Math.max(1, options.sessions) }, () =>
      this.kafka.producer({
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
    const topics = new TopicPartitions(this.kafka.admin());
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
        this.logger.warn(
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
      connect: async () => {
        await Promise.all(sessions.map((p) => p.connect()));
      },
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

  /**
   * A group consumer with at-least-once delivery: kafkajs' auto-commit is off and offsets
   * are committed only for messages the handler marked processed.
   */
  consumer(options: ConsumerOptions): MessageConsumer {
    const consumer: Consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(options.sessionTimeoutMs / 3)),
      // A stop waits for the fetch long-poll in flight: keep maxWaitMs short.
      maxWaitTimeInMs: options.fetch.maxWaitMs,
      minBytes: options.fetch.minBytes,
      maxBytes: options.fetch.maxBytes,
      maxBytesPerPartition: options.fetch.maxBytesPerPartition,
    });
    let joined = false;
    let stopped = false;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      joined = true;
      this.logger.info({ event: 'group_join', groupId: e.payload.groupId, memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
    });
    consumer.on(consumer.events.DISCONNECT, () => (joined = false));
    consumer.on(consumer.events.STOP, () => (joined = false));
    consumer.on(consumer.events.CRASH, (e) => {
      joined = false;
      const error = e.payload.error;
      this.logger.error({ event: 'consumer_crash', restart: e.payload.restart, err: error }, `consumer crashed: ${error.message}`);
      // kafkajs restarts by itself after retriable errors; anything else ends the service.
      if (!e.payload.restart && !stopped) options.onFatal(error);
    });

    // Done-but-uncommitted offsets live in kafkajs (resolveOffset); these decide when to commit them.
    // Commits run in the background, one at a time; processing waits only when COMMIT_EVERY done
    // messages are not committed yet, which bounds what a crash redelivers.
    const startAfter = Math.max(1, Math.floor(options.commit.everyMessages / 2));
    // Done and told to kafkajs since the last commit snapshot; done but not told yet (see resolveDone).
    let doneSinceSnapshot = 0;
    let unresolved = 0;
    let inFlightCount = 0;
    let queuedCommits = 0;
    let lastCommitAt = Date.now();
    let activeBatches = 0;
    let lastBatchEndAt = 0;
    let committer: Pick<EachBatchPayload, 'commitOffsetsIfNecessary' | 'uncommittedOffsets'> | undefined;
    // In order, so an older snapshot never lands after a newer one.
    let commits: Promise<void> = Promise.resolve();
    const notCommitted = () => doneSinceSnapshot + unresolved + inFlightCount;
    /** Commits everything done by the time the commit starts; resolves when Kafka has it. */
    const commit = (): Promise<void> => {
      queuedCommits++;
      // A failed commit fails its caller only; the next one starts afresh.
      commits = commits
        .catch(() => undefined)
        .then(async () => {
          try {
            if (!committer) return;
            const count = doneSinceSnapshot;
            const pending = committer.uncommittedOffsets();
            doneSinceSnapshot -= count;
            inFlightCount = count;
            lastCommitAt = Date.now();
            try {
              if (pending.topics.length > 0) await committer.commitOffsetsIfNecessary(pending);
            } catch (err) {
              doneSinceSnapshot += count;
              throw err;
            } finally {
              inFlightCount = 0;
            }
          } finally {
            queuedCommits--;
          }
        });
      return commits;
    };
    const commitInBackground = () => {
      commit().catch((err: Error) => this.logger.warn({ event: 'commit_failed', err }, `commit failed, done messages may be redelivered: ${err.message}`));
    };
    const commitDue = () => {
      const done = doneSinceSnapshot + unresolved;
      return queuedCommits === 0 && (done >= startAfter || (done > 0 && Date.now() - lastCommitAt >= options.commit.intervalMs));
    };
    // A consumer that ran out of messages commits what it did at once, not at the next
    // COMMIT_EVERY or COMMIT_INTERVAL_MS: its lag reaches 0 within IDLE_COMMIT_MS of the last
    // message (bench/: the interval had the last messages of a burst wait up to a second).
    const idleCommits = setInterval(() => {
      if (activeBatches > 0 || stopped || queuedCommits > 0) return;
      const idle = Date.now() - lastBatchEndAt >= IDLE_COMMIT_MS;
      if (commitDue() || (idle && doneSinceSnapshot + unresolved > 0)) commitInBackground();
    }, IDLE_COMMIT_MS);
    idleCommits.unref();
    let batchesDone: () => void = () => undefined;

    return {
      start: async (handler) => {
        await consumer.connect();
        await consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
          eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary, uncommittedOffsets }) => {
            committer = { commitOffsetsIfNecessary, uncommittedOffsets };
            activeBatches++;
            const stillOurs = () => !stopped && isRunning() && !isStale();
            // kafkajs builds a string key and looks the partition up for each isStale(): asked for
            // every message it was a visible share of the consumer's CPU. A stop is seen at once,
            // a revoked partition within REVOCATION_CHECK_EVERY messages (reprocessed at most, never lost).
            let calls = 0;
            let ours = true;
            const shouldContinue = () => {
              if (stopped) return false;
              if (++calls % REVOCATION_CHECK_EVERY === 0) ours = stillOurs();
              return ours;
            };
            try {
              // kafkajs' records already have the fields of IncomingMessage: handed over as they are,
              // not copied, which was one object per message for the garbage collector (bench/profile.ts).
              const incoming: IncomingBatch = { topic: batch.topic, partition: batch.partition, messages: batch.messages as unknown as IncomingMessage[] };
              // Messages are done in order, so telling kafkajs the last done one is enough, and is
              // due only before a commit (kafkajs does 64-bit offset arithmetic on each call).
              let lastDone: string | undefined;
              let batchUnresolved = 0;
              const resolveDone = () => {
                if (lastDone !== undefined) resolveOffset(lastDone);
                lastDone = undefined;
                // Counted as committable only together with what kafkajs will commit.
                doneSinceSnapshot += batchUnresolved;
                unresolved -= batchUnresolved;
                batchUnresolved = 0;
              };
              try {
                await handler(incoming, {
                  shouldContinue,
                  markProcessed: (offset) => {
                    lastDone = offset;
                    batchUnresolved++;
                    unresolved++;
                    if (commitDue()) {
                      resolveDone();
                      commitInBackground();
                    }
                    return notCommitted() >= options.commit.everyMessages;
                  },
                  commit: () => {
                    resolveDone();
                    return commit();
                  },
                  heartbeat,
                });
              } finally {
                resolveDone();
              }
              // Before giving the partition up, everything done is committed; otherwise commit when due.
              if (!stillOurs() && notCommitted() > 0) await commit();
              else if (commitDue()) commitInBackground();
            } finally {
              lastBatchEndAt = Date.now();
              if (--activeBatches === 0) batchesDone();
            }
          },
        });
      },
      stop: async () => {
        stopped = true;
        clearInterval(idleCommits);
        // The running batch sees shouldContinue() false, commits and returns; then commit what an idle stretch left.
        if (activeBatches > 0) await new Promise<void>((resolve) => (batchesDone = resolve));
        if (notCommitted() > 0 || queuedCommits > 0) await commit().catch((err: Error) => this.logger.warn({ event: 'commit_failed', err }, `final commit failed: ${err.message}`));
        await consumer.disconnect();
      },
      isReady: () => joined && !stopped,
    };
  }
}

/** kafkajs' protocol error type (`UNKNOWN_TOPIC_OR_PARTITION`), also through its retry wrapper. */
function protocolErrorType(err: unknown): string | undefined {
  for (let e = err as { type?: unknown; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.type === 'string') return e.type;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return undefined;
}

function explainTopicError(err: unknown, r: RequiredTopic): Error {
  const message = err instanceof Error ? err.message : String(err);
  switch (protocolErrorType(err)) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return new Error(
        `topic "${r.topic}" (${r.setting}) does not exist: create it with kafka-stack (the platform's topics are declared in config/topics.ts) or set ${r.setting} to an existing topic`,
      );
    case 'TOPIC_AUTHORIZATION_FAILED':
      return new Error(`${message}: this service's user may not use topic "${r.topic}" (${r.setting}); grant it Describe and ${r.operation} on the topic (config/topics.ts)`);
    default:
      return err instanceof Error ? err : new Error(message);
  }
}

/** Partition metadata per topic for the producer's own partitioning, refreshed at most every 30 s. */
class TopicPartitions {
  private readonly cache = new Map<string, { readonly partitions: PartitionMetadata[]; readonly at: number }>();
  private connected?: Promise<void>;

  constructor(private readonly admin: Admin) {}

  async get(topic: string): Promise<PartitionMetadata[]> {
    const cached = this.cache.get(topic);
    if (cached && Date.now() - cached.at < 30_000) return cached.partitions;
    try {
      this.connected ??= this.admin.connect();
      await this.connected;
      const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = meta.topics[0].partitions;
      this.cache.set(topic, { partitions, at: Date.now() });
      return partitions;
    } catch (err) {
      this.connected = undefined;
      // During a failover the partition count is still known: keep producing with it.
      if (cached) return cached.partitions;
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
