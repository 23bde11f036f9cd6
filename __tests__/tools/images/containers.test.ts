import * as net from 'net';
import { Kafka, logLevel } from 'kafkajs';
import { PublishRecord } from '../../../tools/images/pipeline';
import { podman, podmanRun } from '../../../tools/images/podman';
import { serviceRunArgs } from '../../../tools/images/run';
import { brokerList, uniqueName } from '../../support/kafka';
import { FIRST_BUILD_TIMEOUT_MS, publishLocally, published, startRegistry, stopRegistryIfStarted } from '../../support/images';

/** workloads-stack's terminationGracePeriodSeconds: the consumer must be gone well before. */
const GRACE_SECONDS = 30;
const MESSAGES = 300;

let record: PublishRecord;
let registryStarted = false;
const topic = uniqueName('images-posts');
const dlqTopic = `${topic}.dlq`;
const group = uniqueName('images-consumer');
const consumerName = uniqueName('consumer');
let httpPort: number;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const get = (path: string) => fetch(`http://127.0.0.1:${httpPort}${path}`).then(async (r) => ({ status: r.status, body: await r.text() }), () => undefined);

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}; consumer log:\n${podmanRun(['logs', '--tail', '30', consumerName]).stdout}`);
}

/** One JSON log record per line of a container's output. */
const records = (output: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const kafkaEnv = () => ({ KAFKA_BROKERS: brokerList().join(','), KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlqTopic, LOG_LEVEL: 'info' });

beforeAll(async () => {
  registryStarted = await startRegistry();
  record = await publishLocally();
  httpPort = await freePort();
  const admin = new Kafka({ brokers: brokerList(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
        { topic: dlqTopic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}, FIRST_BUILD_TIMEOUT_MS);

afterAll(async () => {
  podmanRun(['rm', '--force', '--ignore', consumerName]);
  await stopRegistryIfStarted(registryStarted);
});

describe('the images run for real, hardened, against the local Kafka cluster', () => {
  test('the consumer starts from its registry digest, read-only, without capabilities or privilege escalation, as 65532', async () => {
    const image = published(record, 'consumer').pushed.reference;
    podman(serviceRunArgs({ image, name: consumerName, detach: true, env: { ...kafkaEnv(), KAFKA_GROUP_ID: group, HTTP_PORT: String(httpPort), SHUTDOWN_TIMEOUT_MS: '20000' } }));
    await waitFor('the consumer to be ready', async () => (await get('/readyz'))?.status === 200);

    const [inspected] = JSON.parse(podman(['container', 'inspect', consumerName])) as { Image: string; ImageName: string; Config: { User: string }; HostConfig: { ReadonlyRootfs: boolean; SecurityOpt: string[] } }[];
    // Started by its registry reference; the image is the one built (its id is the pushed config's digest).
    expect(inspected.ImageName).toBe(image);
    expect(inspected.Image).toBe(published(record, 'consumer').built.id);
    expect(inspected.Config.User).toBe('65532:65532');
    expect(inspected.HostConfig.ReadonlyRootfs).toBe(true);
    expect(inspected.HostConfig.SecurityOpt).toContain('no-new-privileges');

    // From inside, with the image's own node: no capability in any set, no new privileges, nothing writable.
    const probe = [
      "const s = require('fs').readFileSync('/proc/self/status', 'utf8');",
      "const f = (k) => s.match(new RegExp('^' + k + ':\\\\s+(\\\\S+)', 'm'))[1];",
      "let write = 'allowed'; try { require('fs').writeFileSync('/app/x', 'x'); } catch (e) { write = e.code; }",
      "console.log(JSON.stringify({ uid: process.getuid(), capEff: f('CapEff'), capPrm: f('CapPrm'), capBnd: f('CapBnd'), noNewPrivs: f('NoNewPrivs'), write }));",
    ].join(' ');
    const inside = JSON.parse(podman(['exec', consumerName, '/nodejs/bin/node', '-e', probe]));
    expect(inside).toEqual({ uid: 65532, capEff: '0000000000000000', capPrm: '0000000000000000', capBnd: '0000000000000000', noNewPrivs: '1', write: 'EROFS' });
  });

  test('its health endpoints answer on 127.0.0.1 only, and the image HEALTHCHECK passes', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200 });
    expect(await get('/readyz')).toMatchObject({ status: 200 });
    const listening = records(podman(['logs', consumerName])).find((r) => r.event === 'http_listening');
    expect(listening).toMatchObject({ port: httpPort, address: '127.0.0.1' });
    // The HEALTHCHECK of the image, run by podman inside the container.
    expect(podmanRun(['healthcheck', 'run', consumerName]).status).toBe(0);
  });

  test(`the producer job sends ${MESSAGES} messages from its registry digest and exits 0`, () => {
    const image = published(record, 'producer').pushed.reference;
    const r = podmanRun(serviceRunArgs({ image, name: uniqueName('producer'), remove: true, env: { ...kafkaEnv(), MESSAGE_COUNT: String(MESSAGES), HTTP_PORT: '0' } }));
    expect(r.stderr).not.toMatch(/Error:/);
    expect(r.status).toBe(0);
    expect(records(r.stdout).find((l) => l.event === 'summary')).toMatchObject({ ok: true, topic, requested: MESSAGES, sent: MESSAGES });
  });

  test('the consumer receives every message', async () => {
    const consumed = async () => {
      const metrics = (await get('/metrics'))?.body ?? '';
      const m = new RegExp(`^kafka_platform_messages_consumed_total\\{[^}]*topic="${topic.replace(/\./g, '\\.')}"[^}]*\\} (\\d+)`, 'm').exec(metrics);
      return m ? Number(m[1]) : 0;
    };
    await waitFor(`${MESSAGES} messages consumed`, async () => (await consumed()) >= MESSAGES);
    expect(await consumed()).toBe(MESSAGES);
  });

  test(`SIGTERM stops the consumer gracefully, well within the ${GRACE_SECONDS} s grace period`, () => {
    const started = Date.now();
    // podman sends the image's STOPSIGNAL (SIGTERM) and would SIGKILL after the grace period.
    podman(['stop', '--time', String(GRACE_SECONDS), consumerName]);
    const seconds = (Date.now() - started) / 1000;
    const state = JSON.parse(podman(['container', 'inspect', '--format', '{{json .State}}', consumerName])) as { ExitCode: number };
    const log = records(podman(['logs', consumerName]));
    console.log(`consumer stopped in ${seconds.toFixed(1)} s`);
    expect(state.ExitCode).toBe(0);
    expect(seconds).toBeLessThan(GRACE_SECONDS / 2);
    expect(log.find((l) => l.event === 'shutdown_requested')).toMatchObject({ signal: 'SIGTERM' });
    expect(log.find((l) => l.event === 'stopped')).toMatchObject({ processed: MESSAGES });
    expect(log.some((l) => l.event === 'shutdown_timeout')).toBe(false);
  });

});
