/**
 * `npm run bench`: the platform's producer and consumer services side by side with Kafka's own
 * perf tools on a three-node cluster of the bench's own, plus a partition leader's SIGKILL,
 * `cdktf synth` against a bare app and the last recorded `npm test` time. Each figure is the
 * median of --runs runs, the two sides interleaved so the ratios hold on a busy machine.
 *
 *   npm run bench                                  # everything, results in bench/results/
 *   npm run bench -- --only producer,consumer      # some sections, results in .cache/bench/results/
 *   npm run bench -- --only tracing                # what tracing costs the services (off, default sampling, 100 %)
 *   npm run bench -- --runs 5 --messages 500000
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { versions } from '../config';
import { javaBinary } from '../tools/kafka-tool';
import { CACHE_DIR, PROJECT_ROOT } from '../tools/paths';
import { formatDuration } from '../tools/progress';
import { POSTS_LIKE, benchAdmin, benchCluster } from './cluster';
import { FailoverClient, FailoverRun, FailoverStop, leaderStopResume } from './failover';
import { LatencyRun, kafkaToolLatency, serviceLatency } from './latency';
import { messageShape, writePayloadFile } from './payload';
import { writeReport } from './report/write';
import { BenchResults, ClientRuns, FailoverResult, LatencyComparison, MachineInfo, SynthResult, ThroughputComparison, judgeTargets } from './results';
import { SERVICE_LOG_DIR } from './service-process';
import { median, medianPercentiles } from './stats';
import { timeSynth, toolchainEnv, writeBareApp } from './synth';
import { lastTestRun } from './test-time';
import { BenchContext, ThroughputRun, consumeWithKafkaTool, consumeWithClientOnly, consumeWithService, freshTopic, produceWithKafkaTool, produceWithService } from './throughput';
import { tracingSection } from './tracing';

const SECTIONS = ['producer', 'consumer', 'tracing', 'latency', 'failover', 'synth'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  readonly runs: number;
  readonly messages: number;
  readonly only: readonly Section[];
  readonly keepCluster: boolean;
  readonly outDir: string;
}

const LATENCY_RATES = [1000, 5000];
const LATENCY_SECONDS = 10;
/** Steady state is what is measured: see serviceLatency. */
const LATENCY_WARMUP_SECONDS = 3;
const KAFKA_LATENCY_MESSAGES = 2000;
const FAILOVER_RATE = 2000;
const SCRATCH = path.join(CACHE_DIR, 'bench');

