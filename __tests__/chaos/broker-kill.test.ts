import { uniqueName } from '../support/kafka';
import { chaosCluster, createPostsLikeTopic, leaderOf, waitForFullIsr } from './cluster';
import { acknowledged, dropTopics, startProducer, useChaosCluster, verifyTopic } from './runs';
import { DeliveryReport } from './verifier';

/**
 * The producer service under a partition leader's SIGKILL: every message it acknowledged must be
 * in the topic, as Kafka's own ConsoleConsumer reads it. `npm test` runs CHAOS_RUNS=2;
 * `npm run test:chaos` runs 20 consecutive kills so the loss rate is known, not guessed.
 */

const RUNS = Number(process.env.CHAOS_RUNS ?? 2);
const COUNT = 50_000;
const RATE = 5_000;
/** The kill lands while the stream is flowing: 4 s into a 10 s run. */
const KILL_AFTER_MS = 4_000;

const admin = useChaosCluster();
const reports: DeliveryReport[] = [];

afterAll(() => {
  const lost = reports.reduce((n, r) => n + r.lost, 0);
  console.log(`[chaos] leader SIGKILL: ${reports.length} runs, ${reports.filter((r) => r.lost > 0).length} with loss, ${lost} acknowledged messages lost in all`);
});

describe('producer service while the leader of partition 0 is SIGKILLed', () => {
  test.each(Array.from({ length: RUNS }, (_, i) => i + 1))(
    'run %i: every acknowledged message is in the topic (independent reader), and the job completes',
    async (run) => {
      const topic = uniqueName('chaos-kill');
      await createPostsLikeTopic(admin(), topic);
      const producer = startProducer(chaosCluster, topic, COUNT, { RATE_LIMIT: String(RATE) });
      await producer.waitFor('producing', () => producer.events('start').length > 0, 60_000);
      await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
      const victim = await leaderOf(admin(), topic, 0);
      expect(await chaosCluster.killNode(victim)).toBe(true);

      const code = await producer.exited;
      await chaosCluster.startNode(victim, { log: () => undefined });
      await chaosCluster.waitForHealthy({ log: () => undefined });
      await waitForFullIsr(admin(), topic, 3);

      const report = await verifyTopic('leader SIGKILL', run, chaosCluster, topic, COUNT, acknowledged(producer));
      reports.push(report);
      expect({ lost: report.lost, lostSample: report.lostSample }).toEqual({ lost: 0, lostSample: [] });
      // Two of three brokers stay up, so the job must finish, not give up.
      expect({ code, error: producer.events('summary')[0]?.error }).toEqual({ code: 0, error: undefined });
      expect(report.acknowledged).toBe(COUNT);
      await dropTopics(admin(), [topic]);
    },
    300_000,
  );
});
