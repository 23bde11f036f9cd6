import { uniqueName } from '../support/kafka';
import { chaosCluster, createPostsLikeTopic, waitForFullIsr } from './cluster';
import { acknowledged, dropTopics, startProducer, useChaosCluster, verifyTopic } from './runs';

/**
 * Two of three brokers down: with min.insync.replicas=2 nothing can be acknowledged, so the job
 * must fail with an error that says so once SEND_TIMEOUT_MS runs out, keep everything it did
 * acknowledge, and a rerun of the same job must complete once the brokers are back.
 */

const admin = useChaosCluster();

test('two brokers down: the job fails clearly after its timeout, nothing acknowledged is lost, a rerun completes', async () => {
  const topic = uniqueName('chaos-quorum');
  await createPostsLikeTopic(admin(), topic);
  const count = 30_000;
  const env = { RATE_LIMIT: '3000', SEND_TIMEOUT_MS: '15000' };
  const first = startProducer(chaosCluster, topic, count, env);
  await first.waitFor('producing', () => first.events('start').length > 0, 60_000);
  await new Promise((r) => setTimeout(r, 3000));
  const [, second, third] = chaosCluster.nodes();
  expect(await chaosCluster.killNode(second.id)).toBe(true);
  expect(await chaosCluster.killNode(third.id)).toBe(true);

  expect(await first.exited).toBe(1);
  const failed = first.events('summary')[0];
  expect(failed.error).toMatch(/not acknowledged within SEND_TIMEOUT_MS=15000 ms/);
  const acknowledgedBefore = acknowledged(first);
  expect(acknowledgedBefore).toBeLessThan(count);

  await chaosCluster.startNode(second.id, { log: () => undefined });
  await chaosCluster.startNode(third.id, { log: () => undefined });
  await chaosCluster.waitForHealthy({ log: () => undefined });
  await waitForFullIsr(admin(), topic, 3);

  // What the failed job acknowledged survived the outage.
  const afterOutage = await verifyTopic('two brokers down (failed job)', 1, chaosCluster, topic, count, acknowledgedBefore);
  expect({ lost: afterOutage.lost, lostSample: afterOutage.lostSample }).toEqual({ lost: 0, lostSample: [] });

  // The same job again (same ids): it completes, and every id is there; the resent ones are duplicates, counted.
  const rerun = startProducer(chaosCluster, topic, count, env);
  expect(await rerun.exited).toBe(0);
  const report = await verifyTopic('two brokers down (rerun)', 1, chaosCluster, topic, count, acknowledged(rerun));
  expect({ lost: report.lost, received: report.received }).toEqual({ lost: 0, received: count });
  expect(report.duplicates).toBeGreaterThanOrEqual(acknowledgedBefore);
  await dropTopics(admin(), [topic]);
}, 600_000);
