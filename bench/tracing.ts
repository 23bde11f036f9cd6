import * as path from 'path';
import { TracedService, environments, serviceSamplerEnv } from '../config';
import { LocalJaeger, jaegerDown, jaegerUp } from '../tools/local-jaeger';
import { CACHE_DIR } from '../tools/paths';
import { median } from './stats';
import { BenchContext, ThroughputRun, consumeWithService, freshTopic, produceWithService } from './throughput';

/**
 * What tracing costs the services: producer and consumer throughput with tracing off, at the
 * sampling ratio workloads-stack deploys, and with every trace kept, each exporting to a real
 * trace backend (the bench's own Jaeger). The consumer reads a topic the producer filled at the
 * same setting, so it sees the headers, and the sampling decisions, it would see deployed. The
 * records written at the default sampling are read once more with tracing off: the headers' share.
 */

/** One tracing setting: its name in the report and the services' OTel variables. */
export interface TracingSetting {
  readonly name: 'off' | 'default' | 'all';
  readonly label: string;
  /** Share of traces kept; undefined when tracing is off. */
  readonly ratio?: number;
}

export interface TracingSettingResult extends TracingSetting {
  readonly producer: readonly ThroughputRun[];
  readonly consumer: readonly ThroughputRun[];
  readonly medianProducerMessagesPerSecond: number;
  readonly medianConsumerMessagesPerSecond: number;
  /** 1 - this setting's median / the median with tracing off (0.03 = 3 % slower). */
  readonly producerCost: number;
  readonly consumerCost: number;
}

/** The consumer with tracing off on the records written at the default sampling: what their trace headers alone cost it. */
export interface PropagationOnlyResult {
  readonly consumer: readonly ThroughputRun[];
  readonly medianConsumerMessagesPerSecond: number;
  /** 1 - its median / the median with tracing off (records without headers). */
  readonly consumerCost: number;
}

export interface TracingCost {
  readonly settings: readonly TracingSettingResult[];
  /** Absent in results written before it was measured. */
  readonly propagationOnly?: PropagationOnlyResult;
  /** The backend the spans went to. */
  readonly backend: string;
}

/** The deployed ratio (workloads-stack's OTEL_TRACES_SAMPLER_ARG). */
const DEFAULT_RATIO = environments.prod.services.traceSampleRatio;

export const TRACING_SETTINGS: readonly TracingSetting[] = [
  { name: 'off', label: 'tracing off' },
  { name: 'default', label: `default sampling (${DEFAULT_RATIO * 100} %)`, ratio: DEFAULT_RATIO },
  { name: 'all', label: 'every trace (100 %)', ratio: 1 },
];

/** The bench's own trace backend: ports and files apart from `npm start`'s and the tests'. */
export const BENCH_JAEGER = { dir: path.join(CACHE_DIR, 'bench', 'jaeger'), otlpPort: 29348, queryPort: 29716, maxTraces: 50_000 };

function serviceEnv(setting: TracingSetting, jaeger: LocalJaeger, service: TracedService): Record<string, string> {
  if (setting.ratio === undefined) return {};
  // As workloads-stack deploys it, with the SDK's default batch limits.
  return { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, ...serviceSamplerEnv(service, setting.ratio) };
}

const msgs = (n: number) => `${Math.round(n).toLocaleString('en-US')} msg/s`;
const rate = (r: ThroughputRun) => (r.steadyMessagesPerSecond === undefined ? msgs(r.messagesPerSecond) : `${msgs(r.messagesPerSecond)} (steady ${msgs(r.steadyMessagesPerSecond)})`);

/**
 * The consumer's input is written in full batches whatever the setting: the producer's batches
 * grow with its rate (they fill while a request is out), so the slower traced producer would
 * otherwise leave smaller batches, which cost the consumer more per record, and that would count
 * as tracing. A partition's batch waits up to a second for 1000 messages.
 */
const FULL_BATCHES = { BATCH_SIZE: '1000', LINGER_MS: '1000' };

