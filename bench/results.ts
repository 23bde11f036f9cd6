import type { FailoverRun } from './failover';
import type { LatencyRun } from './latency';
import type { Percentiles } from './stats';
import type { TestRunTime } from './test-time';
import type { ThroughputRun } from './throughput';
import type { TracingCost } from './tracing';

/** What `npm run bench` measured, as written to bench/results/latest.json. */
export interface BenchResults {
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: BenchSettings;
  readonly producer?: ThroughputComparison;
  readonly consumer?: ThroughputComparison;
  /** Producer and consumer throughput with tracing off, at the default sampling and at 100 %. */
  readonly tracing?: TracingCost;
  readonly latency?: LatencyComparison;
  readonly failover?: FailoverResult;
  readonly synth?: SynthResult;
  readonly npmTest?: TestRunTime;
  /** Each target of the performance work, with the measured value. */
  readonly targets: readonly TargetResult[];
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly os: string;
  /** 1-minute load average when the bench started and when it ended. */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly node: string;
  readonly java: string;
  readonly kafka: string;
  readonly kafkajs: string;
}

export interface BenchSettings {
  readonly runs: number;
  readonly throughputMessages: number;
  readonly messageBytes: number;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly latencyRates: readonly number[];
  readonly latencySeconds: number;
  /** Sent and consumed at the rate before `latencySeconds`, not counted. */
  readonly latencyWarmupSeconds: number;
  readonly kafkaLatencyMessages: number;
  readonly failoverRate: number;
  /** The guarantees both sides run with. */
  readonly guarantees: string;
}

/** The median of each side's runs, and service / Kafka tool. */
export interface ThroughputSummary {
  readonly serviceMessagesPerSecond: number;
  readonly serviceMibPerSecond: number;
  readonly kafkaMessagesPerSecond: number;
  readonly kafkaMibPerSecond: number;
  readonly ratio: number;
}

export interface ThroughputComparison {
  /** The Kafka tool it is compared with. */
  readonly kafkaTool: string;
  readonly service: readonly ThroughputRun[];
  readonly kafka: readonly ThroughputRun[];
  readonly median: ThroughputSummary;
  /** The client library on its own, doing none of the service's work: the service's ceiling. */
  readonly clientOnly?: ClientRuns;
  /**
   * The same service and the same reference on another client library (@platformatic/kafka), in
   * the same runs: what switching the consumer's client would give.
   */
  readonly otherClient?: { readonly library: string; readonly service: ClientRuns; readonly clientOnly: ClientRuns };
}

/** Runs of one side, their median, and its ratio to the Kafka tool's median. */
export interface ClientRuns {
  readonly name: string;
  readonly runs: readonly ThroughputRun[];
  readonly medianMessagesPerSecond: number;
  readonly ratio: number;
}

export interface LatencyAtRate {
  readonly rate: number;
  readonly runs: readonly LatencyRun[];
  readonly median: Percentiles;
}

export interface LatencyComparison {
  readonly service: readonly LatencyAtRate[];
  readonly kafka: { readonly runs: readonly LatencyRun[]; readonly median: Percentiles };
}

export interface FailoverResult {
  /** The producer service, leader SIGKILLed. */
  readonly runs: readonly FailoverRun[];
  readonly medianSeconds: number;
  /** The same kill under Kafka's own Java producer, interleaved; ratio = service / Java. */
  readonly java?: { readonly runs: readonly FailoverRun[]; readonly medianSeconds: number; readonly ratio: number };
  /** The producer service, leader stopped gracefully (controlled shutdown). */
  readonly graceful?: { readonly runs: readonly FailoverRun[]; readonly medianSeconds: number };
}

export interface SynthResult {
  readonly projectSeconds: readonly number[];
  readonly bareSeconds: readonly number[];
  readonly medianProjectSeconds: number;
  readonly medianBareSeconds: number;
  readonly ratio: number;
}

