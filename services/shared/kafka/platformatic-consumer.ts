import { setTimeout as sleep } from 'timers/promises';
import type * as Platformatic from '@platformatic/kafka';
import type { Message, MessagesStream } from '@platformatic/kafka';
import { KafkaConnectionConfig } from '../config';
import { Logger } from '../observability';
import { CommitScheduler } from './commit-scheduler';
import { isBrokerUnavailable, isCertificateRefused, StartupRetry, untilBrokersAnswer } from './startup';
import { ConsumerOptions, IncomingBatch, IncomingMessage, MessageConsumer } from './types';

/**
 * The group consumer of ./consumer on @platformatic/kafka (`KAFKA_CONSUMER_CLIENT=platformatic`),
 * for measuring that client against kafkajs on the bench and the chaos suites (docs/services.md).
 * Same interface and guarantees: auto-commit off, only offsets the handler marked processed are
 * committed, one batch of a partition in hand at a time, the same commit policy.
 */

/** How often, in messages, shouldContinue() checks that the partition is still assigned. */
const REVOCATION_CHECK_EVERY = 64;
/** Most messages the client's stream holds decoded for the handler (its backpressure bound). */
const STREAM_BUFFER_MESSAGES = 1024;
/** Pause before a stream that failed on unavailable brokers is opened again. */
const RESTART_PAUSE_MS = 1000;

type Record_ = Message<Buffer, Buffer, string, Buffer>;
const NO_HEADERS: IncomingMessage['headers'] = Object.freeze({});

/**
 * A record as the services see it (IncomingMessage), its fields made from the client's record
 * when first read: the handler reads the offset of every message but the headers and the
 * timestamp only of some (DLQ, debug lines), and BigInt-to-string costs add up at 100,000 a second.
 */
class Incoming implements IncomingMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  private offsetText?: string;
  private headerRecord?: IncomingMessage['headers'];
  constructor(private readonly record: Record_) {
    this.key = record.key ?? null;
    this.value = record.value ?? null;
  }
  get offset(): string {
    return (this.offsetText ??= String(Number(this.record.offset)));
  }
  get timestamp(): string {
    return this.record.timestamp.toString();
  }
  get headers(): IncomingMessage['headers'] {
    return (this.headerRecord ??= this.record.headerEntries.length === 0 ? NO_HEADERS : Object.fromEntries(this.record.headerEntries));
  }
}

/**
 * True for the client's retriable errors (network, timeouts, moving leaders), also inside its
 * aggregate errors. A refused broker certificate is not, though the client wraps it in a
 * retriable NetworkError.
 */
export function platformaticRetriable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 6 || isCertificateRefused(err)) return false;
  const e = err as { canRetry?: unknown; code?: unknown; errors?: unknown; cause?: unknown };
  if (e.canRetry === true || e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT' || isBrokerUnavailable(err)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => platformaticRetriable(x, depth + 1))) return true;
  return platformaticRetriable(e.cause, depth + 1);
}

/** The client library, or an error naming the setting: the services' images do not carry it. */
function loadPlatformatic(): typeof Platformatic {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@platformatic/kafka') as typeof Platformatic;
  } catch (err) {
    throw new Error(
      `KAFKA_CONSUMER_CLIENT=platformatic needs the @platformatic/kafka package, which is not installed here (${(err as Error).message.split('\n')[0]}): ` +
        'it is for measuring that client from a checkout (npm run bench, npm run test:chaos); the images run kafkajs, so unset KAFKA_CONSUMER_CLIENT',
    );
  }
}

