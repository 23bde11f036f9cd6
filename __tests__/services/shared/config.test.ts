import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, EnvReader, readCommonConfig } from '../../../services/shared/config';

function common(env: Record<string, string>) {
  const r = new EnvReader(env);
  const config = readCommonConfig(r, 'svc');
  r.done();
  return config;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('shared service configuration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svc-config-'));
  const caFile = path.join(dir, 'ca.crt');
  const passwordFile = path.join(dir, 'password');
  fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  fs.writeFileSync(passwordFile, 's3cret\n');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('local defaults: plaintext, no SASL, port 8080, info logs, no tracing', () => {
    expect(common({ KAFKA_BROKERS: '127.0.0.1:29092, 127.0.0.1:29093' })).toEqual({
      kafka: { brokers: ['127.0.0.1:29092', '127.0.0.1:29093'], clientId: 'svc', tls: undefined, sasl: undefined, startupTimeoutMs: 30_000 },
      logLevel: 'info',
      httpPort: 8080,
      shutdownTimeoutMs: 20000,
      tracing: expect.objectContaining({ enabled: false, serviceName: 'svc' }),
    });
  });

  test('cluster settings: TLS with the CA file, SCRAM credentials from a file', () => {
    const config = common({
      KAFKA_BROKERS: 'platform-kafka-bootstrap.kafka.svc:9093',
      KAFKA_TLS_CA_FILE: caFile,
      KAFKA_SASL_USERNAME: 'producer',
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
    });
    expect(config.kafka.tls?.ca).toContain('BEGIN CERTIFICATE');
    // The trailing newline of a mounted Secret file is not part of the password.
    expect(config.kafka.sasl).toEqual({ username: 'producer', password: 's3cret' });
  });

  test('every problem is reported at once, each naming the variable, the value and the expected form', () => {
    const problems = problemsOf(() =>
      common({
        KAFKA_BROKERS: 'kafka-1:9092,kafka-2',
        KAFKA_TLS_CA_FILE: path.join(dir, 'missing.crt'),
        KAFKA_SASL_USERNAME: 'producer',
        HTTP_PORT: '70000',
        LOG_LEVEL: 'verbose',
        SHUTDOWN_TIMEOUT_MS: '5s',
      }),
    );
    expect(problems).toEqual([
      'KAFKA_BROKERS="kafka-1:9092,kafka-2" is invalid: expected comma-separated host:port list with ports 1-65535 (bad: kafka-2)',
      `KAFKA_TLS_CA_FILE="${path.join(dir, 'missing.crt')}" is invalid: expected a readable file (ENOENT)`,
      'KAFKA_SASL_USERNAME is set but no password: expected KAFKA_SASL_PASSWORD_FILE (a file) or KAFKA_SASL_PASSWORD',
      'LOG_LEVEL="verbose" is invalid: expected one of fatal, error, warn, info, debug, trace, silent',
      'HTTP_PORT="70000" is invalid: expected an integer from 0 to 65535',
      'SHUTDOWN_TIMEOUT_MS="5s" is invalid: expected an integer from 1000 to 600000',
    ]);
  });

  test('HTTP_HOST narrows the probe and metrics port to one address; anything but an address or host name is refused', () => {
    expect(common({ KAFKA_BROKERS: 'k:1', HTTP_HOST: '127.0.0.1' }).httpHost).toBe('127.0.0.1');
    expect(common({ KAFKA_BROKERS: 'k:1' }).httpHost).toBeUndefined();
    expect(problemsOf(() => common({ KAFKA_BROKERS: 'k:1', HTTP_HOST: 'http://127.0.0.1' }))).toEqual([
      'HTTP_HOST="http://127.0.0.1" is invalid: expected an IP address such as 127.0.0.1, or a host name',
    ]);
  });

  test('a missing KAFKA_BROKERS says what to set', () => {
    expect(problemsOf(() => common({}))).toEqual(['KAFKA_BROKERS is not set: expected comma-separated host:port list, e.g. "kafka-1:9092,kafka-2:9092"']);
  });

  test('contradictory settings are refused', () => {
    expect(problemsOf(() => common({ KAFKA_BROKERS: 'k:1', KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: caFile }))).toEqual([
      'KAFKA_TLS=false contradicts KAFKA_TLS_CA_FILE: unset one of them',
    ]);
    expect(problemsOf(() => common({ KAFKA_BROKERS: 'k:1', KAFKA_TLS: 'true', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_SASL_PASSWORD_FILE: passwordFile }))).toEqual([
      'KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: expected at most one of them',
    ]);
    expect(problemsOf(() => common({ KAFKA_BROKERS: 'k:1', KAFKA_SASL_PASSWORD: 'p' }))).toEqual([
      'a SASL password is set but KAFKA_SASL_USERNAME is not: expected both or neither',
    ]);
    expect(problemsOf(() => common({ KAFKA_BROKERS: 'k:1', KAFKA_TLS: 'maybe' }))).toEqual(['KAFKA_TLS="maybe" is invalid: expected true or false']);
  });

  test('TLS without a CA file trusts the system CAs', () => {
    expect(common({ KAFKA_BROKERS: 'k:1', KAFKA_TLS: 'true' }).kafka.tls).toEqual({ ca: undefined });
  });

  test('the error message lists the problems one per line', () => {
    const err = new ConfigError(['A is bad', 'B is bad']);
    expect(err.message).toBe('invalid configuration:\n  - A is bad\n  - B is bad');
  });
});
