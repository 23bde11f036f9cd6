import * as path from 'path';
import { environments } from '../config';
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
const JAEGER = { dir: path.join(CACHE_DIR, 'bench', 'jaeger'), otlpPort: 29348, queryPort: 29716, maxTraces: 50_000 };

function serviceEnv(setting: TracingSetting, jaeger: LocalJaeger): Record<string, string> {
  if (setting.ratio === undefined) return {};
  // As workloads-stack deploys it, with the SDK's default batch limits.
  return { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(setting.ratio) };
}

const rate = (r: ThroughputRun) => `${Math.round(r.messagesPerSecond).toLocaleString('en-US')} msg/s`;

/**
 * `runs` rounds; each round runs every setting, starting with a different one each round so a
 * drift in the machine's load does not favour one: the producer service fills a fresh topic,
 * then the consumer service reads it back, both at that setting.
 */
export async function tracingSection(ctx: BenchContext, runs: number, messages: number): Promise<TracingCost> {
  const jaeger = await jaegerUp({ ...JAEGER, log: ctx.log });
  try {
    const produced = new Map<string, ThroughputRun[]>(TRACING_SETTINGS.map((s) => [s.name, []]));
    const consumed = new Map<string, ThroughputRun[]>(TRACING_SETTINGS.map((s) => [s.name, []]));
    const headersOnly: ThroughputRun[] = [];
    for (let i = 1; i <= runs; i++) {
      for (let j = 0; j < TRACING_SETTINGS.length; j++) {
        const setting = TRACING_SETTINGS[(i - 1 + j) % TRACING_SETTINGS.length];
        const env = serviceEnv(setting, jaeger);
        const topic = await freshTopic(ctx, `tracing-${setting.name}-${i}`);
        const p = await produceWithService(ctx, topic, messages, env);
        const c = await consumeWithService(ctx, topic, messages, env);
        ctx.log(`tracing run ${i}/${runs}, ${setting.label}: producer ${rate(p)}, consumer ${rate(c)}`);
        if (setting.name === 'default') {
          // The same records again, by a consumer with tracing off: the headers' share of the cost.
          const h = await consumeWithService(ctx, topic, messages, {});
          ctx.log(`tracing run ${i}/${runs}, tracing off on records written at the default sampling: consumer ${rate(h)}`);
          headersOnly.push(h);
        }
        produced.get(setting.name)!.push(p);
        consumed.get(setting.name)!.push(c);
        await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
      }
    }
    const medianOf = (runsOf: readonly ThroughputRun[]) => median(runsOf.map((r) => r.messagesPerSecond));
    const off = { producer: medianOf(produced.get('off')!), consumer: medianOf(consumed.get('off')!) };
    return {
      backend: `Jaeger ${jaeger.version} (in memory), OTLP/HTTP on 127.0.0.1`,
      propagationOnly: { consumer: headersOnly, medianConsumerMessagesPerSecond: medianOf(headersOnly), consumerCost: 1 - medianOf(headersOnly) / off.consumer },
      settings: TRACING_SETTINGS.map((s) => {
        const p = medianOf(produced.get(s.name)!);
        const c = medianOf(consumed.get(s.name)!);
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
    await jaegerDown({ dir: JAEGER.dir, log: () => undefined });
  }
}