export function createPlatformaticConsumer(cfg: KafkaConnectionConfig, logger: Logger, options: ConsumerOptions, startup: StartupRetry): MessageConsumer {
  // An ES module only, loaded when a consumer on it is made: Node.js 24 requires ES modules, and
  // the files that import this one (jest's loader cannot) do not get it loaded otherwise.
  const { Consumer } = loadPlatformatic();
  const client = new Consumer<Buffer, Buffer, string, Buffer>({
    clientId: cfg.clientId,
    bootstrapBrokers: cfg.brokers,
    groupId: options.groupId,
    tls: cfg.tls ? { ca: cfg.tls.ca, rejectUnauthorized: true } : undefined,
    sasl: cfg.sasl ? { mechanism: 'SCRAM-SHA-512', username: cfg.sasl.username, password: cfg.sasl.password } : undefined,
    connectTimeout: 5000,
    requestTimeout: 30000,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(options.sessionTimeoutMs / 3)),
    autocommit: false,
    minBytes: options.fetch.minBytes,
    maxWaitTime: options.fetch.maxWaitMs,
    maxBytes: options.fetch.maxBytes,
    maxBytesPerPartition: options.fetch.maxBytesPerPartition,
    highWaterMark: STREAM_BUFFER_MESSAGES,
    deserializers: { headerKey: (b?: Buffer) => b?.toString('utf8') },
  });
  const log = logger.child({ component: 'platformatic-kafka' });
  let stream: MessagesStream<Buffer, Buffer, string, Buffer> | undefined;
  let joined = false;
  let stopped = false;
  client.on('consumer:group:join', (e) => {
    joined = true;
    // The assignment in kafkajs' shape ({ topic: partitions }), which the logs' readers expect.
    const assignment = Object.fromEntries((e.assignments ?? []).map((a) => [a.topic, a.partitions]));
    logger.info({ event: 'group_join', groupId: e.groupId, memberId: e.memberId, assignment }, 'joined consumer group');
  });
  client.on('consumer:group:leave', () => (joined = false));
  client.on('consumer:group:rebalance', () => log.info({ event: 'group_rebalance' }, 'group rebalancing'));

  // Done but uncommitted: the next offset to read per partition, with the leader epoch of its record.
  const done = new Map<number, { offset: bigint; leaderEpoch: number }>();
  const commits = new CommitScheduler(options.commit, logger, () => {
    if (done.size === 0) return undefined;
    const taken = [...done].map(([partition, o]) => ({ topic: options.topic, partition, offset: o.offset, leaderEpoch: o.leaderEpoch }));
    done.clear();
    return {
      send: () => client.commit({ offsets: taken }),
      // What a newer mark has not replaced goes back, so the next commit carries it.
      restore: () => {
        for (const o of taken) if (!done.has(o.partition)) done.set(o.partition, { offset: o.offset, leaderEpoch: o.leaderEpoch });
      },
    };
  });

  const assigned = (partition: number) => (client.assignments ?? []).some((a) => a.topic === options.topic && a.partitions.includes(partition));
  const open = () =>
    untilBrokersAnswer(
      'consume',
      () =>
        client.consume({
          topics: [options.topic],
          mode: 'committed',
          fallbackMode: options.fromBeginning ? 'earliest' : 'latest',
          autocommit: false,
        }),
      startup,
      platformaticRetriable,
    );

  /** The messages the stream handed over since the pump last took them, in arrival order. */
  let inbox: Record_[] = [];
  let wakeUp: () => void = () => undefined;
  /** What the inbox holds, as batches of consecutive messages of one partition. */
  const takeBatches = (): { batch: IncomingBatch; epochs: number[] }[] => {
    const items = inbox;
    inbox = [];
    const out: { batch: IncomingBatch; epochs: number[] }[] = [];
    let current: { partition: number; messages: IncomingMessage[]; epochs: number[] } | undefined;
    for (const m of items) {
      if (!current || current.partition !== m.partition) {
        current = { partition: m.partition, messages: [], epochs: [] };
        out.push({ batch: { topic: m.topic, partition: m.partition, messages: current.messages }, epochs: current.epochs });
      }
      current.messages.push(new Incoming(m));
      current.epochs.push(m.leaderEpoch);
    }
    return out;
  };

  let pumping: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const pump = async (handler: Parameters<MessageConsumer['start']>[0]) => {
    while (!stopped) {
      const s = stream;
      if (!s || s.destroyed || failure) {
        const err = failure;
        failure = undefined;
        if (err && !platformaticRetriable(err)) {
          logger.error({ event: 'consumer_crash', restart: false, err }, `consumer crashed: ${err.message}`);
          options.onFatal(err);
          return;
        }
        logger.error({ event: 'consumer_crash', restart: true, err }, `consumer stream ended: ${err?.message ?? 'closed'}; opening it again`);
        joined = false;
        // What the old stream handed over unprocessed is read again from the committed offsets.
        inbox = [];
        await commits.commit().catch(() => undefined);
        await sleep(RESTART_PAUSE_MS);
        if (stopped) return;
        try {
          stream = await open();
          watch(stream);
        } catch (e) {
          failure = e as Error;
        }
        continue;
      }
      if (inbox.length === 0) {
        await Promise.race([new Promise<void>((resolve) => (wakeUp = resolve)), stopping]);
        continue;
      }
      const batches = takeBatches();
      if (s.isPaused()) s.resume();
      for (const { batch, epochs } of batches) {
        if (stopped) break;
        commits.batchStarted();
        let calls = 0;
        let ours = true;
        const shouldContinue = () => {
          if (stopped) return false;
          if (++calls % REVOCATION_CHECK_EVERY === 0) ours = assigned(batch.partition);
          return ours;
        };
        // The last marked message goes into `done` (a BigInt) only when handed over.
        let index = 0;
        let lastDone = -1;
        const { control, handOver } = commits.batchControl(
          (offset) => {
            while (index < batch.messages.length - 1 && batch.messages[index].offset !== offset) index++;
            lastDone = index;
          },
          () => {
            if (lastDone >= 0) done.set(batch.partition, { offset: BigInt(batch.messages[lastDone].offset) + 1n, leaderEpoch: epochs[lastDone] });
            lastDone = -1;
          },
          { shouldContinue, heartbeat: async () => undefined },
        );
        try {
          try {
            await handler(batch, control);
          } finally {
            handOver();
          }
          if (!assigned(batch.partition) && commits.notCommitted() > 0) await commits.commit();
          else if (commits.due()) commits.commitInBackground();
        } catch (err) {
          // The handler failed (kafkajs would restart the batch): what it did not mark is read again.
          logger.error({ event: 'consumer_crash', restart: true, err }, `batch failed: ${(err as Error).message}`);
          failure = err as Error;
          s.destroy();
          break;
        } finally {
          commits.batchEnded();
        }
      }
    }
  };
  let stopSignal: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => (stopSignal = resolve));
  /** Collects the stream's messages for the pump; a full inbox pauses the stream's fetches until the pump takes it. */
  const watch = (s: MessagesStream<Buffer, Buffer, string, Buffer>) => {
    s.on('data', (m: Record_) => {
      inbox.push(m);
      if (inbox.length >= STREAM_BUFFER_MESSAGES) s.pause();
      wakeUp();
    });
    s.on('error', (err: Error) => {
      if (!stopped) failure = err;
      wakeUp();
    });
    s.on('close', () => wakeUp());
  };

  return {
    start: async (handler) => {
      stream = await open();
      watch(stream);
      joined = true;
      pumping = pump(handler).catch((err: Error) => options.onFatal(err));
    },
    stop: async () => {
      stopped = true;
      stopSignal();
      commits.stop();
      await pumping;
      if (commits.notCommitted() > 0 || commits.busy()) await commits.commit().catch((err: Error) => logger.warn({ event: 'commit_failed', err }, `final commit failed: ${err.message}`));
      await stream?.close().catch(() => undefined);
      await client.close();
      joined = false;
    },
    isReady: () => joined && !stopped && stream !== undefined && !stream.destroyed,
  };
}
