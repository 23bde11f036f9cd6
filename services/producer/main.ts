import {
  KafkaClient,
  OutgoingMessage,
  createLogger,
  createMessage,
  createMetrics,
  encodeMessage,
  handleShutdown,
  loadConfigOrExit,
  sleep,
  startHttpServer,
  withTimeout,
} from '../shared';
import { ProducerConfig, loadProducerConfig } from './config';

/** One-shot job: publishes MESSAGE_COUNT messages, exits 0 only when all are acknowledged. */
async function main(): Promise<number> {
  const cfg = loadConfigOrExit('producer', () => loadProducerConfig(process.env));
  const logger = createLogger('producer', cfg.logLevel);
  const metrics = createMetrics('producer');
  const shutdown = handleShutdown(cfg.shutdownTimeoutMs, logger);
  const producer = new KafkaClient(cfg.kafka, logger).producer();
  const http = await startHttpServer(cfg.httpPort, () => producer.isConnected(), metrics, logger);

  const started = Date.now();
  let sent = 0;
  let failure: string | undefined;
  try {
    await producer.connect();
    logger.info({ event: 'start', topic: cfg.topic, count: cfg.count, rateLimit: cfg.rateLimit, batchSize: cfg.batchSize, idPrefix: cfg.idPrefix }, 'producing');
    // With a rate limit, batches hold at most 100 ms of messages so the pace stays even.
    const batchSize = cfg.rateLimit > 0 ? Math.max(1, Math.min(cfg.batchSize, Math.floor(cfg.rateLimit / 10))) : cfg.batchSize;
    while (sent < cfg.count) {
      if (shutdown.requested) throw new Error(`stopped by a signal after ${sent} of ${cfg.count} messages`);
      if (cfg.rateLimit > 0) {
        const due = started + (sent * 1000) / cfg.rateLimit;
        await Promise.race([sleep(due - Date.now()), shutdown.signal]);
        if (shutdown.requested) continue;
      }
      const batch = buildBatch(cfg, sent, Math.min(batchSize, cfg.count - sent));
      await withTimeout(producer.send(cfg.topic, batch), cfg.sendTimeoutMs, `batch of ${batch.length} from message ${sent} not acknowledged within SEND_TIMEOUT_MS=${cfg.sendTimeoutMs} ms`);
      sent += batch.length;
      metrics.produced.inc({ topic: cfg.topic }, batch.length);
    }
  } catch (err) {
    failure = (err as Error).message;
    metrics.errors.inc({ stage: 'produce' });
    logger.error({ event: 'produce_failed', err }, `producing failed: ${failure}`);
  }

  await withTimeout(producer.disconnect(), 5000, 'disconnect timed out').catch((err: Error) => logger.warn({ err }, err.message));
  await http.close();
  const durationMs = Date.now() - started;
  const summary = {
    event: 'summary',
    ok: failure === undefined,
    topic: cfg.topic,
    requested: cfg.count,
    sent,
    durationMs,
    messagesPerSecond: durationMs > 0 ? Math.round((sent * 1000) / durationMs) : sent,
    error: failure,
  };
  if (failure === undefined) logger.info(summary, `sent ${sent} messages in ${durationMs} ms`);
  else logger.error(summary, `sent ${sent} of ${cfg.count} messages: ${failure}`);
  return failure === undefined ? 0 : 1;
}

function buildBatch(cfg: ProducerConfig, first: number, size: number): OutgoingMessage[] {
  const now = new Date();
  return Array.from({ length: size }, (_, i) => {
    const message = createMessage(`${cfg.idPrefix}-${first + i}`, cfg.payloadSize, now);
    const key = cfg.keyStrategy.kind === 'id' ? message.id : cfg.keyStrategy.kind === 'fixed' ? cfg.keyStrategy.key : null;
    return { key, value: encodeMessage(message) };
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`producer failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
