import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Admin, IHeaders } from 'kafkajs';
import { digest, payloadFor } from '../../services/shared/message';
import { runKeytool } from '../../tools/kafka-tool';
import { uniqueName } from '../support/kafka';
import { LogRecord, ServiceProcess, createTopics, deleteTopics, kafka, processed } from './harness';
import { grantPipelineAcls, revokePipelineAcls, securedEnv } from './secured';

/**
 * The services as they run in Kubernetes: TLS verified against a private CA, SCRAM-SHA-512 as
 * the `producer` and `consumer` users, and only what their ACLs allow. Against the local
 * cluster's SASL_SSL listener; topics and ACLs are created here through the plaintext listener
 * (ANONYMOUS, a super user), so the SCRAM users get exactly what each test grants.
 */

const PAYLOAD_SIZE = 200;
const COUNT = 2000;
const admin: Admin = kafka().admin();
const running: ServiceProcess[] = [];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'secured-pipeline-'));

const name = uniqueName('svc-secured');
const t = { topic: name, dlq: `${name}.dlq`, group: `${name}-group`, noAcl: `${name}-no-acl` };
/** The consumer's client libraries, each on topics of its own: the same TLS, SCRAM and ACL path through either. */
const CLIENTS = { kafkajs: t, platformatic: { topic: `${name}-plt`, dlq: `${name}-plt.dlq`, group: `${name}-plt-group` } } as const;

function start(service: 'producer' | 'consumer', env: Record<string, string>): ServiceProcess {
  const p = new ServiceProcess(service, env);
  running.push(p);
  return p;
}

function produce(topic: string, count: number, env: Record<string, string>): ServiceProcess {
  return start('producer', { KAFKA_TOPIC: topic, MESSAGE_COUNT: String(count), PAYLOAD_SIZE: String(PAYLOAD_SIZE), MESSAGE_ID_PREFIX: topic, ...env });
}

/** Runs the producer to its end and returns its summary line, which must report a failure. */
async function expectProducerFails(p: ServiceProcess): Promise<LogRecord> {
  const code = await p.exited;
  expect({ code, tail: code === 1 ? '' : p.tail() }).toEqual({ code: 1, tail: '' });
  const summary = p.events('summary')[0];
  expect(summary).toMatchObject({ ok: false, requested: 10, sent: 0 });
  return summary;
}

beforeAll(async () => {
  await admin.connect();
  await createTopics(admin, [t.topic, t.dlq, t.noAcl, CLIENTS.platformatic.topic, CLIENTS.platformatic.dlq]);
  // The same grants config/topics.ts gives `posts` and `posts.dlq`, on this run's own names.
  await grantPipelineAcls(t);
  await grantPipelineAcls(CLIENTS.platformatic);
}, 120_000);

afterEach(async () => {
  for (const p of running.splice(0)) {
    p.kill('SIGKILL');
    await p.exited;
  }
});

afterAll(async () => {
  await revokePipelineAcls(t);
  await revokePipelineAcls(CLIENTS.platformatic);
  await deleteTopics(admin, [t.topic, t.dlq, t.noAcl, CLIENTS.platformatic.topic, CLIENTS.platformatic.dlq]);
  await admin.disconnect();
  fs.rmSync(scratch, { recursive: true, force: true });
}, 120_000);

