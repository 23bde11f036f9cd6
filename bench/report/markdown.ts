import type { FailoverRun } from '../failover';
import type { BenchResults, ClientRuns, ThroughputComparison } from '../results';
import type { LatencyRun } from '../latency';
import type { ThroughputRun } from '../throughput';
import { Percentiles, median, medianPercentiles } from '../stats';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (n: number) => n.toFixed(2);
const s = (n: number) => n.toFixed(1);
const ratio = (n: number) => `${n.toFixed(2)}x`;
const list = (values: readonly number[], f: (n: number) => string) => values.map(f).join(' / ');

function throughputRows(name: string, c: ThroughputComparison): string[] {
  return [
    `| ${name} service | ${int(c.median.serviceMessagesPerSecond)} | ${mib(c.median.serviceMibPerSecond)} | **${ratio(c.median.ratio)}** | ${list(c.service.map((r) => r.messagesPerSecond), int)} |`,
    `| ${c.kafkaTool} | ${int(c.median.kafkaMessagesPerSecond)} | ${mib(c.median.kafkaMibPerSecond)} | 1.00x | ${list(c.kafka.map((r) => r.messagesPerSecond), int)} |`,
    ...(c.clientOnly ? [clientRow(c.clientOnly, ' (reference)')] : []),
    ...(c.otherClient ? [clientRow(c.otherClient.service, ''), clientRow(c.otherClient.clientOnly, ' (reference)')] : []),
  ];
}

function clientRow(c: ClientRuns, suffix: string): string {
  return `| ${c.name}${suffix} | ${int(c.medianMessagesPerSecond)} | | ${ratio(c.ratio)} | ${list(c.runs.map((r) => r.messagesPerSecond), int)} |`;
}

