import * as fs from 'fs';
import { KafkaTools, runKafkaTool } from '../tools/kafka-tool';
import { ServiceProcess } from './service-process';
import { Percentiles, percentiles } from './stats';
import { BenchContext, freshTopic, startClientReader } from './throughput';

export interface LatencyRun extends Percentiles {
  readonly samples: number;
  /**
   * Where the milliseconds go, from the consumer's per-message lines: `producer` from createdAt
   * to the record timestamp (when the producer's client built the request: linger, queueing
   * behind the request in flight, batching), `afterProducer` from there to the end of processing
   * (the request, replication to the in-sync replicas, the consumer's fetch wait, processing).
   */
  readonly breakdown?: { readonly producer: Percentiles; readonly afterProducer: Percentiles };
  /**
   * The consumer process over the run, from its own /metrics (prom-client's default metrics,
   * scraped before it stops, so since its start): how late its event loop ran a 10 ms timer
   * (p99 and max), and the share of its lifetime spent in garbage collection pauses.
   */
  readonly consumerRuntime?: { readonly eventLoopLagP99Ms: number; readonly eventLoopLagMaxMs: number; readonly gcShare: number };
  /**
   * The same records read at the same time by kafkajs alone (bench/client-only.ts, a group of
   * its own): createdAt to the moment kafkajs handed over the record's batch, over the same
   * window. What the client and the cluster take; the rest is the consumer service's own.
   */
  readonly kafkajsAlone?: Percentiles;
}

