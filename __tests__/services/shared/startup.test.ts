import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } from 'kafkajs';
import pino from 'pino';
import { DEFAULT_STARTUP_TIMEOUT_MS, isBrokerUnavailable, untilBrokersAnswer } from '../../../services/shared/kafka/startup';
import { platformaticRetriable } from '../../../services/shared/kafka/platformatic-consumer';

/**
 * The start-up wait of services/shared/kafka/startup.ts with kafkajs' own error classes: what a
 * dead, not yet fenced broker makes kafkajs throw is waited out, a mistake fails at once, and the
 * final error names the brokers and the setting. (The real outage start is __tests__/chaos/outage-start.)
 */

const lines: Record<string, unknown>[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
const retry = (timeoutMs: number) => ({ brokers: ['127.0.0.1:1', '127.0.0.1:2'], timeoutMs, logger });
// kafkajs' typings lag its constructors: a protocol error is made from the broker's error entry.
const protocolError = (type: string, code: number) =>
  new KafkaJSProtocolError(Object.assign(new Error(type), { type, code, retriable: true }) as unknown as string);
const loginRefused = () => new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)('SASL SCRAM SHA512 authentication failed, reason: Authentication failed');
const refused = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:2', { broker: '127.0.0.1:2', code: 'ECONNREFUSED' });

beforeEach(() => (lines.length = 0));

test('the default outlasts the fencing of a dead broker twice over', () => {
  expect(DEFAULT_STARTUP_TIMEOUT_MS).toBeGreaterThanOrEqual(2 * 9_000);
});

test('what a dead broker makes kafkajs throw is waited out; mistakes are not', () => {
  expect(isBrokerUnavailable(refused())).toBe(true);
  // kafkajs' retrier wraps the last error.
  expect(isBrokerUnavailable(new KafkaJSNumberOfRetriesExceeded(refused(), { retryCount: 2, retryTime: 600 }))).toBe(true);
  expect(isBrokerUnavailable(protocolError('LEADER_NOT_AVAILABLE', 5))).toBe(true);
  expect(isBrokerUnavailable(loginRefused())).toBe(false);
  // A broker certificate the client does not trust comes as the same kafkajs error as a refused connection.
  const untrusted = (code: string) => new KafkaJSConnectionError(`Connection error: ${code.toLowerCase()}`, { broker: '127.0.0.1:2', code });
  expect(isBrokerUnavailable(untrusted('SELF_SIGNED_CERT_IN_CHAIN'))).toBe(false);
  expect(isBrokerUnavailable(new KafkaJSNumberOfRetriesExceeded(untrusted('ERR_TLS_CERT_ALTNAME_INVALID'), { retryCount: 2, retryTime: 600 }))).toBe(false);
  // @platformatic/kafka wraps the socket's error in a retriable NetworkError (its GenericError: code, canRetry, cause).
  const platformaticNetworkError = (cause: Error) => Object.assign(new Error('Connection to 127.0.0.1:2 failed.', { cause }), { code: 'PLT_KFK_NETWORK', canRetry: true });
  const socketError = (code: string) => Object.assign(new Error(code.toLowerCase()), { code });
  expect(platformaticRetriable(platformaticNetworkError(socketError('ECONNREFUSED')))).toBe(true);
  expect(platformaticRetriable(platformaticNetworkError(socketError('SELF_SIGNED_CERT_IN_CHAIN')))).toBe(false);
  expect(platformaticRetriable(new AggregateError([platformaticNetworkError(socketError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'))]))).toBe(false);
  expect(isBrokerUnavailable(protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3))).toBe(false);
  expect(isBrokerUnavailable(new Error('topic "posts" (KAFKA_TOPIC) does not exist'))).toBe(false);
});

test('a step that fails while a broker is down is tried again until it succeeds, each wait logged', async () => {
  let calls = 0;
  const result = await untilBrokersAnswer(
    'topic check',
    async () => {
      if (++calls < 3) throw refused();
      return 'ok';
    },
    retry(10_000),
  );
  expect({ result, calls }).toEqual({ result: 'ok', calls: 3 });
  expect(lines.map((l) => [l.event, l.step, l.attempt])).toEqual([
    ['start_waiting', 'topic check', 1],
    ['start_waiting', 'topic check', 2],
  ]);
});

test('any other error fails at once', async () => {
  let calls = 0;
  await expect(
    untilBrokersAnswer(
      'topic check',
      async () => {
        calls++;
        throw loginRefused();
      },
      retry(10_000),
    ),
  ).rejects.toThrow('SASL SCRAM SHA512 authentication failed');
  expect(calls).toBe(1);
});

test('past the timeout it fails with an error naming the step, the brokers, the last error and the setting', async () => {
  const started = Date.now();
  await expect(
    untilBrokersAnswer(
      'consumer connect',
      async () => {
        throw refused();
      },
      retry(1_000),
    ),
  ).rejects.toThrow(
    /^consumer connect: the brokers did not answer within KAFKA_STARTUP_TIMEOUT_MS=1000 ms \(\d+ attempts, KAFKA_BROKERS=127\.0\.0\.1:1,127\.0\.0\.1:2\): Connection error: connect ECONNREFUSED 127\.0\.0\.1:2\. Check that the brokers are up and reachable from here, or raise KAFKA_STARTUP_TIMEOUT_MS$/,
  );
  expect(Date.now() - started).toBeLessThan(1_500);
});