export interface TargetResult {
  readonly name: string;
  readonly target: string;
  readonly actual: string;
  readonly met: boolean;
}

/** The targets of the performance work, judged on the medians. */
export function judgeTargets(r: Omit<BenchResults, 'targets'>): TargetResult[] {
  const out: TargetResult[] = [];
  const x = (v: number) => `${v.toFixed(2)}x`;
  if (r.producer) out.push({ name: 'producer vs ProducerPerformance', target: '>= 0.90x', actual: x(r.producer.median.ratio), met: r.producer.median.ratio >= 0.9 });
  if (r.consumer) out.push({ name: 'consumer vs ConsumerPerformance', target: '>= 0.80x', actual: x(r.consumer.median.ratio), met: r.consumer.median.ratio >= 0.8 });
  // The service's own work: the same client at the same fetch sizes, doing nothing but count.
  const clientOnly = r.consumer?.clientOnly;
  if (r.consumer && clientOnly) {
    const ratio = r.consumer.median.serviceMessagesPerSecond / clientOnly.medianMessagesPerSecond;
    out.push({ name: 'consumer vs kafkajs alone', target: '>= 0.80x', actual: x(ratio), met: ratio >= 0.8 });
  }
  const other = r.consumer?.otherClient;
  if (r.consumer && other) {
    const ratio = other.service.medianMessagesPerSecond / r.consumer.median.serviceMessagesPerSecond;
    // The rule for switching the consumer's client: this much faster, and equal chaos results (docs/services.md).
    out.push({ name: `consumer service on ${other.library} vs on kafkajs (switch at >= 1.30x, chaos results equal)`, target: '>= 1.30x', actual: x(ratio), met: ratio >= 1.3 });
    const own = other.service.medianMessagesPerSecond / other.clientOnly.medianMessagesPerSecond;
    out.push({ name: `consumer on ${other.library} vs ${other.library} alone`, target: '>= 0.80x', actual: x(own), met: own >= 0.8 });
  }
  const defaultTracing = r.tracing?.settings.find((s) => s.name === 'default');
  if (defaultTracing) {
    const pct = defaultTracing.consumerCost * 100;
    out.push({ name: 'consumer throughput lost to tracing at the default sampling', target: '<= 5 %', actual: `${pct.toFixed(1)} %`, met: pct <= 5 });
  }
  // Relative to Kafka's own EndToEndLatency in the same run: the machine's floor moves from run to run.
  const at1000 = r.latency?.service.find((s) => s.rate === 1000);
  if (at1000 && r.latency) {
    const ratio = at1000.median.p99 / Math.max(1, r.latency.kafka.median.p99);
    out.push({ name: 'p99 end-to-end at 1,000 msg/s vs EndToEndLatency', target: '<= 1.50x', actual: `${x(ratio)} (${at1000.median.p99} vs ${r.latency.kafka.median.p99} ms)`, met: ratio <= 1.5 });
  }
  if (r.failover) out.push({ name: 'resume after leader SIGKILL', target: '<= 10 s', actual: `${r.failover.medianSeconds.toFixed(1)} s`, met: r.failover.medianSeconds <= 10 });
  if (r.failover?.java) out.push({ name: 'resume after leader SIGKILL vs the Java producer', target: '<= 1.10x', actual: `${x(r.failover.java.ratio)} (${r.failover.medianSeconds.toFixed(1)} vs ${r.failover.java.medianSeconds.toFixed(1)} s)`, met: r.failover.java.ratio <= 1.1 });
  if (r.failover?.graceful) out.push({ name: 'resume after a graceful broker stop', target: '<= 1 s', actual: `${r.failover.graceful.medianSeconds.toFixed(2)} s`, met: r.failover.graceful.medianSeconds <= 1 });
  if (r.synth) out.push({ name: 'cdktf synth vs bare app', target: '<= 1.50x', actual: x(r.synth.ratio), met: r.synth.ratio <= 1.5 });
  return out;
}
