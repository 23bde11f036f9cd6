import * as fs from 'fs';
import * as path from 'path';
import { Admin } from 'kafkajs';
import { LocalKafkaCluster } from '../../tools/local/kafka';
import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { ServiceProcess } from '../services/harness';
import { chaosAdmin, chaosCluster } from './cluster';
import { DeliveryReport, deliveryReport, logEndOffsets, printReport, readTopic } from './verifier';
import { testRunId } from '../support/scratch';

/** The producer service as a real process against a fault-test cluster, ids `<topic>-0..count-1` (compiled: see compileServices). */
export function startProducer(cluster: LocalKafkaCluster, topic: string, count: number, env: Record<string, string> = {}, compiledDir?: string): ServiceProcess {
  return new ServiceProcess(
    'producer',
    {
      KAFKA_BROKERS: cluster.bootstrapServers(),
      KAFKA_TOPIC: topic,
      MESSAGE_COUNT: String(count),
      PAYLOAD_SIZE: '200',
      MESSAGE_ID_PREFIX: topic,
      ...env,
    },
    compiledDir,
  );
}

/** How many messages a finished producer job reported acknowledged (its ids are 0..n-1, in order). */
export function acknowledged(producer: ServiceProcess): number {
  return Number(producer.events('summary')[0]?.sent ?? 0);
}

/**
 * Reads the topic with Kafka's own consumer and reports against what the producer acknowledged.
 * Right after a broker restart a partition's high watermark (what consumers may read) can trail
 * its replicated log for a moment, so the read waits until the high watermarks stop moving, and
 * a shortfall is counted again after a pause: lost data stays lost, a late high watermark does not.
 */
export async function verifyTopic(
  name: string,
  run: number,
  cluster: LocalKafkaCluster,
  topic: string,
  sent: number,
  acked: number,
): Promise<DeliveryReport> {
  const servers = cluster.bootstrapServers();
  let report: DeliveryReport | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    await stableHighWatermarks(servers, topic);
    report = deliveryReport(name, run, topic, sent, acked, await readTopic(servers, topic));
    if (report.lost === 0) break;
    console.log(`[chaos] ${name} run ${run}: ${report.lost} acknowledged ids not readable yet (count ${attempt}); counting again in 10 s`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
  printReport(report!);
  return report!;
}

/** Waits until the sum of the topic's high watermarks is the same twice, 2 s apart (at most 60 s). */
async function stableHighWatermarks(servers: string, topic: string): Promise<void> {
  let last = -1;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const now = await logEndOffsets(servers, topic);
    if (now === last) return;
    last = now;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Written when a test run starts the fault-test cluster: the same run's global teardown removes it. */
export const CHAOS_STARTED_MARKER = path.join(chaosCluster.spec.dir, 'started-by-tests.pid');

/**
 * Registers the suite's hooks: the shared fault-test cluster up (started once for all chaos
 * suites of a run) and an admin client on it. Returns the admin, ready inside tests.
 */
export function useChaosCluster(): () => Admin {
  let admin: Admin | undefined;
  beforeAll(async () => {
    admin = await connectChaosCluster();
  }, 240_000);
  afterAll(() => admin?.disconnect());
  return () => {
    if (!admin) throw new Error('the chaos cluster is not connected (its beforeAll failed)');
    return admin;
  };
}

async function connectChaosCluster(): Promise<Admin> {
  const result = await chaosCluster.up({ log: (l) => console.log(`[chaos-kafka] ${l}`) });
  if (result.startedNodes.length > 0) fs.writeFileSync(CHAOS_STARTED_MARKER, `${testRunId()}\n`);
  const admin = chaosAdmin();
  await admin.connect();
  return admin;
}

/**
 * Deletes a case's topics so the cluster stays small over many runs. Bounded: kafkajs'
 * deleteTopics can wait minutes for metadata to forget a topic, and cleanup proves nothing.
 */
export async function dropTopics(admin: Admin, topics: string[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 15_000)));
  await Promise.race([admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined), bound]);
  clearTimeout(timer);
}

/** Committed offset behind the log end, per partition, from Kafka's own group tool. */
export async function groupLag(group: string, cluster: LocalKafkaCluster = chaosCluster): Promise<number[]> {
  const out = await runKafkaTool(KafkaTools.consumerGroups, ['--bootstrap-server', cluster.bootstrapServers(), '--describe', '--group', group], { timeoutMs: 60_000 });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols[0] === group)
    .map((cols) => (cols[5] === '-' ? Number.NaN : Number(cols[5])));
}
