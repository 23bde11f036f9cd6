import { setTimeout as sleep } from 'timers/promises';
import type { Logger } from '../observability';

/**
 * Kafka's `broker.session.timeout.ms` default, which the platform's brokers keep: a broker that
 * died without a word is fenced, and its partitions led elsewhere, only this long after its last
 * heartbeat. Until then the metadata still names it, and kafkajs connects to it.
 */
export const BROKER_FENCING_WINDOW_MS = 9_000;

/**
 * How long start-up keeps trying while brokers do not answer (`KAFKA_STARTUP_TIMEOUT_MS`): the
 * fencing window twice over (a controller failover can follow a broker's) plus 12 s for the
 * leader elections and a metadata round after it.
 */
export const DEFAULT_STARTUP_TIMEOUT_MS = 2 * BROKER_FENCING_WINDOW_MS + 12_000;

/** What start-up is waiting out, and what it names when it gives up. */
export interface StartupRetry {
  /** The brokers the client was given (KAFKA_BROKERS), named in the final error. */
  readonly brokers: readonly string[];
  /** Give up this long after the first attempt. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

const FIRST_PAUSE_MS = 250;
const LONGEST_PAUSE_MS = 2_000;

/**
 * kafkajs errors that mean "a broker did not answer (yet)", also under its retry wrapper. A
 * dead but not yet fenced broker gives ECONNREFUSED or a timeout, and kafkajs' metadata calls give
 * up on the first such broker instead of asking the next (its withBroker connects outside its
 * try). Anything else (an unknown topic, a refused login, a bad certificate name) is a mistake that
 * waiting does not fix.
 */
const BROKER_UNAVAILABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);
/** Retriable protocol errors of a cluster that is moving leaders or coordinators. */
const MOVING = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'NOT_CONTROLLER',
]);

type ErrorLike = { name?: unknown; type?: unknown; message?: unknown; code?: unknown; cause?: unknown; originalError?: unknown; retriable?: unknown };

/**
 * Node's codes for a broker certificate the client does not trust or that names another host.
 * kafkajs reports them as a KafkaJSConnectionError, like a refused connection, but no wait
 * fixes them: Kafka's Java client treats them as fatal too (SslAuthenticationException).
 */
const CERTIFICATE_REFUSED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when `err` (or what it wraps) is a broker certificate the client refused (CERTIFICATE_REFUSED). */
export function isCertificateRefused(err: unknown): boolean {
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 6; depth++) {
    if (typeof e.code === 'string' && CERTIFICATE_REFUSED.has(e.code)) return true;
    e = (e.originalError ?? e.cause) as ErrorLike | undefined;
  }
  return false;
}

/** True when `err` (or what it wraps) says a broker is down or the cluster is failing over. */
export function isBrokerUnavailable(err: unknown): boolean {
  if (isCertificateRefused(err)) return false;
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 6; depth++) {
    if (typeof e.name === 'string' && BROKER_UNAVAILABLE.has(e.name)) return true;
    if (typeof e.type === 'string' && MOVING.has(e.type)) return true;
    if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH') return true;
    e = (e.originalError ?? e.cause) as ErrorLike | undefined;
  }
  return false;
}

/**
 * Runs one start-up step, and runs it again while brokers are unavailable, until `timeoutMs`
 * after the first attempt: a service started while one broker of three is down (a node failure
 * that took a broker and a consumer pod together) starts once the cluster has fenced it, instead of
 * exiting into a crash loop. Logs each wait (`start_waiting`). Any other error fails at once.
 */
export async function untilBrokersAnswer<T>(step: string, run: () => Promise<T>, retry: StartupRetry, unavailable: (err: unknown) => boolean = isBrokerUnavailable): Promise<T> {
  const started = Date.now();
  let pause = FIRST_PAUSE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!unavailable(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const elapsedMs = Date.now() - started;
      if (elapsedMs + pause > retry.timeoutMs) {
        throw new Error(
          `${step}: the brokers did not answer within KAFKA_STARTUP_TIMEOUT_MS=${retry.timeoutMs} ms (${attempt} attempts, KAFKA_BROKERS=${retry.brokers.join(',')}): ${message}. ` +
            'Check that the brokers are up and reachable from here, or raise KAFKA_STARTUP_TIMEOUT_MS',
        );
      }
      retry.logger.warn(
        { event: 'start_waiting', step, attempt, elapsedMs, timeoutMs: retry.timeoutMs, err: { name: (err as ErrorLike).name, message } },
        `${step}: a broker is not answering (${message}); trying again in ${pause} ms, until ${retry.timeoutMs} ms after the first attempt`,
      );
      await sleep(pause);
      pause = Math.min(LONGEST_PAUSE_MS, pause * 2);
    }
  }
}
