/**
 * The only file that talks to the Kafka client library (kafkajs). The services use the
 * small interfaces below, so swapping the library touches this file alone.
 */
import { CompressionTypes, Consumer, Kafka, KafkaConfig, LogEntry, Partitioners, Producer, logLevel } from 'kafkajs';
import { KafkaConnectionConfig } from './config';
import { Logger } from './observability';

export interface OutgoingMessage {
  readonly key?: string | Buffer | null;
  readonly value: string | Buffer;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
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
  /** Marks a message done; only done messages are ever committed. */
  markProcessed(offset: string): void;
  /** Commits the offsets of the messages marked done so far. */
  commit(): Promise<void>;
  heartbeat(): Promise<void>;
}

export type BatchHandler = (messages: readonly IncomingMessage[], control: BatchControl) => Promise<void>;

export interface MessageProducer {
  connect(): Promise<void>;
  /** Resolves when every message is acknowledged by all in-sync replicas (acks=all). */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
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
  };
}

/** A connection factory for one service. */
export class KafkaClient {
  private readonly kafka: Kafka;

  constructor(cfg: KafkaConnectionConfig, private readonly logger: Logger) {
    this.kafka = new Kafka(kafkaConfig(cfg, logger));
  }

  /** An idempotent producer: retries never duplicate or reorder messages within a partition. */
  producer(): MessageProducer {
    const producer: Producer = this.kafka.producer({
      idempotent: true,
      // One request in flight per broker keeps sequence numbers simple for kafkajs' idempotence.
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    let connected = false;
    producer.on(producer.events.CONNECT, () => (connected = true));
    producer.on(producer.events.DISCONNECT, () => (connected = false));
    return {
      connect: () => producer.connect(),
      send: async (topic, messages) => {
        await producer.send({
          topic,
          acks: -1,
          // gzip is the codec kafkajs carries itself; the topics keep what producers send.
          compression: CompressionTypes.GZIP,
          messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers ? { ...m.headers } : undefined })),
        });
      },
      disconnect: () => producer.disconnect(),
      isConnected: () => connected,
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
      // A stop waits for the fetch long-poll in flight: 1 s keeps shutdown quick.
      maxWaitTimeInMs: 1000,
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

    return {
      start: async (handler) => {
        await consumer.connect();
        await consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary, uncommittedOffsets }) => {
            const messages: IncomingMessage[] = batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key ?? null,
              value: m.value ?? null,
              headers: (m.headers ?? {}) as Record<string, Buffer | string | undefined>,
              timestamp: m.timestamp,
            }));
            await handler(messages, {
              shouldContinue: () => isRunning() && !isStale(),
              markProcessed: (offset) => resolveOffset(offset),
              commit: async () => {
                const pending = uncommittedOffsets();
                if (pending.topics.length > 0) await commitOffsetsIfNecessary(pending);
              },
              heartbeat,
            });
          },
        });
      },
      stop: async () => {
        stopped = true;
        await consumer.disconnect();
      },
      isReady: () => joined && !stopped,
    };
  }
}
