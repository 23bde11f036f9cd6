import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { COLOURS } from '../../bench/report/chart';
import { writeReport } from '../../bench/report/write';
import { consumerRuntimeFrom } from '../../bench/latency';
import { createMetrics } from '../../services/shared';
import { BenchResults, judgeTargets } from '../../bench/results';
import { median, percentiles } from '../../bench/stats';

/** What `npm run bench` would produce, with made-up numbers: the reporting runs on it without Kafka. */
function syntheticResults(): BenchResults {
  const run = (mps: number) => ({ messages: 50_000, seconds: 50_000 / mps, messagesPerSecond: mps, mibPerSecond: (mps * 1024) / 1048576 });
  const lat = (p50: number, p99: number, p999: number) => ({ samples: 10_000, p50, p99, p999 });
  // The producer's share is a few ms; the rest is the request, replication, fetch and processing.
  const split = (p50: number, p99: number, p999: number) => ({
    ...lat(p50, p99, p999),
    breakdown: { producer: { p50: 2, p99: p99 - 15, p999: p999 - 20 }, afterProducer: { p50: p50 - 2, p99: 15, p999: 20 } },
    consumerRuntime: { eventLoopLagP99Ms: p99 / 2, eventLoopLagMaxMs: p999, gcShare: 0.031 },
    kafkajsAlone: { p50: p50 - 3, p99: p99 - 10, p999: p999 - 12 },
  });
  const base: Omit<BenchResults, 'targets'> = {
    startedAt: '2025-01-31T12:00:00.000Z',
    durationSeconds: 540,
    machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 24, os: 'Linux 6.1', loadAverage: { start: 3.5, end: 4.25 }, node: 'v24.21.0', java: 'openjdk version "17.0.15"', kafka: '4.3.1', kafkajs: '2.2.4' },
    settings: {
      runs: 3,
      throughputMessages: 50_000,
      messageBytes: 1024,
      partitions: 6,
      replicationFactor: 3,
      minInsyncReplicas: 2,
      latencyRates: [1000, 5000],
      latencySeconds: 10,
      latencyWarmupSeconds: 3,
      kafkaLatencyMessages: 2000,
      failoverRate: 2000,
      guarantees: 'acks=all, idempotent producer, gzip',
    },
    producer: {
      kafkaTool: 'ProducerPerformance',
      service: [run(9000), run(9500), run(9300)],
      kafka: [run(10_000), run(9800), run(10_200)],
      median: { serviceMessagesPerSecond: 9300, serviceMibPerSecond: 9.08, kafkaMessagesPerSecond: 10_000, kafkaMibPerSecond: 9.77, ratio: 0.93 },
    },
    consumer: {
      kafkaTool: 'ConsumerPerformance',
      service: [run(15_000), run(16_000), run(14_000)],
      kafka: [run(20_000), run(21_000), run(19_000)],
      median: { serviceMessagesPerSecond: 15_000, serviceMibPerSecond: 14.65, kafkaMessagesPerSecond: 20_000, kafkaMibPerSecond: 19.53, ratio: 0.75 },
      clientOnly: { name: 'kafkajs alone, counting only', runs: [run(18_000), run(17_000), run(18_500)], medianMessagesPerSecond: 18_000, ratio: 0.9 },
      otherClient: {
        library: '@platformatic/kafka',
        service: { name: 'consumer service on @platformatic/kafka 2.12.1', runs: [run(21_000), run(19_000), run(22_000)], medianMessagesPerSecond: 21_000, ratio: 1.05 },
        clientOnly: { name: '@platformatic/kafka alone, counting only', runs: [run(30_000), run(28_000), run(31_000)], medianMessagesPerSecond: 30_000, ratio: 1.5 },
      },
    },
    latency: {
      service: [
        { rate: 1000, runs: [split(8, 22, 40), split(9, 24, 45), split(7, 20, 38)], median: { p50: 8, p99: 22, p999: 40 } },
        { rate: 5000, runs: [lat(12, 60, 150), lat(11, 55, 140), lat(13, 70, 160)], median: { p50: 12, p99: 60, p999: 150 } },
      ],
      kafka: { runs: [lat(3, 9, 30), lat(3, 10, 35), lat(4, 11, 33)], median: { p50: 3, p99: 10, p999: 33 } },
    },
    failover: {
      runs: [
        { client: 'service', stop: 'kill', killedNode: 1, activeController: 2, partitions: [0, 3], resumeSeconds: 9.4, otherPartitionsResumeSeconds: 8.9 },
        { client: 'service', stop: 'kill', killedNode: 2, activeController: 3, partitions: [0, 4], resumeSeconds: 11.2, otherPartitionsResumeSeconds: 10.8 },
        { client: 'service', stop: 'kill', killedNode: 3, activeController: 1, partitions: [0, 5], resumeSeconds: 9.9, otherPartitionsResumeSeconds: 9.5 },
      ],
      medianSeconds: 9.9,
      java: {
        runs: [
          { client: 'java', stop: 'kill', killedNode: 1, activeController: 2, partitions: [0, 3], resumeSeconds: 9.0, otherPartitionsResumeSeconds: 8.8 },
          { client: 'java', stop: 'kill', killedNode: 2, activeController: 3, partitions: [0, 4], resumeSeconds: 9.5, otherPartitionsResumeSeconds: 9.2 },
        ],
        medianSeconds: 9.25,
        ratio: 9.9 / 9.25,
      },
      graceful: {
        runs: [{ client: 'service', stop: 'graceful', killedNode: 2, activeController: 1, partitions: [1], resumeSeconds: 0.4, otherPartitionsResumeSeconds: 0.1 }],
        medianSeconds: 0.4,
      },
    },
    tracing: {
      backend: 'Jaeger v2.13.0 (in memory), OTLP/HTTP on 127.0.0.1',
      settings: [
        // Whole-run rates below the steady ones (the start's warm-up): the tracing table shows the steady rate.
        { name: 'off', label: 'tracing off', producer: [run(10_000)], consumer: [{ ...run(18_000), steadyMessagesPerSecond: 20_000 }], medianProducerMessagesPerSecond: 10_000, medianConsumerMessagesPerSecond: 20_000, producerCost: 0, consumerCost: 0 },
        { name: 'default', label: 'default sampling (10 %)', ratio: 0.1, producer: [run(9700)], consumer: [{ ...run(17_000), steadyMessagesPerSecond: 19_400 }], medianProducerMessagesPerSecond: 9700, medianConsumerMessagesPerSecond: 19_400, producerCost: 0.03, consumerCost: 0.03 },
        { name: 'all', label: 'every trace (100 %)', ratio: 1, producer: [run(8000)], consumer: [run(16_000)], medianProducerMessagesPerSecond: 8000, medianConsumerMessagesPerSecond: 16_000, producerCost: 0.2, consumerCost: 0.2 },
      ],
      propagationOnly: { consumer: [run(19_800)], medianConsumerMessagesPerSecond: 19_800, consumerCost: 0.01 },
    },
    synth: { projectSeconds: [12, 13, 12.5], bareSeconds: [8, 8.5, 9], medianProjectSeconds: 12.5, medianBareSeconds: 8.5, ratio: 12.5 / 8.5 },
    npmTest: { source: '.cache/jest-results.json', wallSeconds: 1260, tests: 612, failed: 0, finishedAt: '2025-01-31T11:00:00.000Z' },
  };
  return { ...base, targets: judgeTargets(base) };
}

