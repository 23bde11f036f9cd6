import type { Span } from '@opentelemetry/api';
import { MessageProducer, OutgoingMessage } from './kafka';
import type { Tracing } from './tracing';

export interface PipelineOptions {
  /** Most messages in one request (one partition's batch). */
  readonly batchSize: number;
  /**
   * How long a partition's batch may wait to fill up before it is sent anyway, once nothing of
   * that partition is in flight. 0 sends at once; batches still grow while a request is out.
   */
  readonly lingerMs: number;
  /** Messages accepted but not yet acknowledged, over all partitions; `push` waits beyond it. */
  readonly maxBuffered: number;
  /** Longest wait for one request's acknowledgement before the pipeline fails. */
  readonly sendTimeoutMs: number;
}

/** One acknowledged request. */
export interface Acknowledgement {
  readonly partition: number;
  readonly messages: number;
  /** How long its oldest message waited in the pipeline before the request was handed to the client. */
  readonly queuedMs: number;
  /** From handing the request to the client to its acknowledgement. */
  readonly requestMs: number;
}

interface Queued {
  readonly seq: number;
  readonly message: OutgoingMessage;
  /** When it was pushed. */
  readonly at: number;
  /** Its producer span, from push to acknowledgement (tracing on only). */
  readonly span?: Span;
}

interface PartitionQueue {
  readonly partition: number;
  /** Oldest first; the first `inFlight` entries are the request being acknowledged. */
  readonly pending: Queued[];
  inFlight: number;
  timer?: NodeJS.Timeout;
}

/**
 * Keeps every partition busy: each partition has its own queue and at most one request in
 * flight, and all partitions send at the same time. One request at a time per partition keeps
 * each key's order, retries included. When a partition sends, the other partitions of its leader
 * that have messages waiting and nothing in flight send with it, lingering or not, as Kafka's Java
 * producer drains a broker's partitions: the client puts them in one request. Messages are
 * numbered in the order they are pushed, and `acknowledgedPrefix` says how many of the first ones
 * are all acknowledged.
 */
export class ProducerPipeline {
  private readonly partitions = new Map<number, PartitionQueue>();
  private pushed = 0;
  private buffered = 0;
  private failure?: Error;
  private waiters: (() => void)[] = [];
  private flushing = false;

  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    private readonly options: PipelineOptions,
    /** Called after each acknowledged request. */
    private readonly onAcknowledged: (ack: Acknowledgement) => void = () => undefined,
    /** A producer span per message, its context in the record's headers; undefined: no tracing work at all. */
    private readonly tracing?: Tracing,
  ) {}

  /** Queues messages (numbered from the count pushed so far); waits while the buffer is full. Rejects once the pipeline failed. */
  async push(messages: readonly OutgoingMessage[]): Promise<void> {
    while (this.buffered >= this.options.maxBuffered && !this.failure) await this.changed();
    if (this.failure) throw this.failure;
    const partitions = await this.producer.partitionsOf(this.topic, messages);
    const now = Date.now();
    const touched = new Set<PartitionQueue>();
    const tracing = this.tracing;
    messages.forEach((message, i) => {
      const q = this.queue(partitions[i]);
      if (tracing) {
        const traced = tracing.startSend(this.topic, partitions[i], message);
        q.pending.push({ seq: this.pushed++, message: traced.message, at: now, span: traced.span });
      } else {
        q.pending.push({ seq: this.pushed++, message, at: now });
      }
      touched.add(q);
    });
    this.buffered += messages.length;
    for (const q of touched) this.schedule(q);
  }

  /** Sends whatever is queued at once and resolves when everything pushed is acknowledged; rejects with the first failure. */
  async flush(): Promise<void> {
    this.flushing = true;
    for (const q of this.partitions.values()) this.schedule(q);
    while (this.buffered > 0 && !this.failure) await this.changed();
    if (this.failure) throw this.failure;
  }

  /** How many messages from the first pushed on are all acknowledged. */
  acknowledgedPrefix(): number {
    let lowest = this.pushed;
    for (const q of this.partitions.values()) if (q.pending.length > 0) lowest = Math.min(lowest, q.pending[0].seq);
    return lowest;
  }

  /** The error that stopped the pipeline, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  private queue(partition: number): PartitionQueue {
    let q = this.partitions.get(partition);
    if (!q) {
      q = { partition, pending: [], inFlight: 0 };
      this.partitions.set(partition, q);
    }
    return q;
  }

  /**
   * Sends the partition's next batch now, or when its linger time is up, unless a request is
   * out. A full buffer sends at once: lingering only pays while messages trickle in.
   */
  private schedule(q: PartitionQueue): void {
    if (q.inFlight > 0 || q.pending.length === 0 || this.failure) return;
    const waitMs = q.pending[0].at + this.options.lingerMs - Date.now();
    const full = q.pending.length >= this.options.batchSize || this.buffered >= this.options.maxBuffered;
    if (full || this.flushing || waitMs <= 0) {
      this.sendNow(q);
      const leader = this.producer.leaderOf(this.topic, q.partition);
      if (leader === undefined) return;
      for (const other of this.partitions.values()) {
        if (other.inFlight === 0 && other.pending.length > 0 && this.producer.leaderOf(this.topic, other.partition) === leader) this.sendNow(other);
      }
    } else {
      q.timer ??= setTimeout(() => {
        q.timer = undefined;
        this.schedule(q);
      }, waitMs);
    }
  }

  private sendNow(q: PartitionQueue): void {
    if (q.timer) clearTimeout(q.timer);
    q.timer = undefined;
    void this.send(q);
  }

  private async send(q: PartitionQueue): Promise<void> {
    const batch = q.pending.slice(0, this.options.batchSize);
    q.inFlight = batch.length;
    const sentAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.producer.sendToPartition(
          this.topic,
          q.partition,
          batch.map((b) => b.message),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `${batch.length} messages to partition ${q.partition} from message ${batch[0].seq} not acknowledged within SEND_TIMEOUT_MS=${this.options.sendTimeoutMs} ms`,
                ),
              ),
            this.options.sendTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      this.failure ??= err as Error;
      if (this.tracing) for (const b of batch) if (b.span) this.tracing.endSendFailed(b.span, this.topic, q.partition, err as Error);
      this.notify();
      return;
    } finally {
      clearTimeout(timer);
    }
    if (this.tracing) for (const b of batch) b.span?.end();
    q.pending.splice(0, batch.length);
    q.inFlight = 0;
    this.buffered -= batch.length;
    const now = Date.now();
    this.onAcknowledged({ partition: q.partition, messages: batch.length, queuedMs: sentAt - batch[0].at, requestMs: now - sentAt });
    this.notify();
    this.schedule(q);
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
