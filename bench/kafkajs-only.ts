/**
 * The consumer bench's reference reader, run as a process of its own, started the same way as the
 * consumer service (node with tsx), so neither side gets a JIT its earlier runs warmed up: a
 * kafkajs group member with the service's fetch settings that only counts what kafkajs hands over
 * (no parsing, no commits). It prints three JSON lines with epoch milliseconds: when it joined,
 * when WARMUP_SHARE of the records was counted, and when the last one was.
 *
 * With LATENCY=1 it is the latency bench's reference reader instead: a second group on the
 * topic the consumer service reads, taking each record's createdAt out of its value (a search,
 * not a parse) and printing, once MESSAGES are read, one line with [createdAt, latency ms] of
 * each: how late the client alone hands the same records over.
 *
 *   KAFKA_BROKERS=... KAFKA_TOPIC=... KAFKA_GROUP_ID=... MESSAGES=... [LATENCY=1] npx tsx bench/kafkajs-only.ts
 */
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

async function main(): Promise<void> {
  const brokers = required('KAFKA_BROKERS');
  const messages = Number(required('MESSAGES'));
  const { fetch } = loadConsumerConfig({ KAFKA_BROKERS: brokers });
  const consumer = new Kafka({ clientId: 'bench-kafkajs-only', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).consumer({
    groupId: required('KAFKA_GROUP_ID'),
    minBytes: fetch.minBytes,
    maxWaitTimeInMs: fetch.maxWaitMs,
    maxBytes: fetch.maxBytes,
    maxBytesPerPartition: fetch.maxBytesPerPartition,
  });
  const say = (event: string, extra: Record<string, number> = {}) => process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...extra })}\n`);
  const latency = process.env.LATENCY === '1';
  const samples: [number, number][] = [];
  let count = 0;
  let warm = false;
  consumer.on(consumer.events.GROUP_JOIN, () => say('group_join'));
  await consumer.connect();
  await consumer.subscribe({ topics: [required('KAFKA_TOPIC')], fromBeginning: true });
  await new Promise<void>((resolve) =>
    consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (latency) {
          const now = Date.now();
          for (const m of batch.messages) {
            const createdAt = CREATED_AT.exec(m.value?.toString('latin1') ?? '');
            if (!createdAt) continue;
            const at = Date.parse(createdAt[1]);
            samples.push([at, now - at]);
          }
        }
        count += batch.messages.length;
        if (!warm && count >= messages * WARMUP_SHARE) {
          warm = true;
          say('warm', { counted: count });
        }
        if (count >= messages) resolve();
      },
    }),
  );
  say('done', { counted: count });
  if (latency) process.stdout.write(`${JSON.stringify({ event: 'latencies', samples })}\n`);
  await consumer.disconnect();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`kafkajs-only reader failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
