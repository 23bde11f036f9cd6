import * as path from 'path';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { versions } from '../../config';
import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { fetchKafkaJars } from '../../tools/kafka-jars';
import { LocalKafkaCluster, PLATFORM_LOCAL_KAFKA, SIDE_CLUSTER_PORT_OFFSETS, shiftedPorts } from '../../tools/local/kafka';
import { CACHE_DIR } from '../../tools/paths';
import { ServiceProcess, processed } from '../services/harness';
import { uniqueName } from '../support/kafka';
import { createPostsLikeTopic, waitForFullIsr } from './cluster';
import { acknowledged, startProducer, verifyTopic } from './runs';

/**
 * The staged upgrade docs/upgrades.md prescribes for kafka-stack, on a local cluster: start on
 * the previous supported release, roll every node to the pinned one under continuous produce and
 * consume, then bump the metadata version. Kafka's own tools confirm each step and count the data.
 */

const TARGET = versions.kafka.version;
/** The newest release the pinned Strimzi supports on the minor before the pinned one. */
const FROM = Object.keys(versions.strimziSupportedKafka)
  .filter((v) => v.split('.').slice(0, 2).join('.') < TARGET.split('.').slice(0, 2).join('.'))
  .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
  .pop()!;

const cluster = new LocalKafkaCluster({
  ...PLATFORM_LOCAL_KAFKA,
  name: 'upgrade-kafka',
  dir: path.join(CACHE_DIR, 'upgrade-kafka'),
  // Ports 17092, 17192, 17492, 17592 (node 1 of each listener).
  ...shiftedPorts(SIDE_CLUSTER_PORT_OFFSETS.upgrade),
  kafkaVersion: FROM,
  metadataVersion: versions.strimziSupportedKafka[FROM],
  configKey: 'upgrade cluster',
  portsDefinedIn: '__tests__/chaos/rolling-upgrade.test.ts',
});
const quiet = { log: () => undefined };
let admin: Admin;

beforeAll(async () => {
  await fetchKafkaJars(FROM);
  await cluster.down({ purge: true, ...quiet });
  await cluster.up({ log: (l) => console.log(`[upgrade-kafka] ${l}`) });
  admin = new Kafka({ clientId: 'upgrade-admin', brokers: cluster.bootstrapServers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
}, 600_000);

afterAll(async () => {
  await admin?.disconnect();
  await cluster.down({ purge: true, ...quiet });
}, 120_000);

async function finalizedMetadataVersion(): Promise<string | undefined> {
  const out = await runKafkaTool(KafkaTools.features, ['--bootstrap-server', cluster.bootstrapServers(), 'describe']);
  return /Feature:\s*metadata\.version.*?FinalizedVersionLevel:\s*(\S+)/.exec(out)?.[1];
}

test(`rolling upgrade ${FROM} -> ${TARGET} under load, then the metadata version bump: nothing lost`, async () => {
  expect(FROM).toBeDefined();
  expect(cluster.nodes().map((n) => cluster.nodeVersion(n))).toEqual([FROM, FROM, FROM]);
  expect(await finalizedMetadataVersion()).toBe(versions.strimziSupportedKafka[FROM]);

  const topic = uniqueName('upgrade');
  await createPostsLikeTopic(admin, topic);
  await createPostsLikeTopic(admin, `${topic}.dlq`);
  const count = 60_000;
  const producer = startProducer(cluster, topic, count, { RATE_LIMIT: '1000' });
  const consumer = new ServiceProcess('consumer', {
    KAFKA_BROKERS: cluster.bootstrapServers(),
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_GROUP_ID: `${topic}-group`,
  });
  await producer.waitFor('producing', () => producer.events('start').length > 0, 60_000);

  // Step 1: one node at a time to the new release, each back in sync before the next.
  for (const node of cluster.nodes()) {
    await cluster.stopNode(node.id, quiet);
    await cluster.startNode(node.id, { kafkaVersion: TARGET, ...quiet });
    await cluster.waitForHealthy(quiet);
    await waitForFullIsr(admin, topic, 3);
    console.log(`[chaos] upgrade: node ${node.id} runs ${cluster.nodeVersion(node)}, back in sync`);
  }
  expect(cluster.nodes().map((n) => cluster.nodeVersion(n))).toEqual([TARGET, TARGET, TARGET]);
  // Until the bump the cluster still speaks the old metadata version, so a rollback stays possible.
  expect(await finalizedMetadataVersion()).toBe(versions.strimziSupportedKafka[FROM]);

  // Step 2: the metadata version bump, still under load.
  await runKafkaTool(KafkaTools.features, ['--bootstrap-server', cluster.bootstrapServers(), 'upgrade', '--metadata', versions.kafka.metadataVersion]);
  expect(await finalizedMetadataVersion()).toBe(versions.kafka.metadataVersion);

  expect(await producer.exited).toBe(0);
  const report = await verifyTopic('rolling upgrade', 1, cluster, topic, count, acknowledged(producer));
  expect({ lost: report.lost, acknowledged: report.acknowledged }).toEqual({ lost: 0, acknowledged: count });

  const seen = () => new Set(processed(consumer).map((r) => r.id as string));
  await consumer.waitFor('every message consumed', () => seen().size >= count, 180_000);
  consumer.kill('SIGTERM');
  expect(await consumer.exited).toBe(0);
  const duplicates = processed(consumer).length - seen().size;
  console.log(`[chaos] upgrade: consumer processed ${processed(consumer).length} (${seen().size} distinct, ${duplicates} duplicates)`);
}, 900_000);