/** The PNG decoded by pngjs (strict: it checks every chunk's CRC), as RGBA pixels. */
function decodePng(file: string): { width: number; height: number; colours: Map<string, number> } {
  const png = PNG.sync.read(fs.readFileSync(file));
  const colours = new Map<string, number>();
  for (let i = 0; i < png.data.length; i += 4) {
    const key = `${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`;
    colours.set(key, (colours.get(key) ?? 0) + 1);
  }
  return { width: png.width, height: png.height, colours };
}

/** The texts of an SVG's <text> elements and their <tspan> lines. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<(?:text|tspan)\b[^>]*>([^<]+)</g)].map((m) => m[1].replace(/&amp;/g, '&'));
}

/** `#rrggbb` as the `r,g,b` key decodePng counts. */
const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(',');

describe('bench reporting', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('targets are judged on the medians, each met or not', () => {
    const r = syntheticResults();
    expect(r.targets.map((t) => [t.name, t.actual, t.met])).toEqual([
      ['producer vs ProducerPerformance', '0.93x', true],
      ['consumer vs ConsumerPerformance', '0.75x', false],
      // 15,000 of kafkajs alone's 18,000.
      ['consumer vs kafkajs alone', '0.83x', true],
      // 21,000 on the other client against 15,000 on kafkajs; of its own 30,000 alone.
      ['consumer service on @platformatic/kafka vs on kafkajs (switch at >= 1.30x, chaos results equal)', '1.40x', true],
      ['consumer on @platformatic/kafka vs @platformatic/kafka alone', '0.70x', false],
      // 19,400 of 20,000 with tracing off.
      ['consumer throughput lost to tracing at the default sampling', '3.0 %', true],
      // 22 ms against EndToEndLatency's 10 ms in the same run.
      ['p99 end-to-end at 1,000 msg/s vs EndToEndLatency', '2.20x (22 vs 10 ms)', false],
      ['resume after leader SIGKILL', '9.9 s', true],
      ['resume after leader SIGKILL vs the Java producer', '1.07x (9.9 vs 9.3 s)', true],
      ['resume after a graceful broker stop', '0.40 s', true],
      ['cdktf synth vs bare app', '1.47x', true],
    ]);
  });

  test('writes the JSON, a markdown table quoting every ratio, percentile and the machine, and a PNG it links', () => {
    const results = syntheticResults();
    const written = writeReport(results, dir);
    expect(JSON.parse(fs.readFileSync(written.json, 'utf8'))).toEqual(results);

    const md = fs.readFileSync(written.markdown, 'utf8');
    expect(md).toContain('![throughput ratios and latency percentiles](latest.png)');
    expect(md).toContain('2 x Test CPU, 24 GiB, Linux 6.1; load average 3.5 at the start, 4.3 at the end');
    expect(md).toContain('| producer service | 9,300 | 9.08 | **0.93x** | 9,000 / 9,500 / 9,300 |');
    expect(md).toContain('| ConsumerPerformance | 20,000 | 19.53 | 1.00x | 20,000 / 21,000 / 19,000 |');
    expect(md).toContain('| kafkajs alone, counting only (reference) | 18,000 | | 0.90x | 18,000 / 17,000 / 18,500 |');
    expect(md).toContain('| consumer service on @platformatic/kafka 2.12.1 | 21,000 | | 1.05x | 21,000 / 19,000 / 22,000 |');
    expect(md).toContain('| @platformatic/kafka alone, counting only (reference) | 30,000 | | 1.50x | 30,000 / 28,000 / 31,000 |');
    expect(md).toContain('Per partition, with one service instance serving all 6: producer 1.51 MiB/s, consumer 2.44 MiB/s');
    expect(md).toContain('| producer -> consumer service | 1,000 msg/s | 8 | 22 | 40 | 2.67x / 2.20x / 1.21x | 22 / 24 / 20 |');
    expect(md).toContain('| producer -> consumer service | 5,000 msg/s | 12 | 60 | 150 |');
    expect(md).toContain('| EndToEndLatency | one at a time | 3 | 10 | 33 |');
    // Only the rate whose runs carry the split gets a row: medians of 2 and 7/9/5, of 6/7/5 and 15.
    expect(md).toContain('| producer -> consumer service | 1,000 msg/s | 2 / 7 | 6 / 15 |');
    expect(md).not.toContain('| producer -> consumer service | 5,000 msg/s | 2 /');
    // The same records through kafkajs alone: medians of 5/6/4, 12/14/10, 28/33/26, beside the service's medians.
    expect(md).toContain('| producer service -> | 1,000 msg/s | 5 / 12 / 28 | 8 / 22 / 40 |');
    expect(md).toContain('| consumer vs ConsumerPerformance | >= 0.80x | 0.75x | **no** |');
    expect(md).toContain('| producer service | SIGKILL | 2 | 2 | 3 | 0, 4 | 11.2 s | 10.8 s |');
    expect(md).toContain('| producer service | SIGKILL | **median** | | | | **9.9 s** | 9.5 s |');
    expect(md).toContain('| VerifiableProducer | SIGKILL | **median** | | | | **9.3 s** | 9.0 s |');
    expect(md).toContain('| producer service | graceful | 1 | 2 | 1 | 1 | 0.4 s | 0.1 s |');
    expect(md).toContain('Service / Java producer, SIGKILL: **1.07x**.');
    expect(md).toContain('| ratio | **1.47x** | |');
    expect(md).toContain('| default sampling (10 %) | 9,700 | 3.0 % | 19,400 | **3.0 %** | 9,700 | 19,400 |');
    expect(md).toContain('| tracing off | 10,000 |  | 20,000 |  | 10,000 | 20,000 |');
    expect(md).toMatch(/\| consumer service \| 1,000 msg\/s \| [0-9.]+ ms \| [0-9.]+ ms \| 3\.1 % of its time \|/);
    expect(md).toContain('| tracing off, on the records written at the default sampling (their headers alone) | | | 19,800 | 1.0 % | | 19,800 |');
    expect(md).toContain('21.0 min wall time for 612 tests (0 failed), read from the last recorded run');

    // The chart: Vega's SVG with every figure as text, and resvg's PNG of it at the SVG's size.
    const svg = fs.readFileSync(written.svg, 'utf8');
    const texts = svgTexts(svg);
    expect(texts).toEqual(expect.arrayContaining(['Kafka platform bench', 'targets met: 8 of 11', '0.93×', '0.75×', 'target 0.9', 'target 0.8', 'producer', 'consumer']));
    expect(texts).toEqual(expect.arrayContaining(['service 1,000/s', 'service 5,000/s', 'EndToEndLatency', 'p50', 'p99', 'p99.9', '22', '150', '33']));
    const [, svgWidth, svgHeight] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
    const png = decodePng(written.png);
    expect({ width: png.width, height: png.height }).toEqual({ width: svgWidth, height: svgHeight });
    expect(png.width).toBeGreaterThan(900);
    // Bars in the service colour, the three percentile shades, red target lines and dark text all drawn.
    expect(png.colours.get(rgb(COLOURS.service))).toBeGreaterThan(5000);
    expect(png.colours.get(rgb(COLOURS.percentiles[0]))).toBeGreaterThan(500);
    expect(png.colours.get(rgb(COLOURS.percentiles[2]))).toBeGreaterThan(500);
    expect(png.colours.get(rgb(COLOURS.target))).toBeGreaterThan(200);
    expect(png.colours.get(rgb(COLOURS.ink))).toBeGreaterThan(200);
  });

  test('a partial run (one section) still renders, with the missing panels marked', () => {
    const full = syntheticResults();
    const base = { ...full, producer: undefined, consumer: undefined, latency: undefined, failover: undefined, npmTest: undefined };
    const written = writeReport({ ...base, targets: judgeTargets(base) }, dir);
    const md = fs.readFileSync(written.markdown, 'utf8');
    expect(md).not.toContain('## Throughput');
    expect(md).toContain('Not recorded in this tree');
    expect(svgTexts(fs.readFileSync(written.svg, 'utf8')).filter((t) => t === 'not run')).toHaveLength(2);
    expect(decodePng(written.png).width).toBeGreaterThan(900);
  });

  test('text is set in DejaVu Sans, whose glyphs resvg draws from the npm package (no system fonts)', () => {
    const written = writeReport(syntheticResults(), dir);
    const svg = fs.readFileSync(written.svg, 'utf8');
    expect(svg).toMatch(/font-family="DejaVu Sans"/);
    // Text drawn: the title's dark ink is there even though the renderer loads no system font.
    expect(decodePng(written.png).colours.get(rgb(COLOURS.ink))).toBeGreaterThan(200);
  });

  test('medians and percentiles follow the rules the table states', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const values = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    // EndToEndLatency's rule: the element at floor(n * q) of the sorted values.
    expect(percentiles(values)).toEqual({ p50: 501, p99: 991, p999: 1000 });
  });
});

