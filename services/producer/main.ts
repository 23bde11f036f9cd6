import {
  KafkaClient,
  OutgoingMessage,
  ProducerPipeline,
  createLogger,
  createMetrics,
  createTracing,
  encodeNewMessage,
  handleShutdown,
  loadConfigOrExit,
  logProcessWarnings,
  sleep,
  startHttpServer,
  withTimeout,
} from '../shared';
import { ProducerConfig, loadProducerConfig } from './config';

/**
 * One-shot job: publishes MESSAGE_COUNT messages, exits 0 only when all are acknowledged.
 * Every partition has a request in flight at the same time (ProducerPipeline), each with its
 * messages in order; generation waits while MAX_BUFFERED_MESSAGES are unacknowledged.
 */
async function main(): Promise<number> {
  const cfg = loadConfigOrExit('producer', () => loadProducerConfig(process.env));
  const logger = createLogger('producer', cfg.logLevel);
  logProcessWarnings(logger);
  const metrics = createMetrics('producer');
  const shutdown = handleShutdown(cfg.shutdownTimeoutMs, logger);
  const client = new KafkaClient(cfg.kafka, logger);
  const tracing = createTracing(cfg.tracing, cfg.kafka.clientId);
  const producer = client.producer({ compression: cfg.compression, sessions: cfg.sessions });
  // Not ready while start-up waits for brokers (KAFKA_STARTUP_TIMEOUT_MS).
  let topicChecked = false;
  const http = await startHttpServer(cfg.httpPort, () => topicChecked && producer.isConnected(), metrics, logger);
  const produced = metrics.produced.labels({ topic: cfg.topic });
  const debug = logger.isLevelEnabled('debug');
  let acknowledged = 0;
  const pipeline = new ProducerPipeline(
    producer,
    cfg.topic,
    { batchSize: cfg.batchSize, lingerMs: cfg.lingerMs, maxBuffered: cfg.maxBufferedMessages, sendTimeoutMs: cfg.sendTimeoutMs },
    (ack) => {
      acknowledged += ack.messages;
      produced.inc(ack.messages);
      if (debug) logger.debug({ event: 'acked', topic: cfg.topic, ...ack }, 'acknowledged');
    },
    tracing,
  );

  const started = Date.now();
  let failure: string | undefined;
  try {
    await producer.connect();
    await client.requireTopics([{ topic: cfg.topic, setting: 'KAFKA_TOPIC', operation: 'Write' }]);
    topicChecked = true;
    logger.info(
      { event: 'start', topic: cfg.topic, count: cfg.count, rateLimit: cfg.rateLimit, batchSize: cfg.batchSize, lingerMs: cfg.lingerMs, compression: cfg.compression, idPrefix: cfg.idPrefix },
      'producing',
    );
    const paceFrom = Date.now();
    let generated = 0;
    while (generated < cfg.count && !shutdown.requested) {
      let size = Math.min(cfg.batchSize, cfg.count - generated);
      if (cfg.rateLimit > 0) {
        // Messages are created when they are due, a few at a time, so the pace is even and each
        // message's createdAt is when it was due, not when a larger batch was started.
        const due = Math.floor(((Date.now() - paceFrom) * cfg.rateLimit) / 1000) + 1;
        if (due <= generated) {
          await Promise.race([sleep(Math.max(1, paceFrom + ((generated + 1) * 1000) / cfg.rateLimit - Date.now())), shutdown.signal]);
          continue;
        }
        size = Math.min(size, due - generated);
      }
      await pipeline.push(buildBatch(cfg, generated, size));
      generated += size;
    }
    // On a stop signal: what was generated is still sent and awaited, nothing more is generated.
    await pipeline.flush();
    if (generated < cfg.count) throw new Error(`stopped by a signal after ${generated} of ${cfg.count} messages`);
  } catch (err) {
    failure = (err as Error).message;
    metrics.errors.inc({ stage: 'produce' });
    logger.error({ event: 'produce_failed', err }, `producing failed: ${failure}`);
  }

  await withTimeout(producer.disconnect(), 5000, 'disconnect timed out').catch((err: Error) => logger.warn({ err }, err.message));
  // The spans of the last messages are still queued: exported before the process ends.
  if (tracing) await withTimeout(tracing.shutdown(), 10_000, 'exporting the last spans timed out').catch((err: Error) => logger.warn({ event: 'trace_export_failed', err }, err.message));
  await http.close();
  const durationMs = Date.now() - started;
  // Acknowledged in order from the first message on: ids <prefix>-0 .. <prefix>-(sent-1) are all in the topic.
  const sent = pipeline.acknowledgedPrefix();
  const summary = {
    event: 'summary',
    ok: failure === undefined,
    topic: cfg.topic,
    requested: cfg.count,
    sent,
    acknowledged,
    durationMs,
    messagesPerSecond: durationMs > 0 ? Math.round((sent * 1000) / durationMs) : sent,
    error: failure,
  };
  if (failure === undefined) logger.info(summary, `sent ${sent} messages in ${durationMs} ms`);
  else logger.error(summary, `sent ${sent} of ${cfg.count} messages: ${failure}`);
  return failure === undefined ? 0 : 1;
}

function buildBatch(cfg: ProducerConfig, first: number, size: number): OutgoingMessage[] {
  const createdAt = new Date().toISOString();
  const out: OutgoingMessage[] = new Array(size);
  for (let i = 0; i < size; i++) {
    const id = `${cfg.idPrefix}-${first + i}`;
    const key = cfg.keyStrategy.kind === 'id' ? id : cfg.keyStrategy.kind === 'fixed' ? cfg.keyStrategy.key : null;
    out[i] = { key, value: encodeNewMessage(id, cfg.payloadSize, createdAt) };
  }
  return out;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`producer failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