describe('services over TLS with SCRAM-SHA-512 and ACLs on the local cluster', () => {
  test.each(Object.keys(CLIENTS) as (keyof typeof CLIENTS)[])(`${COUNT.toLocaleString('en-US')} messages through SASL_SSL as producer and consumer (on %s), a malformed one to the DLQ as consumer`, async (client) => {
    const t = CLIENTS[client];
    const consumer = start('consumer', securedEnv('consumer', { KAFKA_TOPIC: t.topic, KAFKA_DLQ_TOPIC: t.dlq, KAFKA_GROUP_ID: t.group, KAFKA_CONSUMER_CLIENT: client }));
    await consumer.waitFor('group joined', () => consumer.events('group_join').length > 0);

    const producer = produce(t.topic, COUNT, securedEnv('producer'));
    const code = await producer.exited;
    expect({ code, tail: code === 0 ? '' : producer.tail() }).toEqual({ code: 0, tail: '' });
    expect(producer.events('summary')[0]).toMatchObject({ ok: true, requested: COUNT, sent: COUNT });

    // Written as ANONYMOUS; the consumer forwards it to the DLQ with its own identity.
    const plain = kafka().producer();
    await plain.connect();
    await plain.send({ topic: t.topic, acks: -1, messages: [{ key: 'bad', value: '{not json' }] });
    await plain.disconnect();

    await consumer.waitFor(`${COUNT} messages and 1 DLQ entry`, () => new Set(processed(consumer).map((r) => r.id)).size >= COUNT && consumer.events('dlq').length >= 1, 60_000);
    const records = processed(consumer);
    const ids = new Set(records.map((r) => r.id as string));
    const missing = Array.from({ length: COUNT }, (_, i) => `${t.topic}-${i}`).filter((id) => !ids.has(id));
    expect({ distinct: ids.size, missing: missing.slice(0, 10) }).toEqual({ distinct: COUNT, missing: [] });
    expect(records.filter((r) => r.payloadDigest !== digest(payloadFor(r.id as string, PAYLOAD_SIZE))).slice(0, 5)).toEqual([]);

    const dlq = await readOne(t.dlq, `${t.group}-dlq-reader`);
    expect(dlq.value).toBe('{not json');
    expect(dlq.headers).toMatchObject({ 'dlq.original.topic': t.topic, 'dlq.consumer.group': t.group });

    consumer.kill('SIGTERM');
    const stopCode = await consumer.exited;
    expect({ stopCode, tail: stopCode === 0 ? '' : consumer.tail() }).toEqual({ stopCode: 0, tail: '' });
    expect(consumer.events('stopped')[0]).toMatchObject({ processed: COUNT, dlq: 1 });
  }, 110_000);

  test('a wrong password: the producer exits 1 with an authentication error', async () => {
    const wrong = path.join(scratch, 'wrong.password');
    fs.writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
    const summary = await expectProducerFails(produce(t.topic, 10, securedEnv('producer', { KAFKA_SASL_PASSWORD_FILE: wrong })));
    expect(summary.error).toMatch(/SASL SCRAM SHA512 authentication failed.*invalid credentials/i);
  }, 60_000);

  test('no Write ACL on a topic: the producer exits 1 with an authorization error', async () => {
    const summary = await expectProducerFails(produce(t.noAcl, 10, securedEnv('producer')));
    expect(summary.error).toMatch(/not authorized to access topics/i);
  }, 60_000);

  test('a CA that did not sign the broker certificate: the producer cannot connect', async () => {
    const env = { OTHER_CA_STOREPASS: 'throwaway-only' };
    const store = ['-keystore', path.join(scratch, 'other-ca.p12'), '-storetype', 'PKCS12', '-storepass:env', 'OTHER_CA_STOREPASS'];
    await runKeytool(['-genkeypair', '-alias', 'ca', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '1', '-dname', 'CN=someone else', '-ext', 'BC:c=ca:true', ...store], env);
    const otherCa = path.join(scratch, 'other-ca.crt');
    await runKeytool(['-exportcert', '-rfc', '-alias', 'ca', '-file', otherCa, ...store], env);

    const p = produce(t.topic, 10, securedEnv('producer', { KAFKA_TLS_CA_FILE: otherCa }));
    const summary = await expectProducerFails(p);
    expect(summary.error).toMatch(/certificate/i);
    expect(summary.error).not.toMatch(/authenticat|authoriz/i);
    // A certificate no wait makes trusted fails at once, not after KAFKA_STARTUP_TIMEOUT_MS of tries.
    expect(p.events('start_waiting')).toEqual([]);
  }, 90_000);
});

/** The first message of `topic`, read as ANONYMOUS from the beginning. */
async function readOne(topic: string, groupId: string): Promise<{ value: string; headers: Record<string, string> }> {
  const reader = kafka().consumer({ groupId });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message in ${topic} within 30 s`)), 30_000);
      void reader.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve({ value: message.value!.toString(), headers: stringHeaders(message.headers) });
        },
      });
    });
  } finally {
    await reader.disconnect();
  }
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v)]));
}