/** The human-readable result table (bench/results/latest.md). */
export function renderMarkdown(r: BenchResults, chartFile = 'latest.png'): string {
  const m = r.machine;
  const st = r.settings;
  const out: string[] = [
    '# Benchmark: platform services vs Kafka\'s own tools',
    '',
    `Measured ${r.startedAt} by \`npm run bench\` in ${s(r.durationSeconds / 60)} min; every figure is the median of ${st.runs} runs, the two sides interleaved (service, Kafka tool, service, ...) so the ratios hold on a busy machine.`,
    '',
    `**Machine**: ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; load average ${m.loadAverage.start.toFixed(1)} at the start, ${m.loadAverage.end.toFixed(1)} at the end. Node.js ${m.node}, ${m.java}, Kafka ${m.kafka}, kafkajs ${m.kafkajs}.`,
    '',
    `**Setup**: a three-node KRaft cluster of the bench's own on 127.0.0.1; topics like \`posts\`: ${st.partitions} partitions, RF ${st.replicationFactor}, min.insync.replicas ${st.minInsyncReplicas}; ${st.guarantees}; messages of the producer service's JSON shape, ${st.messageBytes} bytes (Kafka's tools get a payload file of the same messages). Both sides at their default settings otherwise. Before the first measurement, one run's worth of messages goes through the producer and consumer services, not counted, so the brokers' JVMs are warm as in production.`,
    '',
    `![throughput ratios and latency percentiles](${chartFile})`,
    '',
  ];
  if (r.targets.length > 0) {
    out.push('## Targets', '', '| target | wanted | measured | met |', '| --- | --- | --- | --- |');
    for (const t of r.targets) out.push(`| ${t.name} | ${t.target} | ${t.actual} | ${t.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  if (r.producer || r.consumer) {
    out.push(
      `## Throughput (${int(st.throughputMessages)} messages per run)`,
      '',
      '| side | msg/s | MiB/s | ratio | runs (msg/s) |',
      '| --- | ---: | ---: | ---: | --- |',
    );
    if (r.producer) out.push(...throughputRows('producer', r.producer));
    if (r.consumer) out.push(...throughputRows('consumer', r.consumer));
    const perPartition = [
      r.producer && `producer ${mib(r.producer.median.serviceMibPerSecond / st.partitions)} MiB/s`,
      r.consumer && `consumer ${mib(r.consumer.median.serviceMibPerSecond / st.partitions)} MiB/s`,
    ].filter(Boolean);
    out.push(
      '',
      `Per partition, with one service instance serving all ${st.partitions}: ${perPartition.join(', ')} (the input of \`POSTS_SIZING.perPartitionBytesPerSecond\`, docs/topics.md).`,
      '',
      'Producer: from the service\'s start line (connected) to the last acknowledgement, as its summary reports; ProducerPerformance\'s own records/sec. ' +
        'Consumer: from the service\'s group join until every offset is committed after processing (polled every 50 ms); ConsumerPerformance\'s fetch.nMsg.sec, which also leaves the group join out. kafkajs alone: a kafkajs group member on the same topic, with the service\'s fetch sizes, that only counts what kafkajs hands over (no parsing, no commits), from its join to the last message, run right after each service run as a fresh process started like the service (node with tsx; in the bench\'s own process its code was already compiled by earlier runs): the most the service could reach with this client.',
      '',
    );
  }
  if (r.tracing) {
    const pct = (n: number) => `${(n * 100).toFixed(1)} %`;
    const steadyRate = (x: ThroughputRun) => x.steadyMessagesPerSecond ?? x.messagesPerSecond;
    out.push(
      `## Tracing cost (${int(st.throughputMessages)} messages per run)`,
      '',
      '| setting | producer msg/s | cost | consumer msg/s (steady) | cost | producer runs (msg/s) | consumer runs (steady msg/s) |',
      '| --- | ---: | ---: | ---: | ---: | --- | --- |',
      ...r.tracing.settings.map(
        (t) =>
          `| ${t.label} | ${int(t.medianProducerMessagesPerSecond)} | ${t.name === 'off' ? '' : pct(t.producerCost)} | ${int(t.medianConsumerMessagesPerSecond)} | ${t.name === 'off' ? '' : `**${pct(t.consumerCost)}**`} | ${list(t.producer.map((x) => x.messagesPerSecond), int)} | ${list(t.consumer.map(steadyRate), int)} |`,
      ),
      ...(r.tracing.propagationOnly
        ? [
            `| tracing off, on the records written at the default sampling (their headers alone) | | | ${int(r.tracing.propagationOnly.medianConsumerMessagesPerSecond)} | ${pct(r.tracing.propagationOnly.consumerCost)} | | ${list(r.tracing.propagationOnly.consumer.map(steadyRate), int)} |`,
          ]
        : []),
      '',
      `Each round runs the three settings, starting with a different one each round: the producer service at its defaults fills a fresh topic (its throughput), then fills another in full batches (BATCH_SIZE 1000, LINGER_MS 1000: a slower producer would otherwise leave smaller batches, which cost the consumer more per record), which the consumer service reads; both with the OTel variables workloads-stack sets (config/tracing.ts: the producer parentbased_traceidratio, the consumer parentbased_always_off; off: none set), exporting to ${r.tracing.backend}. The producer writes a traceparent header only on the records whose trace it kept, and the consumer traces exactly those. At the default sampling the records are then read a second time by the consumer with tracing off: what their trace headers alone cost it (kafkajs decodes every header of every record). The consumer's rate is its steady one: from the first poll that found a fifth of the records committed to the last, so the start's warm-up (V8 compiling the hot paths, the exporter's among them) is left out, as a consumer that runs for days leaves it behind. Cost: 1 - median / median with tracing off.`,
      '',
    );
  }
  if (r.latency) {
    const k = r.latency.kafka;
    const vs = (mine: number, theirs: number) => ratio(mine / Math.max(1, theirs));
    out.push('## End-to-end latency (ms)', '', '| side | rate | p50 | p99 | p99.9 | p50 / p99 / p99.9 vs EndToEndLatency | runs (p99) |', '| --- | ---: | ---: | ---: | ---: | --- | --- |');
    for (const l of r.latency.service) {
      out.push(
        `| producer -> consumer service | ${int(l.rate)} msg/s | ${l.median.p50} | ${l.median.p99} | ${l.median.p999} | ${vs(l.median.p50, k.median.p50)} / ${vs(l.median.p99, k.median.p99)} / ${vs(l.median.p999, k.median.p999)} | ${list(l.runs.map((x) => x.p99), String)} |`,
      );
    }
    out.push(`| EndToEndLatency | one at a time | ${k.median.p50} | ${k.median.p99} | ${k.median.p999} | | ${list(k.runs.map((x) => x.p99), String)} |`);
    const split = r.latency.service.filter((l) => l.runs.every((x) => x.breakdown));
    if (split.length > 0) {
      out.push('', '| where the time goes (median of the runs, p50 / p99 ms) | rate | in the producer (createdAt to record timestamp) | after it (request, replication, fetch, processing) |', '| --- | ---: | --- | --- |');
      for (const l of split) {
        const part = (f: (x: LatencyRun) => Percentiles) => { const m = medianPercentiles(l.runs.map(f)); return `${m.p50} / ${m.p99}`; };
        out.push(`| producer -> consumer service | ${int(l.rate)} msg/s | ${part((x) => x.breakdown!.producer)} | ${part((x) => x.breakdown!.afterProducer)} |`);
      }
    }
    const alone = r.latency.service.filter((l) => l.runs.every((x) => x.kafkajsAlone));
    if (alone.length > 0) {
      out.push('', '| the same records read at the same time (median of the runs, p50 / p99 / p99.9 ms) | rate | kafkajs alone (createdAt to handover) | consumer service (createdAt to processed) |', '| --- | ---: | --- | --- |');
      for (const l of alone) {
        const m = medianPercentiles(l.runs.map((x) => x.kafkajsAlone!));
        out.push(`| producer service -> | ${int(l.rate)} msg/s | ${m.p50} / ${m.p99} / ${m.p999} | ${l.median.p50} / ${l.median.p99} / ${l.median.p999} |`);
      }
    }
    const runtime = r.latency.service.filter((l) => l.runs.every((x) => x.consumerRuntime));
    if (runtime.length > 0) {
      out.push('', "| the consumer's event loop and GC (median of the runs) | rate | timer lag p99 | timer lag max | GC pauses |", '| --- | ---: | ---: | ---: | ---: |');
      for (const l of runtime) {
        const m = (f: (x: NonNullable<LatencyRun['consumerRuntime']>) => number) => median(l.runs.map((x) => f(x.consumerRuntime!)));
        out.push(`| consumer service | ${int(l.rate)} msg/s | ${m((x) => x.eventLoopLagP99Ms).toFixed(1)} ms | ${m((x) => x.eventLoopLagMaxMs).toFixed(1)} ms | ${(m((x) => x.gcShare) * 100).toFixed(1)} % of its time |`);
      }
    }
    out.push(
      '',
      `Services: ${st.latencySeconds} s at a fixed rate after ${st.latencyWarmupSeconds} s of warm-up at that rate (sent and consumed, not counted: the first second of a cold process carries kafkajs' unoptimised code and first requests), from each message's createdAt (set by the producer when it is generated) to the end of its processing in the consumer, from the consumer's per-message lines (LOG_LEVEL=debug for this run). ` +
        `EndToEndLatency (${int(st.kafkaLatencyMessages)} messages) sends one message, waits for its acknowledgement and polls it back before the next, so it has no fixed rate; its count includes its own warm-up. Whole milliseconds on both sides; percentiles as EndToEndLatency computes them.`,
      '',
    );
  }
  if (r.failover) {
    out.push(
      '## Leader failover',
      '',
      `Producer service at ${int(st.failoverRate)} msg/s; the leader of the lowest-numbered partition not led by the active KRaft controller is SIGKILLed mid-stream (the bench\'s nodes are combined broker+controller nodes; killing the active controller adds a controller election and a fresh broker session before fencing, 12.2-12.3 s here, a failure production\'s dedicated controllers do not share). Time until sends to every partition it led are acknowledged again (by their new leaders), from the producer's own acknowledgements. ` +
        'With acks=all the other partitions stall too, until the controller fences the dead broker (broker.session.timeout.ms, 9 s by default) and it leaves their in-sync replicas: that is the cluster\'s share of the outage, the rest is the client\'s.',
      '',
      'Kafka\'s own Java producer (VerifiableProducer, keyed records, acks=all, idempotent, gzip, linger.ms=5) takes the same kill at the same rate, interleaved with the service\'s runs; the graceful stop (SIGTERM, a controlled shutdown, as a pod deletion or a rolling restart does) moves the leaders before the broker exits.',
      '',
      '| producer | stop | run | node | active controller | its partitions | resumed after | other partitions resumed after |',
      '| --- | --- | --- | --- | --- | --- | ---: | ---: |',
    );
    const groups: [string, string, readonly FailoverRun[], number][] = [['producer service', 'SIGKILL', r.failover.runs, r.failover.medianSeconds]];
    if (r.failover.java) groups.push(['VerifiableProducer', 'SIGKILL', r.failover.java.runs, r.failover.java.medianSeconds]);
    if (r.failover.graceful) groups.push(['producer service', 'graceful', r.failover.graceful.runs, r.failover.graceful.medianSeconds]);
    for (const [who, stop, runs, med] of groups) {
      out.push(
        ...runs.map((f, i) => `| ${who} | ${stop} | ${i + 1} | ${f.killedNode} | ${f.activeController} | ${f.partitions.join(', ')} | ${s(f.resumeSeconds)} s | ${s(f.otherPartitionsResumeSeconds)} s |`),
        `| ${who} | ${stop} | **median** | | | | **${s(med)} s** | ${s(median(runs.map((f) => f.otherPartitionsResumeSeconds)))} s |`,
      );
    }
    if (r.failover.java) out.push('', `Service / Java producer, SIGKILL: **${ratio(r.failover.java.ratio)}**.`);
    out.push('');
  }
  if (r.synth) {
    out.push(
      '## cdktf synth',
      '',
      '| app | median | runs |',
      '| --- | ---: | --- |',
      `| this project (every stack of \`dev\`) | ${s(r.synth.medianProjectSeconds)} s | ${list(r.synth.projectSeconds, s)} s |`,
      `| bare app, one resource | ${s(r.synth.medianBareSeconds)} s | ${list(r.synth.bareSeconds, s)} s |`,
      `| ratio | **${ratio(r.synth.ratio)}** | |`,
      '',
    );
  }
  out.push('## npm test', '');
  if (r.npmTest) {
    out.push(
      `${s(r.npmTest.wallSeconds / 60)} min wall time for ${r.npmTest.tests} tests (${r.npmTest.failed} failed), read from the last recorded run (\`${r.npmTest.source}\`, written by every whole-suite \`npm test\`, finished ${r.npmTest.finishedAt}); not re-run by the bench.`,
    );
  } else {
    out.push('Not recorded in this tree: every whole-suite `npm test` (and so `bash .ci/run`) records its run (jest\'s JSON results in `.cache/jest-results.json`); the bench reads it rather than running the suite. Run `npm test`, then the bench.');
  }
  out.push('');
  return out.join('\n');
}
