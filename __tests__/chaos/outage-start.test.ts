import * as fs from 'fs';
import { ServiceProcess, compileServices, processed } from '../services/harness';
import { uniqueName } from '../support/kafka';
import { chaosCluster, createPostsLikeTopic, waitForFullIsr } from './cluster';
import { BROKER_FENCING_WINDOW_MS } from '../../services/shared/kafka/startup';
import { acknowledged, dropTopics, groupLag, startProducer, useChaosCluster, verifyTopic } from './runs';
import { readTopic } from './verifier';

/**
 * Both services started one second after a broker of three was SIGKILLed, before the cluster has
 * fenced it (9 s): a node failure that takes a broker and a service pod together. Each broker dies
 * in turn. The producer must send everything (counted by Kafka's own ConsoleConsumer) and the
 * consumer must process every message, its group's committed offsets reaching the log end
 * (Kafka's ConsumerGroupCommand). `npm test` runs one round (each broker once); `npm run
 * test:chaos` runs CHAOS_RUNS=20 rounds and prints the failure rate.
 */

const ROUNDS = Number(process.env.CHAOS_RUNS ?? 1);
const COUNT = 5_000;
const NODES = [1, 2, 3];
/** Start the services this soon after the kill: well inside the cluster's 9 s fencing window. */
const START_AFTER_KILL_MS = 1_000;

const admin = useChaosCluster();
// What the images run, and quick to start: tsx transpiling the services on a busy machine took
// up to 8 s, most of the fencing window the case is about.
let compiled = '';
beforeAll(() => void (compiled = compileServices()), 120_000);
afterAll(() => compiled && fs.rmSync(compiled, { recursive: true, force: true }));
const outcomes: { service: string; victim: number; ok: boolean; waits: number }[] = [];

afterAll(() => {
  for (const service of ['producer', 'consumer']) {
    const mine = outcomes.filter((o) => o.service === service);
    const failed = mine.filter((o) => !o.ok).length;
    const waits = mine.reduce((n, o) => n + o.waits, 0);
    console.log(`[chaos] ${service} started with a broker just killed: ${mine.length} starts, ${failed} failed (${mine.length ? ((100 * failed) / mine.length).toFixed(0) : 0} %), ${waits} start-up waits logged`);
  }
});

const cases = Array.from({ length: ROUNDS }, (_, r) => NODES.map((victim) => [r + 1, victim] as const)).flat();

describe('services started while a broker of three is down and not yet fenced', () => {
  test.each(cases)(
    'round %i, broker %i killed: the producer sends everything and the consumer processes everything',
    async (round, victim) => {
      const produced = uniqueName(`outage-start-p${victim}`);
      const consumed = uniqueName(`outage-start-c${victim}`);
      for (const t of [produced, consumed, `${consumed}.dlq`]) await createPostsLikeTopic(admin(), t);
      // What the consumer will read, written while every broker is up.
      const filler = startProducer(chaosCluster, consumed, COUNT);
      expect(await filler.exited).toBe(0);
      const inTopic = new Set((await readTopic(chaosCluster.bootstrapServers(), consumed)).ids.keys());
      expect(inTopic.size).toBe(COUNT);

      expect(await chaosCluster.killNode(victim)).toBe(true);
      const killedAt = Date.now();
      await new Promise((r) => setTimeout(r, START_AFTER_KILL_MS));
      const group = `${consumed}-group`;
      const producer = startProducer(chaosCluster, produced, COUNT, {}, compiled);
      const consumer = new ServiceProcess(
        'consumer',
        { KAFKA_BROKERS: chaosCluster.bootstrapServers(), KAFKA_TOPIC: consumed, KAFKA_DLQ_TOPIC: `${consumed}.dlq`, KAFKA_GROUP_ID: group },
        compiled,
      );
      let consumerOk = false;
      let producerCode: number | null = null;
      // A service reaches Kafka right after its http_listening line. Later than the fencing window
      // (a machine too busy to start a process in seconds), the case would prove nothing.
      const reachedKafkaAfterMs = async (s: ServiceProcess) => {
        await s.waitFor('http server', () => s.events('http_listening').length > 0, 60_000);
        return Date.parse(String(s.events('http_listening')[0].time)) - killedAt;
      };
      const startedAfter = { producer: 0, consumer: 0 };
      try {
        startedAfter.producer = await reachedKafkaAfterMs(producer);
        startedAfter.consumer = await reachedKafkaAfterMs(consumer);
        producerCode = await producer.exited;
        outcomes.push({ service: 'producer', victim, ok: producerCode === 0, waits: producer.events('start_waiting').length });
        await consumer
          .waitFor(`all ${COUNT} messages processed`, () => new Set(processed(consumer).map((m) => m.id as string)).size >= COUNT, 120_000)
          .then(() => (consumerOk = true))
          .catch((err: Error) => console.log(`[chaos] round ${round}, broker ${victim}: ${err.message}`));
        outcomes.push({ service: 'consumer', victim, ok: consumerOk, waits: consumer.events('start_waiting').length });
      } finally {
        consumer.kill('SIGTERM');
        await consumer.exited;
        await chaosCluster.startNode(victim, { log: () => undefined });
        await chaosCluster.waitForHealthy({ log: () => undefined });
        for (const t of [produced, consumed]) await waitForFullIsr(admin(), t, 3);
      }

      console.log(`[chaos] round ${round}, broker ${victim}: producer reached Kafka ${startedAfter.producer} ms after the kill, consumer ${startedAfter.consumer} ms`);
      expect(Math.max(startedAfter.producer, startedAfter.consumer)).toBeLessThan(BROKER_FENCING_WINDOW_MS - 1_000);
      expect({ code: producerCode, error: producer.events('summary')[0]?.error, startFailed: producer.events('start_failed').length }).toEqual({ code: 0, error: undefined, startFailed: 0 });
      const report = await verifyTopic('outage start', round, chaosCluster, produced, COUNT, acknowledged(producer));
      expect({ lost: report.lost, acknowledged: report.acknowledged }).toEqual({ lost: 0, acknowledged: COUNT });

      expect({ processedAll: consumerOk, startFailed: consumer.events('start_failed').length, fatal: consumer.events('fatal').length }).toEqual({ processedAll: true, startFailed: 0, fatal: 0 });
      const ids = new Set(processed(consumer).map((m) => m.id as string));
      expect([...inTopic].filter((id) => !ids.has(id))).toEqual([]);
      // Stopped gracefully, the consumer committed all it processed: Kafka's tool shows no lag.
      expect(await groupLag(group)).toEqual(Array(6).fill(0));
      await dropTopics(admin(), [produced, consumed, `${consumed}.dlq`]);
    },
    300_000,
  );
});