describe('consumerRuntimeFrom', () => {
  // The lines prom-client's default metrics write, as the consumer serves them: every series with its service label.
  const page = [
    '# HELP nodejs_eventloop_lag_p99_seconds The 99th percentile of the recorded event loop delays.',
    '# TYPE nodejs_eventloop_lag_p99_seconds gauge',
    'nodejs_eventloop_lag_p99_seconds{service="consumer"} 0.012337151',
    'nodejs_eventloop_lag_max_seconds{service="consumer"} 0.048758783',
    'nodejs_gc_duration_seconds_sum{service="consumer",kind="minor"} 0.6',
    'nodejs_gc_duration_seconds_sum{service="consumer",kind="major"} 0.3',
    'nodejs_gc_duration_seconds_count{service="consumer",kind="major"} 4',
  ].join('\n');

  it("reads the consumer's own registry, whose series carry the service label", async () => {
    const metrics = createMetrics('consumer');
    // prom-client's event loop histogram has samples only after its first resolution interval.
    await new Promise((r) => setTimeout(r, 100));
    const r = consumerRuntimeFrom(await metrics.registry.metrics(), 1);
    expect(r).toBeDefined();
    expect(r!.eventLoopLagP99Ms).toBeGreaterThan(0);
    expect(r!.eventLoopLagMaxMs).toBeGreaterThanOrEqual(r!.eventLoopLagP99Ms);
  });

  it('reads the event loop lag in ms and the GC share of the lifetime, every kind of pause summed', () => {
    const r = consumerRuntimeFrom(page, 30)!;
    expect(r.eventLoopLagP99Ms).toBeCloseTo(12.337, 3);
    expect(r.eventLoopLagMaxMs).toBeCloseTo(48.759, 3);
    expect(r.gcShare).toBeCloseTo(0.03, 6);
  });

  it('gives nothing when the lag metrics are missing (another exporter, or none)', () => {
    expect(consumerRuntimeFrom('nodejs_gc_duration_seconds_sum{kind="minor"} 0.6', 30)).toBeUndefined();
  });
});
