import { isIP } from 'net';
import * as fs from 'fs';
import { DEFAULT_STARTUP_TIMEOUT_MS } from './kafka/startup';
import { TracingConfig, readTracingConfig } from './tracing-config';

/** Every problem found in the environment, reported together so one fix round is enough. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads typed values from environment variables and collects problems instead of
 * throwing at the first one. Each problem names the variable, the bad value and the
 * expected form. Call `done()` once everything is read.
 */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  private bad(name: string, value: string, expected: string): void {
    this.problems.push(`${name}="${value}" is invalid: expected ${expected}`);
  }

  /** Records a problem that spans several variables. */
  problem(message: string): void {
    this.problems.push(message);
  }

  string(name: string, fallback: string, pattern?: RegExp, expected?: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (pattern && !pattern.test(value)) this.bad(name, value, expected ?? `a value matching ${pattern}`);
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  required(name: string, expected: string): string {
    const value = this.raw(name);
    if (value === undefined) {
      this.problems.push(`${name} is not set: expected ${expected}`);
      return '';
    }
    return value;
  }

  int(name: string, fallback: number, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) {
      this.bad(name, value, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    this.bad(name, value, 'true or false');
    return fallback;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(choices as readonly string[]).includes(value)) {
      this.bad(name, value, `one of ${choices.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  /** A file that must exist and be readable; returns its contents. */
  file(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      return fs.readFileSync(value, 'utf8');
    } catch (err) {
      this.bad(name, value, `a readable file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      return undefined;
    }
  }

  /** Throws ConfigError with every problem found so far. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How to reach Kafka: TLS with a private CA and SCRAM-SHA-512 in clusters, plaintext locally. */
export interface KafkaConnectionConfig {
  readonly brokers: string[];
  readonly clientId: string;
  /** Present when TLS is on; `ca` undefined trusts the system CAs. */
  readonly tls?: { readonly ca?: string };
  /** Present when SASL/SCRAM-SHA-512 is on. */
  readonly sasl?: { readonly username: string; readonly password: string };
  /** How long start-up keeps trying while brokers do not answer (KAFKA_STARTUP_TIMEOUT_MS). */
  readonly startupTimeoutMs: number;
}

/** Settings every service shares. */
export interface CommonConfig {
  readonly kafka: KafkaConnectionConfig;
  readonly logLevel: LogLevel;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free port (tests). */
  readonly httpPort: number;
  /** Address that port binds to; undefined binds every interface (pods). 127.0.0.1 on a shared host network. */
  readonly httpHost?: string;
  /** Deadline for a graceful stop after SIGTERM/SIGINT. */
  readonly shutdownTimeoutMs: number;
  /** Traces: the standard OTEL_* variables. */
  readonly tracing: TracingConfig;
}

const BROKER = /^[A-Za-z0-9.-]+:(\d{1,5})$/;
const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
export const TOPIC_EXPECTED = 'a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)';

export function readTopic(r: EnvReader, name: string, fallback: string): string {
  return r.string(name, fallback, TOPIC, TOPIC_EXPECTED);
}

/** HTTP_HOST: an IP address or a host name, when set. */
function readHttpHost(r: EnvReader): string | undefined {
  const host = r.optionalString('HTTP_HOST');
  if (host !== undefined && isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(host)) {
    r.problem(`HTTP_HOST="${host}" is invalid: expected an IP address such as 127.0.0.1, or a host name`);
  }
  return host;
}

/** Reads the variables shared by the producer and the consumer. */
export function readCommonConfig(r: EnvReader, service: string): CommonConfig {
  const brokersRaw = r.required('KAFKA_BROKERS', 'comma-separated host:port list, e.g. "kafka-1:9092,kafka-2:9092"');
  const brokers = brokersRaw.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  if (brokersRaw !== '') {
    const invalid = brokers.filter((b) => {
      const m = BROKER.exec(b);
      return !m || Number(m[1]) < 1 || Number(m[1]) > 65535;
    });
    if (invalid.length > 0 || brokers.length === 0) {
      r.problem(`KAFKA_BROKERS="${brokersRaw}" is invalid: expected comma-separated host:port list with ports 1-65535 (bad: ${invalid.join(', ') || 'empty'})`);
    }
  }

  const ca = r.file('KAFKA_TLS_CA_FILE');
  const caPath = r.optionalString('KAFKA_TLS_CA_FILE');
  if (ca !== undefined) {
    // Caught here, the mistake names the variable; kafkajs would only fail the TLS handshake later.
    if (PRIVATE_KEY.test(ca)) r.problem(`KAFKA_TLS_CA_FILE="${caPath}" contains a private key: mount only the CA certificate (ca.crt), never its key`);
    else if (!CERTIFICATE.test(ca)) r.problem(`KAFKA_TLS_CA_FILE="${caPath}" is invalid: expected a PEM certificate (-----BEGIN CERTIFICATE-----), e.g. ca.crt of the cluster CA Secret`);
  }
  const tlsDefault = caPath !== undefined;
  const tlsOn = r.bool('KAFKA_TLS', tlsDefault);
  if (!tlsOn && tlsDefault) r.problem('KAFKA_TLS=false contradicts KAFKA_TLS_CA_FILE: unset one of them');

  const username = r.optionalString('KAFKA_SASL_USERNAME');
  const passwordFromEnv = r.optionalString('KAFKA_SASL_PASSWORD');
  const passwordFromFile = r.file('KAFKA_SASL_PASSWORD_FILE')?.trim();
  if (passwordFromEnv !== undefined && r.optionalString('KAFKA_SASL_PASSWORD_FILE') !== undefined) {
    r.problem('KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set: expected at most one of them');
  }
  if (passwordFromFile === '') {
    r.problem(`KAFKA_SASL_PASSWORD_FILE="${r.optionalString('KAFKA_SASL_PASSWORD_FILE')}" is empty: expected the SCRAM password of KAFKA_SASL_USERNAME (the password key of the user's Secret)`);
  }
  if (username !== undefined && !tlsOn) {
    // Every SCRAM listener of the platform is SASL_SSL; without TLS the handshake fails with a bare disconnect.
    r.problem('KAFKA_SASL_USERNAME is set but TLS is off: SCRAM listeners need TLS; set KAFKA_TLS_CA_FILE (or KAFKA_TLS=true to trust the system CAs)');
  }
  const password = passwordFromFile ?? passwordFromEnv;
  if (username !== undefined && password === undefined && r.optionalString('KAFKA_SASL_PASSWORD_FILE') === undefined) {
    r.problem('KAFKA_SASL_USERNAME is set but no password: expected KAFKA_SASL_PASSWORD_FILE (a file) or KAFKA_SASL_PASSWORD');
  }
  if (username === undefined && (passwordFromEnv !== undefined || passwordFromFile !== undefined)) {
    r.problem('a SASL password is set but KAFKA_SASL_USERNAME is not: expected both or neither');
  }

  return {
    kafka: {
      brokers,
      clientId: r.string('KAFKA_CLIENT_ID', service, /^[A-Za-z0-9._-]{1,255}$/, 'letters, digits, ".", "_" or "-"'),
      tls: tlsOn ? { ca } : undefined,
      sasl: username !== undefined && password !== undefined ? { username, password } : undefined,
      startupTimeoutMs: r.int('KAFKA_STARTUP_TIMEOUT_MS', DEFAULT_STARTUP_TIMEOUT_MS, 1000, 600_000),
    },
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    httpPort: r.int('HTTP_PORT', 8080, 0, 65535),
    httpHost: readHttpHost(r),
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 20000, 1000, 600000),
    tracing: readTracingConfig(r, service),
  };
}
