import { generateKeyPairSync } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Admin } from 'kafkajs';
import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { bootstrapServers, uniqueName } from '../support/kafka';
import { ServiceProcess, createTopics, deleteTopics, kafka } from './harness';

/**
 * Every bad environment variable stops the real service process before it touches Kafka:
 * exit code 2 and one `config_invalid` line naming the variable, the bad value and the
 * expected form. Afterwards Kafka's own tools show nothing was written and no group joined.
 */

const admin: Admin = kafka().admin();
const topic = uniqueName('svc-bad-env');
const dlq = `${topic}.dlq`;
const group = `${topic}-group`;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'svc-bad-env-'));

const file = (name: string, content: string) => {
  const p = path.join(scratch, name);
  fs.writeFileSync(p, content, { mode: 0o600 });
  return p;
};
// A freshly generated key, so no key material is ever committed, even in a test.
const privateKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const files = {
  keyAsCa: file('ca-with-key.pem', privateKeyPem),
  notACert: file('ca.txt', 'this is the cluster CA, honestly\n'),
  cert: file('ca.crt', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
  emptyPassword: file('empty.password', '\n'),
  password: file('producer.password', 'a-password-for-config-tests-only\n'),
  missing: path.join(scratch, 'missing.crt'),
};

type Service = 'producer' | 'consumer';

/** [service, what is wrong, variables over a valid environment, the one problem reported] */
const cases: [Service, string, Record<string, string>, string][] = [
  ['producer', 'KAFKA_BROKERS unset', { KAFKA_BROKERS: '' }, 'KAFKA_BROKERS is not set: expected comma-separated host:port list, e.g. "kafka-1:9092,kafka-2:9092"'],
  ['consumer', 'a broker URL with a scheme', { KAFKA_BROKERS: 'PLAINTEXT://127.0.0.1:29092' }, 'KAFKA_BROKERS="PLAINTEXT://127.0.0.1:29092" is invalid: expected comma-separated host:port list with ports 1-65535 (bad: PLAINTEXT://127.0.0.1:29092)'],
  ['producer', 'a broker port out of range', { KAFKA_BROKERS: '127.0.0.1:99999' }, 'KAFKA_BROKERS="127.0.0.1:99999" is invalid: expected comma-separated host:port list with ports 1-65535 (bad: 127.0.0.1:99999)'],
  ['producer', 'KAFKA_TLS not a boolean', { KAFKA_TLS: 'maybe' }, 'KAFKA_TLS="maybe" is invalid: expected true or false'],
  ['consumer', 'a CA file that does not exist', { KAFKA_TLS_CA_FILE: files.missing }, `KAFKA_TLS_CA_FILE="${files.missing}" is invalid: expected a readable file (ENOENT)`],
  ['producer', 'a private key given as the CA', { KAFKA_TLS_CA_FILE: files.keyAsCa }, `KAFKA_TLS_CA_FILE="${files.keyAsCa}" contains a private key: mount only the CA certificate (ca.crt), never its key`],
  ['consumer', 'a CA file without a certificate', { KAFKA_TLS_CA_FILE: files.notACert }, `KAFKA_TLS_CA_FILE="${files.notACert}" is invalid: expected a PEM certificate (-----BEGIN CERTIFICATE-----), e.g. ca.crt of the cluster CA Secret`],
  ['producer', 'TLS off but a CA file', { KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: files.cert }, 'KAFKA_TLS=false contradicts KAFKA_TLS_CA_FILE: unset one of them'],
  ['consumer', 'a SASL user without a password', { KAFKA_TLS: 'true', KAFKA_SASL_USERNAME: 'consumer' }, 'KAFKA_SASL_USERNAME is set but no password: expected KAFKA_SASL_PASSWORD_FILE (a file) or KAFKA_SASL_PASSWORD'],
  ['producer', 'a password both inline and in a file', { KAFKA_TLS: 'true', KAFKA_SASL_USERNAME: 'producer', KAFKA_SASL_PASSWORD: 'inline', KAFKA_SASL_PASSWORD_FILE: files.password }, 'KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: expected at most one of them'],
  ['producer', 'an empty password file', { KAFKA_TLS: 'true', KAFKA_SASL_USERNAME: 'producer', KAFKA_SASL_PASSWORD_FILE: files.emptyPassword }, `KAFKA_SASL_PASSWORD_FILE="${files.emptyPassword}" is empty: expected the SCRAM password of KAFKA_SASL_USERNAME (the password key of the user's Secret)`],
  ['consumer', 'a password without a user', { KAFKA_TLS: 'true', KAFKA_SASL_PASSWORD_FILE: files.password }, 'a SASL password is set but KAFKA_SASL_USERNAME is not: expected both or neither'],
  ['producer', 'SCRAM without TLS', { KAFKA_SASL_USERNAME: 'producer', KAFKA_SASL_PASSWORD_FILE: files.password }, 'KAFKA_SASL_USERNAME is set but TLS is off: SCRAM listeners need TLS; set KAFKA_TLS_CA_FILE (or KAFKA_TLS=true to trust the system CAs)'],
  ['consumer', 'an unknown log level', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL="loud" is invalid: expected one of fatal, error, warn, info, debug, trace, silent'],
  ['producer', 'a port that is not a number', { HTTP_PORT: 'eighty' }, 'HTTP_PORT="eighty" is invalid: expected an integer from 0 to 65535'],
  ['consumer', 'a timeout with a unit', { SHUTDOWN_TIMEOUT_MS: '5s' }, 'SHUTDOWN_TIMEOUT_MS="5s" is invalid: expected an integer from 1000 to 600000'],
  ['consumer', 'a start-up wait below a second', { KAFKA_STARTUP_TIMEOUT_MS: '500' }, 'KAFKA_STARTUP_TIMEOUT_MS="500" is invalid: expected an integer from 1000 to 600000'],
  ['producer', 'an illegal topic name', { KAFKA_TOPIC: 'posts/2' }, 'KAFKA_TOPIC="posts/2" is invalid: expected a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)'],
  ['producer', 'zero messages', { MESSAGE_COUNT: '0' }, 'MESSAGE_COUNT="0" is invalid: expected an integer >= 1'],
  ['producer', 'a payload above the message limit', { PAYLOAD_SIZE: '2000000' }, 'PAYLOAD_SIZE="2000000" is invalid: expected an integer from 0 to 921600'],
  ['producer', 'an unknown key strategy', { KEY_STRATEGY: 'random' }, 'KEY_STRATEGY="random" is invalid: expected id, none or fixed:<key>'],
  ['producer', 'a fractional batch size', { BATCH_SIZE: '1.5' }, 'BATCH_SIZE="1.5" is invalid: expected an integer from 1 to 10000'],
  ['producer', 'a send timeout below a second', { SEND_TIMEOUT_MS: '100' }, 'SEND_TIMEOUT_MS="100" is invalid: expected an integer from 1000 to 3600000'],
  ['consumer', 'the DLQ is the topic itself', { KAFKA_DLQ_TOPIC: topic }, `KAFKA_DLQ_TOPIC="${topic}" is invalid: expected a topic other than KAFKA_TOPIC, or a bad message would loop`],
  ['consumer', 'a group id with a space', { KAFKA_GROUP_ID: 'posts consumer' }, 'KAFKA_GROUP_ID="posts consumer" is invalid: expected 1-255 of A-Z a-z 0-9 . _ -'],
  ['consumer', 'a session timeout below the broker minimum', { KAFKA_SESSION_TIMEOUT_MS: '1000' }, 'KAFKA_SESSION_TIMEOUT_MS="1000" is invalid: expected an integer from 6000 to 300000'],
  ['consumer', 'commits every 0 messages', { COMMIT_EVERY: '0' }, 'COMMIT_EVERY="0" is invalid: expected an integer from 1 to 100000'],
  ['consumer', 'a negative dedup cache', { DEDUP_CACHE_SIZE: '-1' }, 'DEDUP_CACHE_SIZE="-1" is invalid: expected an integer from 0 to 10000000'],
  ['producer', 'an OTLP endpoint without a scheme', { OTEL_EXPORTER_OTLP_ENDPOINT: 'alloy:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT="alloy:4318" is invalid: expected an http:// or https:// URL of an OTLP/HTTP receiver, e.g. "http://alloy.monitoring.svc.cluster.local:4318"'],
  ['consumer', 'OTLP over gRPC', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported by the services: expected http/protobuf (the default), which Alloy and the local trace backend receive on port 4318'],
  ['producer', 'an unknown sampler', { OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER="sometimes" is invalid: expected one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'],
  ['consumer', 'a sample ratio above 1', { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG="1.5" is invalid: expected the share of traces to keep, a number from 0 to 1, e.g. 0.1'],
  ['consumer', 'a resource attribute without a value', { OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name' }, 'OTEL_RESOURCE_ATTRIBUTES="k8s.pod.name" is invalid at "k8s.pod.name": expected comma-separated key=value pairs (keys of A-Z a-z 0-9 . _ - /, values percent-encoded), e.g. "k8s.namespace.name=workloads,k8s.pod.name=consumer-1"'],
  ['consumer', 'a non-boolean start position', { KAFKA_FROM_BEGINNING: 'sometimes' }, 'KAFKA_FROM_BEGINNING="sometimes" is invalid: expected true or false'],
];

/** A valid environment on the shared cluster, so each case's variables are the only problem. */
const valid: Record<Service, Record<string, string>> = {
  producer: { KAFKA_TOPIC: topic, MESSAGE_COUNT: '5' },
  consumer: { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq, KAFKA_GROUP_ID: group },
};

const running: ServiceProcess[] = [];

beforeAll(async () => {
  await admin.connect();
  await createTopics(admin, [topic, dlq]);
});

afterEach(async () => {
  for (const p of running.splice(0)) {
    p.kill('SIGKILL');
    await p.exited;
  }
});

afterAll(async () => {
  await deleteTopics(admin, [topic, dlq]);
  await admin.disconnect();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('a service with a bad environment variable', () => {
  test.each(cases)('the %s refuses %s: exit 2, the problem and its fix, nothing started', async (service, _what, env, problem) => {
    const p = new ServiceProcess(service, { ...valid[service], ...env });
    running.push(p);
    const code = await p.exited;
    expect({ code, tail: code === 2 ? '' : p.tail() }).toEqual({ code: 2, tail: '' });
    const invalid = p.events('config_invalid');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({ level: 'fatal', problems: [problem], msg: `invalid configuration:\n  - ${problem}` });
    // Refused before the HTTP server, before any Kafka client: the config line is the only output.
    expect(p.records.map((r) => r.event)).toEqual(['config_invalid']);
  }, 30_000);

  test('the valid environment those cases start from is accepted, so each refusal is down to its one variable', async () => {
    const p = new ServiceProcess('producer', valid.producer);
    running.push(p);
    expect(await p.exited).toBe(0);
    expect(p.events('summary')[0]).toMatchObject({ ok: true, requested: 5, sent: 5 });
  }, 60_000);

  test("Kafka's own tools see only the valid run's 5 messages and no consumer group from the refused runs", async () => {
    const offsets = await runKafkaTool(KafkaTools.getOffsets, ['--bootstrap-server', bootstrapServers(), '--topic', `^${topic.replace(/\./g, '\\.')}(\\.dlq)?$`]);
    const perTopic: Record<string, number> = {};
    for (const m of offsets.matchAll(/^(\S+):\d+:(\d+)$/gm)) perTopic[m[1]] = (perTopic[m[1]] ?? 0) + Number(m[2]);
    expect(perTopic).toEqual({ [topic]: 5, [dlq]: 0 });
    const groups = await runKafkaTool(KafkaTools.consumerGroups, ['--bootstrap-server', bootstrapServers(), '--list']);
    expect(groups.split('\n').map((g) => g.trim())).not.toContain(group);
  }, 60_000);
});
