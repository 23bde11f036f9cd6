/**
 * Compares settings of the services, interleaved and repeated like the bench, to choose their
 * defaults on your hardware (docs/services.md, "Tuning"):
 *
 *   npx tsx bench/tune.ts producer [--runs 5] [--messages 50000] "LINGER_MS=0" "LINGER_MS=5" ...
 *   npx tsx bench/tune.ts consumer [--runs 5] [--messages 50000] "PARTITIONS_CONSUMED_CONCURRENTLY=1" ...
 *   npx tsx bench/tune.ts latency  [--runs 5] [--rate 1000] "PRODUCER_SESSIONS=1" "PRODUCER_SESSIONS=6" ...
 *
 * Each quoted argument is one variant: space-separated NAME=VALUE settings of the service
 * (for latency, of both services; each ignores the other's). It runs on the bench's cluster,
 * which it starts if needed and leaves running (`npm run bench` deletes it at its end).
 */
import { benchAdmin, benchCluster } from './cluster';
import { serviceLatency } from './latency';
import { messageShape } from './payload';
import { median } from './stats';
import { BenchContext, consumeWithService, freshTopic, produceWithService } from './throughput';

type Kind = 'producer' | 'consumer' | 'latency';

function settings(variant: string): Record<string, string> {
  return Object.fromEntries(
    variant
      .split(/\s+/)
      .filter((kv) => kv !== '')
      .map((kv) => {
        const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(kv);
        if (!m) throw new Error(`"${kv}" is not NAME=VALUE`);
        return [m[1], m[2]];
      }),
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const kind = args[0] as Kind;
  if (!['producer', 'consumer', 'latency'].includes(kind)) throw new Error('usage: npx tsx bench/tune.ts producer|consumer|latency [--runs N] [--messages N] [--rate N] "NAME=VALUE ..." ...');
  const option = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const runs = option('--runs', 5);
  const messages = option('--messages', 50_000);
  const rate = option('--rate', 1000);
  const variants = args.slice(1).filter((a, i, all) => !a.startsWith('--') && !(i > 0 && all[i - 1].startsWith('--')));
  if (variants.length === 0) throw new Error('give at least one variant, e.g. "LINGER_MS=0"');

  await benchCluster.up({ log: (l) => console.log(l) });
  const admin = benchAdmin();
  await admin.connect();
  const runId = `tune-${Date.now().toString(36)}`;
  const ctx: BenchContext = { admin, bootstrapServers: benchCluster.bootstrapServers(), shape: messageShape(`${runId}-produce-svc-1`), runId, log: console.log };
  const results = new Map<string, number[][]>(variants.map((v) => [v, []]));
  try {
    const filled = kind === 'consumer' ? await freshTopic(ctx, 'fill') : undefined;
    if (filled) await produceWithService(ctx, filled, messages);
    for (let i = 1; i <= runs; i++) {
      // Rotate the order each run, so a trend in the machine's load hits every variant alike.
      const order = variants.map((_, j) => variants[(j + i) % variants.length]);
      for (const v of order) {
        let figures: number[];
        if (kind === 'producer') {
          const topic = await freshTopic(ctx, `p${i}-${Date.now().toString(36)}`);
          figures = [(await produceWithService(ctx, topic, messages, settings(v))).messagesPerSecond];
          await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
        } else if (kind === 'consumer') {
          figures = [(await consumeWithService(ctx, filled!, messages, settings(v))).messagesPerSecond];
        } else {
          const r = await serviceLatency(ctx, rate, 8, settings(v), 2);
          figures = [r.p50, r.p99, r.p999];
        }
        results.get(v)!.push(figures);
        console.log(`run ${i}/${runs} ${v}: ${figures.map((f) => Math.round(f)).join(' / ')}`);
      }
    }
    if (filled) await admin.deleteTopics({ topics: [filled, `${filled}.dlq`] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  const header = kind === 'latency' ? `median p50 / p99 / p99.9 ms at ${rate} msg/s` : 'median msg/s';
  console.log(`\n${header}:`);
  for (const [v, rs] of results) console.log(`  ${rs[0].map((_, k) => Math.round(median(rs.map((r) => r[k])))).join(' / ').padEnd(20)} ${v}`);
}

main().catch((err: Error) => {
  console.error(`tune failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