/** The consumer runtime figures from a Prometheus text page of prom-client's default metrics; undefined when one is missing. */
export function consumerRuntimeFrom(metricsText: string, lifetimeSeconds: number): LatencyRun['consumerRuntime'] {
  const value = (name: string) => {
    // The services' registry labels every series with the service's name (`{service="consumer"}`).
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(metricsText);
    return m ? Number(m[1]) : undefined;
  };
  const p99 = value('nodejs_eventloop_lag_p99_seconds');
  const max = value('nodejs_eventloop_lag_max_seconds');
  const gc = [...metricsText.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} ([0-9.eE+-]+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  if (p99 === undefined || max === undefined || !(lifetimeSeconds > 0)) return undefined;
  return { eventLoopLagP99Ms: p99 * 1000, eventLoopLagMaxMs: max * 1000, gcShare: gc / lifetimeSeconds };
}

/**
 * End-to-end latency through the platform's services at a fixed rate: the producer service
 * paced by RATE_LIMIT, the consumer service already in its group. Each message's latency is the
 * consumer's `latencyMs` (from the message's createdAt to the end of its processing), read from
 * its per-message lines, which LOG_LEVEL=debug turns on for this run only.
 *
 * The first `warmupSeconds` of messages are sent and consumed but not counted: in them both
 * processes still run kafkajs' code unoptimised and open their first requests to each leader,
 * and a run that starts cold puts that second into every percentile above p90 (bench/: p99 of
 * the first second 153 ms, of the next nine 23-39 ms). A service runs for days; its steady state
 * is what the target is about.
 */
export async function serviceLatency(ctx: BenchContext, rate: number, seconds: number, env: Record<string, string> = {}, warmupSeconds = 0): Promise<LatencyRun> {
  const topic = await freshTopic(ctx, `latency-${rate}-${Date.now().toString(36)}`);
  const messages = rate * (warmupSeconds + seconds);
  const samples: { createdAt: number; latencyMs: number; recordTimestamp: number }[] = [];
  const consumer = new ServiceProcess(
    'consumer',
    { KAFKA_BROKERS: ctx.bootstrapServers, KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq`, KAFKA_GROUP_ID: topic, ...env, LOG_LEVEL: 'debug' },
    { onLine: (l) => l.event === 'message' && samples.push({ createdAt: Date.parse(String(l.createdAt)), latencyMs: Number(l.latencyMs), recordTimestamp: Number(l.recordTimestamp) }) },
  );
  const startedAt = Date.now();
  let reader: ReturnType<typeof startClientReader> | undefined;
  try {
    await consumer.waitForEvent('start');
    reader = startClientReader(ctx, topic, `${topic}-kafkajs`, messages, { latency: true });
    await reader.joined;
    const producer = new ServiceProcess('producer', {
      KAFKA_BROKERS: ctx.bootstrapServers,
      KAFKA_TOPIC: topic,
      MESSAGE_COUNT: String(messages),
      RATE_LIMIT: String(rate),
      PAYLOAD_SIZE: String(ctx.shape.payloadSize),
      MESSAGE_ID_PREFIX: topic,
      ...env,
    });
    const code = await producer.exited;
    if (code !== 0) throw new Error(`producer service failed at ${rate} msg/s (exit ${code}):\n${producer.tail()}`);
    const deadline = Date.now() + 60_000;
    while (samples.length < messages && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (samples.length < messages) throw new Error(`consumer service processed ${samples.length} of ${messages} messages at ${rate} msg/s:\n${consumer.tail()}`);
    const measuredFrom = samples.reduce((first, x) => Math.min(first, x.createdAt), Infinity) + warmupSeconds * 1000;
    const measured = samples.filter((x) => x.createdAt >= measuredFrom);
    const latencies = measured.map((x) => x.latencyMs);
    const breakdown = {
      producer: percentiles(measured.map((x) => x.recordTimestamp - x.createdAt)),
      afterProducer: percentiles(measured.map((x) => x.createdAt + x.latencyMs - x.recordTimestamp)),
    };
    const consumerRuntime = await scrapeConsumerRuntime(consumer, startedAt);
    const alone = (await reader.finished).get('latencies')?.samples?.filter(([createdAt]) => createdAt >= measuredFrom).map(([, ms]) => ms) ?? [];
    return {
      samples: latencies.length,
      ...percentiles(latencies),
      breakdown,
      ...(consumerRuntime ? { consumerRuntime } : {}),
      ...(alone.length > 0 ? { kafkajsAlone: percentiles(alone) } : {}),
    };
  } finally {
    reader?.kill();
    await consumer.stop();
    await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  }
}

async function scrapeConsumerRuntime(consumer: ServiceProcess, startedAt: number): Promise<LatencyRun['consumerRuntime']> {
  const port = consumer.lines.find((l) => l.event === 'http_listening')?.port;
  if (typeof port !== 'number') return undefined;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    return consumerRuntimeFrom(await res.text(), (Date.now() - startedAt) / 1000);
  } catch {
    // A consumer that cannot answer is reported without these figures, not as a failed run.
    return undefined;
  }
}

/**
 * Kafka's EndToEndLatency on a posts-like topic with the services' guarantees (acks=all,
 * idempotent, gzip): one message at a time, sent synchronously and polled back, so its rate is
 * whatever one round trip allows. It reports whole milliseconds, as the consumer service does.
 */
export async function kafkaToolLatency(ctx: BenchContext, messages: number, propertiesFile: string): Promise<LatencyRun> {
  const topic = await freshTopic(ctx, `e2e-${Date.now().toString(36)}`);
  try {
    fs.writeFileSync(propertiesFile, 'enable.idempotence=true\ncompression.type=gzip\n');
    const out = await runKafkaTool(KafkaTools.endToEndLatency, [ctx.bootstrapServers, topic, String(messages), 'all', String(ctx.shape.messageBytes), propertiesFile], {
      timeoutMs: 300_000,
      asKafkaScripts: true,
    });
    // "Percentiles: 50th = 2, 99th = 6, 99.9th = 12"
    const m = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(out);
    if (!m) throw new Error(`unexpected EndToEndLatency output:\n${out.slice(-2000)}`);
    return { samples: messages, p50: Number(m[1]), p99: Number(m[2]), p999: Number(m[3]) };
  } finally {
    await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  }
}
