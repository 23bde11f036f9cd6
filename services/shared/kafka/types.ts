/** What the services see of Kafka: the messages, the producer and consumer interfaces and their options. */

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

/** The client library behind a consumer: kafkajs, the services' client, or @platformatic/kafka, measured beside it (docs/services.md). */
export const CONSUMER_LIBRARIES = ['kafkajs', 'platformatic'] as const;
export type ConsumerLibrary = (typeof CONSUMER_LIBRARIES)[number];

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
