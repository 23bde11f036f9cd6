import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Admin } from 'kafkajs';
import { localUserPasswordFile } from '../../tools/local/kafka';
import { PROJECT_ROOT } from '../../tools/paths';
import { uniqueName } from '../support/kafka';
import { KnownSecret, findSecrets, generatedSecrets } from '../support/secrets';
import { ServiceProcess, createTopics, deleteTopics, kafka, processed } from './harness';
import { grantPipelineAcls, revokePipelineAcls, securedEnv } from './secured';

/**
 * The services with real SCRAM credentials on the local cluster's SASL_SSL listener, at debug
 * level, through success, a DLQ write, a wrong password and a configuration error: nothing they
 * print on stdout or stderr contains a password, a key or a token.
 */

const admin: Admin = kafka().admin();
const name = uniqueName('svc-secrets');
const t = { topic: name, dlq: `${name}.dlq`, group: `${name}-group` };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'svc-secrets-'));
const runs: ServiceProcess[] = [];
let known: KnownSecret[];
// A wrong password is a secret too: it is usually someone's real one, mistyped.
const wrongPassword = randomBytes(18).toString('base64url');
const wrongPasswordFile = path.join(scratch, 'wrong.password');

/** At debug, where the services print the most. */
const secured = (user: 'producer' | 'consumer', overrides: Record<string, string> = {}) => securedEnv(user, { LOG_LEVEL: 'debug', ...overrides });

function start(service: 'producer' | 'consumer', env: Record<string, string>): ServiceProcess {
  const p = new ServiceProcess(service, env);
  runs.push(p);
  return p;
}

/** Everything a run printed: its JSON lines as written and its stderr. */
function output(p: ServiceProcess): string {
  return `${p.records.map((r) => JSON.stringify(r)).join('\n')}\n${p.stderr.join('')}`;
}

beforeAll(async () => {
  fs.writeFileSync(wrongPasswordFile, `${wrongPassword}\n`, { mode: 0o600 });
  known = [...generatedSecrets(), { file: wrongPasswordFile, value: wrongPassword }];
  await admin.connect();
  await createTopics(admin, [t.topic, t.dlq]);
  await grantPipelineAcls(t);
}, 120_000);

afterAll(async () => {
  for (const p of runs) {
    p.kill('SIGKILL');
    await p.exited;
  }
  await revokePipelineAcls(t);
  await deleteTopics(admin, [t.topic, t.dlq]);
  await admin.disconnect();
  fs.rmSync(scratch, { recursive: true, force: true });
}, 120_000);

describe('service logs with real credentials', () => {
  test('the passwords the services use are among the secrets scanned for', () => {
    const files = known.map((k) => k.file);
    for (const user of ['producer', 'consumer']) expect(files).toContain(path.relative(PROJECT_ROOT, localUserPasswordFile(user)));
  });

  test('a producer and consumer run over SASL_SSL with a DLQ write prints no secret', async () => {
    const consumer = start('consumer', secured('consumer', { KAFKA_TOPIC: t.topic, KAFKA_DLQ_TOPIC: t.dlq, KAFKA_GROUP_ID: t.group }));
    await consumer.waitFor('group joined', () => consumer.events('group_join').length > 0);
    // The password given inline this time, the other way the services accept it.
    const password = fs.readFileSync(localUserPasswordFile('producer'), 'utf8').trim();
    const producer = start('producer', secured('producer', { KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: password, KAFKA_TOPIC: t.topic, MESSAGE_COUNT: '500', MESSAGE_ID_PREFIX: t.topic }));
    expect(await producer.exited).toBe(0);
    const plain = kafka().producer();
    await plain.connect();
    await plain.send({ topic: t.topic, acks: -1, messages: [{ value: '{not json' }] });
    await plain.disconnect();
    await consumer.waitFor('500 messages and the DLQ write', () => processed(consumer).length >= 500 && consumer.events('dlq').length === 1, 60_000);
    consumer.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);

    expect(producer.events('summary')[0]).toMatchObject({ ok: true, sent: 500 });
    expect(findSecrets('producer', output(producer), known)).toEqual([]);
    expect(findSecrets('consumer', output(consumer), known)).toEqual([]);
  }, 120_000);

  test('a wrong password: the authentication error carries no password', async () => {
    const p = start('producer', secured('producer', { KAFKA_SASL_PASSWORD_FILE: wrongPasswordFile, KAFKA_TOPIC: t.topic, MESSAGE_COUNT: '1' }));
    expect(await p.exited).toBe(1);
    expect(p.events('summary')[0].error).toMatch(/SASL SCRAM SHA512 authentication failed/);
    expect(findSecrets('producer', output(p), known)).toEqual([]);
  }, 60_000);

  test('a configuration error next to an inline password lists the problem, not the password', async () => {
    const p = start('consumer', secured('consumer', { KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: wrongPassword, HTTP_PORT: 'eighty', KAFKA_TOPIC: t.topic }));
    expect(await p.exited).toBe(2);
    expect(p.events('config_invalid')[0].problems).toEqual(['HTTP_PORT="eighty" is invalid: expected an integer from 0 to 65535']);
    expect(findSecrets('consumer', output(p), known)).toEqual([]);
  }, 60_000);
});