/**
 * `runs` rounds; each round runs every setting, starting with a different one each round so a
 * drift in the machine's load does not favour one: the producer service at its defaults fills a
 * fresh topic (its throughput), then fills another in full batches, which the consumer service
 * reads back, both at that setting.
 */
export async function tracingSection(ctx: BenchContext, runs: number, messages: number): Promise<TracingCost> {
  const jaeger = await jaegerUp({ ...BENCH_JAEGER, log: ctx.log });
  try {
    const produced = new Map<string, ThroughputRun[]>(TRACING_SETTINGS.map((s) => [s.name, []]));
    const consumed = new Map<string, ThroughputRun[]>(TRACING_SETTINGS.map((s) => [s.name, []]));
    const headersOnly: ThroughputRun[] = [];
    for (let i = 1; i <= runs; i++) {
      for (let j = 0; j < TRACING_SETTINGS.length; j++) {
        const setting = TRACING_SETTINGS[(i - 1 + j) % TRACING_SETTINGS.length];
        const producerEnv = serviceEnv(setting, jaeger, 'producer');
        const consumerEnv = serviceEnv(setting, jaeger, 'consumer');
        const sent = await freshTopic(ctx, `tracing-${setting.name}-${i}-p`);
        const p = await produceWithService(ctx, sent, messages, producerEnv);
        await ctx.admin.deleteTopics({ topics: [sent, `${sent}.dlq`] });
        const topic = await freshTopic(ctx, `tracing-${setting.name}-${i}`);
        await produceWithService(ctx, topic, messages, { ...producerEnv, ...FULL_BATCHES });
        // At the default sampling the same records are also read with tracing off (the headers'
        // share of the cost), before or after the traced read by turns, so neither order favours one.
        const headersOnlyRead = async () => {
          const h = await consumeWithService(ctx, topic, messages, {});
          ctx.log(`tracing run ${i}/${runs}, tracing off on records written at the default sampling: consumer ${rate(h)}`);
          headersOnly.push(h);
        };
        if (setting.name === 'default' && i % 2 === 1) await headersOnlyRead();
        const c = await consumeWithService(ctx, topic, messages, consumerEnv);
        ctx.log(`tracing run ${i}/${runs}, ${setting.label}: producer ${rate(p)}, consumer ${rate(c)}`);
        if (setting.name === 'default' && i % 2 === 0) await headersOnlyRead();
        produced.get(setting.name)!.push(p);
        consumed.get(setting.name)!.push(c);
        await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
      }
    }
    const medianOf = (runsOf: readonly ThroughputRun[]) => median(runsOf.map((r) => r.messagesPerSecond));
    // The consumer at its steady rate: tracing's cost to a consumer that keeps running, without
    // the first fifth of each run, where V8 is still warming the exporter's code up as well as the rest.
    const steadyMedianOf = (runsOf: readonly ThroughputRun[]) => median(runsOf.map((r) => r.steadyMessagesPerSecond ?? r.messagesPerSecond));
    const off = { producer: medianOf(produced.get('off')!), consumer: steadyMedianOf(consumed.get('off')!) };
    return {
      backend: `Jaeger ${jaeger.version} (in memory), OTLP/HTTP on 127.0.0.1`,
      propagationOnly: { consumer: headersOnly, medianConsumerMessagesPerSecond: steadyMedianOf(headersOnly), consumerCost: 1 - steadyMedianOf(headersOnly) / off.consumer },
      settings: TRACING_SETTINGS.map((s) => {
        const p = medianOf(produced.get(s.name)!);
        const c = steadyMedianOf(consumed.get(s.name)!);
        return {
          ...s,
          producer: produced.get(s.name)!,
          consumer: consumed.get(s.name)!,
          medianProducerMessagesPerSecond: p,
          medianConsumerMessagesPerSecond: c,
          producerCost: 1 - p / off.producer,
          consumerCost: 1 - c / off.consumer,
        };
      }),
    };
  } finally {
    await jaegerDown({ dir: BENCH_JAEGER.dir, log: () => undefined });
  }
}
