import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { uniqueName } from '../support/kafka';
import { chaosCluster, waitForFullIsr } from './cluster';
import { acknowledged, dropTopics, startProducer, useChaosCluster, verifyTopic } from './runs';

/**
 * One broker's disk fills up under load: its data directory is moved onto a small tmpfs (root
 * and mount(8) required; without them the test fails, it does not skip). The broker must stop
 * with a log line that names the full disk, and the producer must finish on the other two
 * brokers with every acknowledged message in the topic.
 */

const DISK_MB = 48;
const VICTIM = 3;
const admin = useChaosCluster();

function run(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'pipe' });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed (this test needs root and mount(8)): ${e.stderr?.toString().trim() || e.message}`);
  }
}

test('a broker whose disk is full stops with a clear error; the producer finishes on the others with nothing lost', async () => {
  const node = chaosCluster.node(VICTIM);
  const saved = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-disk-'));
  await chaosCluster.stopNode(VICTIM, { log: () => undefined });
  run('cp', ['-a', `${node.dataDir}/.`, saved]);
  run('mount', ['-t', 'tmpfs', '-o', `size=${DISK_MB}m`, 'tmpfs', node.dataDir]);
  const logStart = fs.statSync(node.logFile).size;
  try {
    run('cp', ['-a', `${saved}/.`, node.dataDir]);
    await chaosCluster.startNode(VICTIM, { log: () => undefined });
    await chaosCluster.waitForHealthy({ log: () => undefined });

    const topic = uniqueName('chaos-disk');
    await admin().createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic,
          numPartitions: 6,
          replicationFactor: 3,
          // Stored as sent, uncompressed: 100 KB per message fills the small disk quickly.
          configEntries: [{ name: 'min.insync.replicas', value: '2' }, { name: 'compression.type', value: 'uncompressed' }],
        },
      ],
    });
    await waitForFullIsr(admin(), topic, 3, 60_000);
    const count = 1_000;
    const producer = startProducer(chaosCluster, topic, count, { PAYLOAD_SIZE: '100000', BATCH_SIZE: '5' });
    const code = await producer.exited;

    const brokerLog = fs.readFileSync(node.logFile, 'utf8').slice(logStart);
    expect(brokerLog).toMatch(/No space left on device/);
    expect(chaosCluster.runningPid(node)).toBeUndefined();

    const report = await verifyTopic('disk full', 1, chaosCluster, topic, count, acknowledged(producer));
    expect({ lost: report.lost, lostSample: report.lostSample }).toEqual({ lost: 0, lostSample: [] });
    expect({ code, error: producer.events('summary')[0]?.error }).toEqual({ code: 0, error: undefined });
    await dropTopics(admin(), [topic]);
  } finally {
    await chaosCluster.killNode(VICTIM);
    // The operator gives it a bigger disk with everything it wrote, as a volume expansion would.
    // Restoring the copy from before the test instead would roll back a KRaft voter's log, which
    // Raft does not allow: entries it acknowledged would vanish from the quorum's majority.
    fs.rmSync(saved, { recursive: true, force: true });
    fs.mkdirSync(saved);
    run('cp', ['-a', `${node.dataDir}/.`, saved]);
    run('umount', [node.dataDir]);
    fs.rmSync(node.dataDir, { recursive: true, force: true });
    fs.mkdirSync(node.dataDir);
    run('cp', ['-a', `${saved}/.`, node.dataDir]);
    fs.rmSync(saved, { recursive: true, force: true });
    await chaosCluster.startNode(VICTIM, { log: () => undefined });
    await chaosCluster.waitForHealthy({ log: () => undefined });
  }
}, 600_000);