function parseArgs(argv: readonly string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, fallback: number, min: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} ${raw} is invalid: expected an integer >= ${min}`);
    return Number(raw);
  };
  const onlyRaw = value('--only');
  const only = onlyRaw === undefined ? [...SECTIONS] : onlyRaw.split(',').map((s) => s.trim());
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`--only ${onlyRaw} is invalid: expected a comma-separated list of ${SECTIONS.join(', ')}`);
  return {
    runs: int('--runs', 3, 1),
    messages: int('--messages', 200_000, 1000),
    only: only as Section[],
    keepCluster: argv.includes('--keep-cluster'),
    // A partial run must not replace the committed table.
    outDir: value('--out') ?? (onlyRaw === undefined ? path.join(PROJECT_ROOT, 'bench', 'results') : path.join(SCRATCH, 'results')),
  };
}

const started = Date.now();
const log = (line: string) => console.log(`[${formatDuration(Date.now() - started).padStart(6)}] ${line}`);
const rate = (r: ThroughputRun) =>
  `${Math.round(r.messagesPerSecond).toLocaleString('en-US')} msg/s, ${r.mibPerSecond.toFixed(2)} MiB/s${r.steadyMessagesPerSecond === undefined ? '' : ` (steady ${Math.round(r.steadyMessagesPerSecond).toLocaleString('en-US')} msg/s)`}`;

/** Runs `a` and `b` `runs` times, alternating which goes first so drift in the machine's load hits both. */
async function interleaved<A, B>(runs: number, a: (i: number) => Promise<A>, b: (i: number) => Promise<B>): Promise<{ a: A[]; b: B[] }> {
  const out = { a: [] as A[], b: [] as B[] };
  for (let i = 1; i <= runs; i++) {
    if (i % 2 === 1) {
      out.a.push(await a(i));
      out.b.push(await b(i));
    } else {
      out.b.push(await b(i));
      out.a.push(await a(i));
    }
  }
  return out;
}

function compare(kafkaTool: string, service: ThroughputRun[], kafka: ThroughputRun[]): ThroughputComparison {
  const s = median(service.map((r) => r.messagesPerSecond));
  const k = median(kafka.map((r) => r.messagesPerSecond));
  return {
    kafkaTool,
    service,
    kafka,
    median: {
      serviceMessagesPerSecond: s,
      serviceMibPerSecond: median(service.map((r) => r.mibPerSecond)),
      kafkaMessagesPerSecond: k,
      kafkaMibPerSecond: median(kafka.map((r) => r.mibPerSecond)),
      ratio: s / k,
    },
  };
}

/**
 * Traffic through a freshly started cluster before anything is measured: three brokers whose
 * JVMs have not compiled their request paths yet made the first runs of every section slower
 * (bench/: ProducerPerformance 17,150 msg/s in run 1, 26,000-42,000 after; p99 at 1,000 msg/s
 * 250 ms in run 1, 31-116 ms after). Production brokers run for weeks; that is what is compared.
 */
async function warmUp(ctx: BenchContext, o: Options): Promise<void> {
  const topic = await freshTopic(ctx, 'warm-up');
  log(`warming the cluster up, not measured: ${o.messages.toLocaleString('en-US')} messages through the producer and consumer services`);
  await produceWithService(ctx, topic, o.messages);
  await consumeWithService(ctx, topic, o.messages);
  await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
}

async function producerSection(ctx: BenchContext, o: Options, payloadFile: string): Promise<ThroughputComparison> {
  const { a, b } = await interleaved(
    o.runs,
    async (i) => {
      const topic = await freshTopic(ctx, `produce-svc-${i}`);
      const r = await produceWithService(ctx, topic, o.messages);
      log(`producer run ${i}/${o.runs}: service ${rate(r)}`);
      await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
      return r;
    },
    async (i) => {
      const topic = await freshTopic(ctx, `produce-perf-${i}`);
      const r = await produceWithKafkaTool(ctx, topic, o.messages, payloadFile);
      log(`producer run ${i}/${o.runs}: ProducerPerformance ${rate(r)}`);
      await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
      return r;
    },
  );
  return compare('ProducerPerformance', a, b);
}

async function consumerSection(ctx: BenchContext, o: Options): Promise<ThroughputComparison> {
  const topic = await freshTopic(ctx, 'consume');
  log(`consumer: filling ${topic} with ${o.messages.toLocaleString('en-US')} messages (producer service)`);
  await produceWithService(ctx, topic, o.messages);
  const kafkajsOnly: ThroughputRun[] = [];
  const otherService: ThroughputRun[] = [];
  const otherOnly: ThroughputRun[] = [];
  const { a, b } = await interleaved(
    o.runs,
    async (i) => {
      const r = await consumeWithService(ctx, topic, o.messages);
      log(`consumer run ${i}/${o.runs}: service ${rate(r)}`);
      // Right after the service, so both see the same load.
      const k = await consumeWithClientOnly(ctx, topic, o.messages);
      log(`consumer run ${i}/${o.runs}: kafkajs alone (reference) ${rate(k)}`);
      kafkajsOnly.push(k);
      // The same two on @platformatic/kafka, the client measured beside kafkajs (docs/services.md).
      const p = await consumeWithService(ctx, topic, o.messages, { KAFKA_CONSUMER_CLIENT: 'platformatic' });
      log(`consumer run ${i}/${o.runs}: service on @platformatic/kafka ${rate(p)}`);
      otherService.push(p);
      const q = await consumeWithClientOnly(ctx, topic, o.messages, 'platformatic');
      log(`consumer run ${i}/${o.runs}: @platformatic/kafka alone (reference) ${rate(q)}`);
      otherOnly.push(q);
      return r;
    },
    async (i) => {
      const r = await consumeWithKafkaTool(ctx, topic, o.messages);
      log(`consumer run ${i}/${o.runs}: ConsumerPerformance ${rate(r)}`);
      return r;
    },
  );
  await ctx.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] });
  const c = compare('ConsumerPerformance', a, b);
  const side = (name: string, runs: ThroughputRun[]): ClientRuns => {
    const m = median(runs.map((r) => r.messagesPerSecond));
    return { name, runs, medianMessagesPerSecond: m, ratio: m / c.median.kafkaMessagesPerSecond };
  };
  return {
    ...c,
    clientOnly: side('kafkajs alone, counting only', kafkajsOnly),
    otherClient: {
      library: '@platformatic/kafka',
      service: side(`consumer service on @platformatic/kafka ${installedVersion('@platformatic/kafka')}`, otherService),
      clientOnly: side('@platformatic/kafka alone, counting only', otherOnly),
    },
  };
}

async function latencySection(ctx: BenchContext, o: Options): Promise<LatencyComparison> {
  const pct = (r: LatencyRun) => `p50 ${r.p50} ms, p99 ${r.p99} ms, p99.9 ${r.p999} ms (${r.samples.toLocaleString('en-US')} messages)`;
  const { a, b } = await interleaved(
    o.runs,
    async (i) => {
      const perRate: LatencyRun[] = [];
      for (const r of LATENCY_RATES) {
        const run = await serviceLatency(ctx, r, LATENCY_SECONDS, {}, LATENCY_WARMUP_SECONDS);
        log(`latency run ${i}/${o.runs}: services at ${r} msg/s: ${pct(run)}`);
        perRate.push(run);
      }
      return perRate;
    },
    async (i) => {
      const run = await kafkaToolLatency(ctx, KAFKA_LATENCY_MESSAGES, path.join(SCRATCH, 'e2e.properties'));
      log(`latency run ${i}/${o.runs}: EndToEndLatency: ${pct(run)}`);
      return run;
    },
  );
  return {
    service: LATENCY_RATES.map((r, j) => ({ rate: r, runs: a.map((x) => x[j]), median: medianPercentiles(a.map((x) => x[j])) })),
    kafka: { runs: b, median: medianPercentiles(b) },
  };
}

/**
 * The leader SIGKILL under the producer service and under Kafka's own producer, interleaved, then
 * a graceful stop (SIGTERM: what a pod deletion or a rolling restart does) under the service.
 */
async function failoverSection(ctx: BenchContext, o: Options): Promise<FailoverResult> {
  const one = async (i: number, client: FailoverClient, stop: FailoverStop) => {
    const r = await leaderStopResume(ctx, benchCluster, FAILOVER_RATE, client, stop, SCRATCH);
    const who = client === 'service' ? 'producer service' : 'VerifiableProducer';
    log(`failover run ${i}/${o.runs}: ${who}, node ${r.killedNode} (leader of ${r.partitions.join(',')}; active controller ${r.activeController}) ${stop === 'kill' ? 'SIGKILLed' : 'stopped gracefully'}, sends acknowledged again after ${r.resumeSeconds.toFixed(1)} s`);
    return r;
  };
  const { a, b } = await interleaved(o.runs, (i) => one(i, 'service', 'kill'), (i) => one(i, 'java', 'kill'));
  const graceful: FailoverRun[] = [];
  for (let i = 1; i <= o.runs; i++) graceful.push(await one(i, 'service', 'graceful'));
  const medianSeconds = median(a.map((r) => r.resumeSeconds));
  const javaMedianSeconds = median(b.map((r) => r.resumeSeconds));
  return {
    runs: a,
    medianSeconds,
    java: { runs: b, medianSeconds: javaMedianSeconds, ratio: medianSeconds / javaMedianSeconds },
    graceful: { runs: graceful, medianSeconds: median(graceful.map((r) => r.resumeSeconds)) },
  };
}

async function synthSection(o: Options): Promise<SynthResult> {
  const env = toolchainEnv();
  const bareDir = path.join(SCRATCH, 'bare-app');
  writeBareApp(bareDir);
  const { a, b } = await interleaved(
    o.runs,
    async (i) => {
      const t = await timeSynth(PROJECT_ROOT, path.join(SCRATCH, 'synth-project'), env);
      log(`synth run ${i}/${o.runs}: project ${t.toFixed(1)} s`);
      return t;
    },
    async (i) => {
      const t = await timeSynth(bareDir, path.join(SCRATCH, 'synth-bare'), env);
      log(`synth run ${i}/${o.runs}: bare app ${t.toFixed(1)} s`);
      return t;
    },
  );
  return { projectSeconds: a, bareSeconds: b, medianProjectSeconds: median(a), medianBareSeconds: median(b), ratio: median(a) / median(b) };
}

/** The version of an npm package as installed. */
function installedVersion(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

function machineInfo(loadAtStart: number): MachineInfo {
  const java = spawnSync(javaBinary(), ['-version'], { encoding: 'utf8' });
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    node: process.version,
    java: `${java.stderr}${java.stdout}`.split('\n')[0].trim(),
    kafka: versions.kafka.version,
    kafkajs: installedVersion('kafkajs'),
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const loadAtStart = os.loadavg()[0];
  const startedAt = new Date().toISOString();
  fs.mkdirSync(SCRATCH, { recursive: true });
  fs.rmSync(SERVICE_LOG_DIR, { recursive: true, force: true });
  log(`bench: ${o.only.join(', ')}; ${o.runs} runs each; ${o.messages.toLocaleString('en-US')} messages per throughput run; load average ${loadAtStart.toFixed(1)} on ${os.cpus().length} CPUs`);
  const needsKafka = o.only.some((s) => s !== 'synth');
  const partial: { -readonly [K in keyof BenchResults]?: BenchResults[K] } = {};
  let startedCluster = false;
  const runId = `bench-${Date.now().toString(36)}`;
  const shape = messageShape(`${runId}-produce-svc-1`);
  try {
    if (needsKafka) {
      log(`starting the bench's own Kafka cluster (${benchCluster.bootstrapServers()}, ${benchCluster.spec.dir})`);
      const up = await benchCluster.up({ log: (l) => log(`  ${l}`) });
      startedCluster = up.startedNodes.length > 0;
      const admin = benchAdmin();
      await admin.connect();
      const ctx: BenchContext = { admin, bootstrapServers: benchCluster.bootstrapServers(), shape, runId, log };
      try {
        const payloadFile = path.join(SCRATCH, 'payload.jsonl');
        writePayloadFile(payloadFile, `${runId}-produce-perf-1`, shape);
        await warmUp(ctx, o);
        if (o.only.includes('producer')) {
          log('== producer service vs ProducerPerformance');
          partial.producer = await producerSection(ctx, o, payloadFile);
        }
        if (o.only.includes('consumer')) {
          log('== consumer service vs ConsumerPerformance');
          partial.consumer = await consumerSection(ctx, o);
        }
        if (o.only.includes('tracing')) {
          log('== what tracing costs the services: off, default sampling, every trace');
          partial.tracing = await tracingSection(ctx, o.runs, o.messages);
        }
        if (o.only.includes('latency')) {
          log(`== end-to-end latency: services at ${LATENCY_RATES.join(' and ')} msg/s vs EndToEndLatency`);
          partial.latency = await latencySection(ctx, o);
        }
        if (o.only.includes('failover')) {
          log(`== partition leader SIGKILL under ${FAILOVER_RATE} msg/s`);
          partial.failover = await failoverSection(ctx, o);
        }
      } finally {
        await admin.disconnect();
      }
    }
    if (o.only.includes('synth')) {
      log('== cdktf synth: the project vs a bare one-resource app');
      partial.synth = await synthSection(o);
    }
  } finally {
    if (needsKafka && !o.keepCluster) {
      log(`stopping and deleting the bench cluster${startedCluster ? '' : ' (it was already running)'}`);
      await benchCluster.down({ purge: true, log: () => undefined });
      // The purge keeps the cluster's TLS material and users; the bench leaves nothing behind.
      fs.rmSync(benchCluster.spec.dir, { recursive: true, force: true });
    }
  }
  const base = {
    ...partial,
    startedAt,
    durationSeconds: (Date.now() - started) / 1000,
    machine: machineInfo(loadAtStart),
    settings: {
      runs: o.runs,
      throughputMessages: o.messages,
      messageBytes: shape.messageBytes,
      partitions: POSTS_LIKE.partitions,
      replicationFactor: POSTS_LIKE.replicationFactor,
      minInsyncReplicas: POSTS_LIKE.minInsyncReplicas,
      latencyRates: LATENCY_RATES,
      latencySeconds: LATENCY_SECONDS,
      latencyWarmupSeconds: LATENCY_WARMUP_SECONDS,
      kafkaLatencyMessages: KAFKA_LATENCY_MESSAGES,
      failoverRate: FAILOVER_RATE,
      guarantees: 'acks=all, idempotent producer, gzip',
    },
    npmTest: lastTestRun(),
  };
  const results: BenchResults = { ...base, targets: judgeTargets(base) };
  const written = writeReport(results, o.outDir);
  console.log('');
  for (const t of results.targets) console.log(`${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.actual} (target ${t.target})`);
  console.log(`\nresults: ${path.relative(process.cwd(), written.markdown)}, ${path.relative(process.cwd(), written.json)}, ${path.relative(process.cwd(), written.png)}`);
}

main().catch((err: Error) => {
  console.error(`bench failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
