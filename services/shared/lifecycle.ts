import { ConfigError } from './config';
import { Logger, createLogger } from './observability';

export interface Shutdown {
  /** True once a stop signal arrived. */
  readonly requested: boolean;
  /** Resolves when a stop signal arrives. */
  readonly signal: Promise<NodeJS.Signals>;
}

/**
 * Turns SIGTERM/SIGINT into a promise and arms a deadline: if the graceful stop takes
 * longer than `timeoutMs`, the process exits with 1 before the kubelet's SIGKILL, with a
 * log line that says so. A second signal exits at once.
 */
export function handleShutdown(timeoutMs: number, logger: Logger): Shutdown {
  let requested = false;
  let resolveSignal: (s: NodeJS.Signals) => void = () => undefined;
  const signal = new Promise<NodeJS.Signals>((resolve) => (resolveSignal = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    if (requested) {
      logger.warn({ event: 'shutdown_forced', signal: sig }, `second ${sig}: exiting now`);
      process.exit(130);
    }
    requested = true;
    logger.info({ event: 'shutdown_requested', signal: sig, timeoutMs }, `${sig} received: stopping gracefully`);
    const timer = setTimeout(() => {
      logger.error({ event: 'shutdown_timeout', timeoutMs }, `graceful stop exceeded ${timeoutMs} ms: exiting`);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    resolveSignal(sig);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    get requested() {
      return requested;
    },
    signal,
  };
}

/**
 * Node.js process warnings as log lines, so stderr carries nothing a log pipeline cannot parse.
 * One is dropped: kafkajs 2.2.4 arms its request-queue timer with a negative delay whenever it is
 * not throttled; Node.js runs such a timer after 1 ms, as it always did, but Node.js 24 also warns
 * (TimeoutNegativeWarning) every time.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    logger.warn({ event: 'process_warning', warning: { name: warning.name, message: warning.message } }, `${warning.name}: ${warning.message}`);
  });
}

/** Exit code for a configuration problem, distinct from runtime failures (1). */
export const EXIT_CONFIG = 2;

/** Parses the config or exits with EXIT_CONFIG and one log line listing every problem. */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger(service).fatal({ event: 'config_invalid', problems: err.problems }, err.message);
    process.exit(EXIT_CONFIG);
  }
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** Rejects with `message` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
