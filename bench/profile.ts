/**
 * CPU profile of one service under load, on the bench's cluster (`--keep-cluster` runs of the
 * bench leave it up; otherwise it is started here and left running for the next profile):
 *
 *   npx tsx bench/profile.ts producer|consumer [--messages 30000] [--env NAME=VALUE ...]
 *
 * Runs the service with `node --cpu-prof`, then prints where its CPU time went: by package
 * (kafkajs, pino, prom-client, the services' own code, Node.js internals, GC, idle) and the
 * functions with the most self time. The .cpuprofile is kept for Chrome DevTools.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CACHE_DIR } from '../tools/paths';
import { benchAdmin, benchCluster } from './cluster';
import { messageShape } from './payload';
import { BenchContext, consumeWithService, freshTopic, produceWithService } from './throughput';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the process a stack frame belongs to. */
function packageOf(url: string, name: string): string {
  if (name === '(garbage collector)' || name === '(idle)' || name === '(program)') return name;
  if (url === '') return '(native / V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(services\/[^/]+\/[^/]+)$/.exec(url);
  return own ? own[1] : url;
}

/** Self time per package and per function, in ms. */
export function summarize(profile: CpuProfile): { total: number; byPackage: [string, number][]; byFunction: [string, number][] } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const pkg = packageOf(url, functionName);
    total += ms;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(services\/)/, '$1')}:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { total, byPackage: sorted(byPackage), byFunction: sorted(byFunction) };
}

function print(profileFile: string): void {
  const { total, byPackage, byFunction } = summarize(JSON.parse(fs.readFileSync(profileFile, 'utf8')) as CpuProfile);
  const pct = (ms: number) => `${((ms / total) * 100).toFixed(1).padStart(5)} %`;
  console.log(`\n${profileFile}: ${(total / 1000).toFixed(1)} s sampled\n\nself time by package:`);
  for (const [name, ms] of byPackage.slice(0, 15)) console.log(`  ${pct(ms)}  ${name}`);
  console.log('\nfunctions with the most self time:');
  for (const [name, ms] of byFunction.slice(0, 30)) console.log(`  ${pct(ms)}  ${name}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const service = args[0];
  if (service !== 'producer' && service !== 'consumer') throw new Error('usage: npx tsx bench/profile.ts producer|consumer [--messages N] [--env NAME=VALUE ...]');
  const mi = args.indexOf('--messages');
  const messages = mi >= 0 ? Number(args[mi + 1]) : 30_000;
  const env: Record<string, string> = {};
  args.forEach((a, i) => {
    if (a === '--env') {
      const [k, ...v] = args[i + 1].split('=');
      env[k] = v.join('=');
    }
  });
  const dir = path.join(CACHE_DIR, 'bench', 'profiles', `${service}-${Date.now().toString(36)}`);
  fs.mkdirSync(dir, { recursive: true });
  await benchCluster.up({ log: (l) => console.log(l) });
  const admin = benchAdmin();
  await admin.connect();
  const runId = `profile-${Date.now().toString(36)}`;
  const ctx: BenchContext = { admin, bootstrapServers: benchCluster.bootstrapServers(), shape: messageShape(`${runId}-x`), runId, log: console.log };
  try {
    const topic = await freshTopic(ctx, service);
    const profiled = { ...env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` };
    if (service === 'producer') {
      const r = await produceWithService(ctx, topic, messages, profiled);
      console.log(`producer: ${Math.round(r.messagesPerSecond)} msg/s`);
    } else {
      await produceWithService(ctx, topic, messages);
      const r = await consumeWithService(ctx, topic, messages, profiled);
      console.log(`consumer: ${Math.round(r.messagesPerSecond)} msg/s`);
    }
    await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  // tsx runs the service in the same process as its loader: the biggest profile is the service's.
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no profile written in ${dir}`);
  print(files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]);
}

main().catch((err: Error) => {
  console.error(`profile failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
