import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Admin } from 'kafkajs';
import { environments } from '../../../config';
import { bytesOf } from '../../../config/environment-checks';
import { PROJECT_ROOT } from '../../../tools/paths';
import { bootstrapServers, uniqueName } from '../../support/kafka';
import { MemoryCgroup } from '../../support/memory-cgroup';
import { ServiceProcess, compileServices, createTopics, deleteTopics, kafka } from '../harness';

/**
 * The consumer as its image runs it (compiled JavaScript, production settings), inside a real
 * memory cgroup of the smallest limit any environment gives its pod, catching up a backlog.
 * The producer's payloads repeat the message id, so they compress about 30:1: kafkajs decodes
 * whole fetch responses, and the fetch limits count compressed bytes. This is the worst case
 * the defaults are sized for.
 */

const BACKLOG = 200_000;
const PAYLOAD_SIZE = 1000;
const LIMIT_BYTES = Math.min(...Object.values(environments).map((e) => bytesOf(e.services.resources.limits.memory)!));
const admin: Admin = kafka().admin();
const created: string[] = [];
let topic = '';
let compiled = '';

beforeAll(async () => {
  await admin.connect();
  topic = uniqueName('svc-memory');
  created.push(topic, `${topic}.dlq`);
  await createTopics(admin, created);
  compiled = compileServices();
  const producer = new ServiceProcess('producer', { KAFKA_TOPIC: topic, MESSAGE_COUNT: String(BACKLOG), PAYLOAD_SIZE: String(PAYLOAD_SIZE), MESSAGE_ID_PREFIX: topic, LOG_LEVEL: 'info' });
  const code = await producer.exited;
  if (code !== 0) throw new Error(`the producer could not write the backlog (exit ${code}):\n${producer.tail()}`);
}, 300_000);

afterAll(async () => {
  await deleteTopics(admin, created);
  await admin.disconnect();
  if (compiled) fs.rmSync(compiled, { recursive: true, force: true });
});

interface LimitedRun {
  readonly committed: number;
  readonly peakBytes: number;
  readonly oomKills: number;
  /** Exit signal or code, `running` when it was still up once everything was committed. */
  readonly ended: string;
}

/**
 * What the group coordinator has committed for `groupId`: its record, not the consumer's own
 * account. Undefined while the coordinator moves or loads (a fresh cluster's first groups).
 */
async function committedOffsets(groupId: string): Promise<number | undefined> {
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } catch (err) {
    if ((err as { retriable?: boolean }).retriable) return undefined;
    throw err;
  }
}

/** Runs the compiled consumer on the backlog with a fresh group until all is committed, it dies, or 180 s pass. */
async function consumeInLimit(name: string, env: Record<string, string>): Promise<LimitedRun> {
  const cgroup = MemoryCgroup.create(`kafka-platform-${name}-${process.pid}`, LIMIT_BYTES);
  const groupId = `${topic}-${name}`;
  let child: ChildProcess | undefined;
  try {
    const [cmd, ...args] = cgroup.wrap([process.execPath, path.join(compiled, 'consumer', 'main.js')]);
    child = spawn(cmd, args, {
      env: {
        PATH: process.env.PATH ?? '',
        // The compiled files sit outside the project; their dependencies are the project's.
        NODE_PATH: path.join(PROJECT_ROOT, 'node_modules'),
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        HTTP_PORT: '0',
        KAFKA_BROKERS: bootstrapServers(),
        KAFKA_TOPIC: topic,
        KAFKA_DLQ_TOPIC: `${topic}.dlq`,
        KAFKA_GROUP_ID: groupId,
        ...env,
      },
      stdio: 'ignore',
    });
    let ended = 'running';
    const exited = new Promise<void>((resolve) => child!.on('exit', (code, signal) => resolve(void (ended = signal ?? `exit ${code}`))));
    const deadline = Date.now() + 180_000;
    let committed = 0;
    while (ended === 'running' && committed < BACKLOG && Date.now() < deadline) {
      committed = (await committedOffsets(groupId)) ?? committed;
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = { committed, peakBytes: cgroup.peakBytes(), oomKills: cgroup.oomKills(), ended };
    if (ended === 'running') {
      child.kill('SIGTERM');
      await exited;
    }
    return result;
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    cgroup.remove();
  }
}

describe('consumer under its pod memory limit', () => {
  test('catches up a 200,000-message compressible backlog with the default fetch sizes, without an OOM kill', async () => {
    const run = await consumeInLimit('defaults', {});
    // The peak goes to the test log: docs/services.md ("Memory") quotes it.
    console.log(`consumer peak ${(run.peakBytes / 2 ** 20).toFixed(0)} MiB of a ${LIMIT_BYTES / 2 ** 20} MiB limit`);
    expect(run).toEqual({ committed: BACKLOG, peakBytes: expect.any(Number), oomKills: 0, ended: 'running' });
    expect(run.peakBytes).toBeLessThan(LIMIT_BYTES);
  });

  test("kafkajs' own default fetch sizes (10 MiB, 1 MiB a partition) are OOM-killed in the same limit: the limit is real", async () => {
    const run = await consumeInLimit('java-sizes', { KAFKA_FETCH_MAX_BYTES: String(10 * 2 ** 20), KAFKA_FETCH_MAX_PARTITION_BYTES: String(2 ** 20) });
    expect(run.oomKills).toBeGreaterThan(0);
    expect(run.ended).toBe('SIGKILL');
    expect(run.committed).toBeLessThan(BACKLOG);
  });
});
