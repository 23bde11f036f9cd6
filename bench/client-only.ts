/**
 * The consumer bench's reference reader, run as a process of its own, started the same way as the
 * consumer service (node with tsx), so neither side gets a JIT its earlier runs warmed up: a
 * group member of the client library alone (`CLIENT`: kafkajs, the default, or platformatic for
 * @platformatic/kafka) with the service's fetch settings, that only counts what the client hands
 * over (no parsing, no commits). It prints three JSON lines with epoch milliseconds: when it
 * joined, when WARMUP_SHARE of the records was counted, and when the last one was.
 *
 * With LATENCY=1 it is the latency bench's reference reader instead: a second group on the
 * topic the consumer service reads, taking each record's createdAt out of its value (a search,
 * not a parse) and printing, once MESSAGES are read, one line with [createdAt, latency ms] of
 * each: how late the client alone hands the same records over.
 *
 *   KAFKA_BROKERS=... KAFKA_TOPIC=... KAFKA_GROUP_ID=... MESSAGES=... [LATENCY=1] [CLIENT=platformatic] npx tsx bench/client-only.ts
 */
import { Consumer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { loadConsumerConfig } from '../services/consumer/config';
import { WARMUP_SHARE } from './stats';

/** The createdAt field of a message of the producer service's shape. */
const CREATED_AT = /"createdAt":"([^"]+)"/;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

/** What the reader counts and, with LATENCY=1, how late each record arrived. */
class Tally {
  readonly samples: [number, number][] = [];
  count = 0;
  private warm = false;
  constructor(
    private readonly messages: number,
    private readonly latency: boolean,
    private readonly say: (event: string, extra?: Record<string, number>) => void,
  ) {}

  /** Counts a batch of `count` records (`values` read only with LATENCY=1); true once MESSAGES are counted. */
  add(count: number, values: () => Iterable<Buffer | null | undefined>): boolean {
    if (this.latency) {
      const now = Date.now();
      for (const v of values()) {
        const createdAt = CREATED_AT.exec(v?.toString('latin1') ?? '');
        if (!createdAt) continue;
        const at = Date.parse(createdAt[1]);
        this.samples.push([at, now - at]);
      }
    }
    this.count += count;
    if (!this.warm && this.count >= this.messages * WARMUP_SHARE) {
      this.warm = true;
      this.say('warm', { counted: this.count });
    }
    return this.count >= this.messages;
  }
}

async function withKafkajs(brokers: string, topic: string, groupId: string, tally: Tally, say: (event: string) => void): Promise<void> {
  const { fetch } = loadConsumerConfig({ KAFKA_BROKERS: brokers });
  const consumer = new Kafka({ clientId: 'bench-kafkajs-only', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).consumer({
    groupId,
    minBytes: fetch.minBytes,
    maxWaitTimeInMs: fetch.maxWaitMs,
    maxBytes: fetch.maxBytes,
    maxBytesPerPartition: fetch.maxBytesPerPartition,
  });
  consumer.on(consumer.events.GROUP_JOIN, () => say('group_join'));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve) =>
    consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (tally.add(batch.messages.length, () => batch.messages.map((m) => m.value))) resolve();
      },
    }),
  );
  await consumer.disconnect();
}

async function withPlatformatic(brokers: string, topic: string, groupId: string, tally: Tally, say: (event: string) => void): Promise<void> {
  const { fetch } = loadConsumerConfig({ KAFKA_BROKERS: brokers });
  const consumer = new Consumer({
    clientId: 'bench-platformatic-only',
    bootstrapBrokers: brokers.split(','),
    groupId,
    autocommit: false,
    minBytes: fetch.minBytes,
    maxWaitTime: fetch.maxWaitMs,
    maxBytes: fetch.maxBytes,
    maxBytesPerPartition: fetch.maxBytesPerPartition,
  });
  consumer.on('consumer:group:join', () => say('group_join'));
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', (m: { value: Buffer }) => {
      if (tally.add(1, () => [m.value])) resolve();
    });
  });
  await stream.close();
  await consumer.close(true);
}

async function main(): Promise<void> {
  const brokers = required('KAFKA_BROKERS');
  const messages = Number(required('MESSAGES'));
  const say = (event: string, extra: Record<string, number> = {}) => process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...extra })}\n`);
  const latency = process.env.LATENCY === '1';
  const tally = new Tally(messages, latency, say);
  const read = process.env.CLIENT === 'platformatic' ? withPlatformatic : withKafkajs;
  await read(brokers, required('KAFKA_TOPIC'), required('KAFKA_GROUP_ID'), tally, say);
  say('done', { counted: tally.count });
  if (latency) process.stdout.write(`${JSON.stringify({ event: 'latencies', samples: tally.samples })}\n`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`client-only reader failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
