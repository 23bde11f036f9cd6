import { uniqueName } from '../support/kafka';
import { chaosCluster, createPostsLikeTopic, waitForFullIsr } from './cluster';
import { acknowledged, dropTopics, startProducer, useChaosCluster, verifyTopic } from './runs';

/**
 * A rolling restart as an operator (or Strimzi) does it: one broker at a time, controlled
 * shutdown, and the next only once every partition is fully in sync again, while the producer
 * keeps sending. Kafka's own consumer then counts what is in the topic.
 */

const admin = useChaosCluster();

test('rolling restart of all three brokers under continuous load loses no acknowledged message', async () => {
  const topic = uniqueName('chaos-roll');
  await createPostsLikeTopic(admin(), topic);
  const count = 60_000;
  const producer = startProducer(chaosCluster, topic, count, { RATE_LIMIT: '1500' });
  await producer.waitFor('producing', () => producer.events('start').length > 0, 60_000);

  for (const node of chaosCluster.nodes()) {
    await new Promise((r) => setTimeout(r, 3000));
    expect(await chaosCluster.stopNode(node.id, { log: () => undefined })).toBe(true);
    await chaosCluster.startNode(node.id, { log: () => undefined });
    await chaosCluster.waitForHealthy({ log: () => undefined });
    await waitForFullIsr(admin(), topic, 3);
    console.log(`[chaos] rolling restart: node ${node.id} back in sync, producer at ${producer.records.length} log lines`);
  }

  const code = await producer.exited;
  const report = await verifyTopic('rolling restart', 1, chaosCluster, topic, count, acknowledged(producer));
  expect({ lost: report.lost, lostSample: report.lostSample }).toEqual({ lost: 0, lostSample: [] });
  expect({ code, error: producer.events('summary')[0]?.error }).toEqual({ code: 0, error: undefined });
  expect(report.acknowledged).toBe(count);
  await dropTopics(admin(), [topic]);
}, 600_000);
