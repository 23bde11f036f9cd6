import {
  BatchHandler,
  IncomingBatch,
  IncomingMessage,
  KafkaClient,
  ConsumedFrom,
  INVALID_MESSAGE_ERROR,
  createLogger,
  createMetrics,
  createTracing,
  digest,
  handleShutdown,
  loadConfigOrExit,
  logProcessWarnings,
  parseMessage,
  startHttpServer,
  traceLogFields,
  traceparentOf,
  withTimeout,
} from '../shared';
import { Span, SpanStatusCode } from '@opentelemetry/api';
import { loadConsumerConfig } from './config';
import { RecentIds } from './recent-ids';

/**
 * Long-running group member. At-least-once: a message's offset is committed only after it
 * was processed (validated, counted, logged at debug), or forwarded to the DLQ and acknowledged
 * there. Redeliveries are counted. Per-message work is synchronous; what can be done once per
 * fetched batch (metrics, heartbeat, commit) is done once per batch.
 */
async function main(): Promise<number> {
  const cfg = loadConfigOrExit('consumer', () => loadConsumerConfig(process.env));
  const logger = createLogger('consumer', cfg.logLevel);
  logProcessWarnings(logger);
  const metrics = createMetrics('consumer');
  const shutdown = handleShutdown(cfg.shutdownTimeoutMs, logger);
  const client = new KafkaClient(cfg.kafka, logger);
  const tracing = createTracing(cfg.tracing, cfg.kafka.clientId);
  const dlq = client.producer();
  const consumer = client.consumer({
    groupId: cfg.groupId,
    topic: cfg.topic,
    fromBeginning: cfg.fromBeginning,
    sessionTimeoutMs: cfg.sessionTimeoutMs,
    fetch: cfg.fetch,
    commit: { everyMessages: cfg.commitEvery, intervalMs: cfg.commitIntervalMs },
    partitionsConsumedConcurrently: cfg.partitionsConsumedConcurrently,
    onFatal: (err) => {
      logger.fatal({ event: 'fatal', err }, `consumer cannot continue: ${err.message}`);
      process.exit(1);
    },
  }, cfg.library);
  const http = await startHttpServer(cfg.httpPort, () => !shutdown.requested && consumer.isReady() && dlq.isConnected(), metrics, logger);

  const stats = { processed: 0, duplicates: 0, dlq: 0 };
  const recent = new RecentIds(cfg.dedupCacheSize);

  /** `span`: the message's consumer span, if it was sampled; `startedAt`: when its processing began. */
  const toDlq = async (batch: IncomingBatch, m: IncomingMessage, error: string, span: Span | undefined, startedAt: number) => {
    const headers: Record<string, string | Buffer> = {
      ...definedHeaders(m.headers),
      'dlq.error.message': error,
      'dlq.original.topic': batch.topic,
      'dlq.original.partition': String(batch.partition),
      'dlq.original.offset': m.offset,
      'dlq.original.timestamp': m.timestamp,
      'dlq.consumer.group': cfg.groupId,
      'dlq.failed.at': new Date().toISOString(),
    };
    // Kept whatever the sampling: the failed processing, and the DLQ send whose context the record carries on.
    const failed = tracing?.processFailed(span, consumedFrom(batch), m, startedAt, INVALID_MESSAGE_ERROR, error);
    const dlqSpan = failed ? tracing!.startDeadLetter(failed, cfg.dlqTopic, headers, INVALID_MESSAGE_ERROR, error) : undefined;
    try {
      await dlq.send(cfg.dlqTopic, [{ key: m.key, value: m.value ?? Buffer.alloc(0), headers }]);
    } catch (err) {
      dlqSpan?.recordException(err as Error);
      dlqSpan?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      dlqSpan?.end();
      failed?.end();
    }
    stats.dlq++;
    metrics.dlq.inc({ topic: cfg.topic });
    logger.warn(
      { event: 'dlq', topic: batch.topic, partition: batch.partition, offset: m.offset, dlqTopic: cfg.dlqTopic, error, ...traceLogFields(dlqSpan) },
      `malformed message sent to ${cfg.dlqTopic}: ${error}`,
    );
  };
  // One object per partition and batch, not per message.
  let lastFrom: ConsumedFrom | undefined;
  const consumedFrom = (batch: IncomingBatch): ConsumedFrom =>
    lastFrom && lastFrom.topic === batch.topic && lastFrom.partition === batch.partition ? lastFrom : (lastFrom = { topic: batch.topic, partition: batch.partition, group: cfg.groupId });

  // One line per message only at debug: at info a busy consumer would spend most of its time
  // writing them (bench/: a third of its CPU), and the metrics carry the counts and latency.
  const logEachMessage = logger.isLevelEnabled('debug');
  const consumed = metrics.consumed.labels({ topic: cfg.topic });
  const duplicates = metrics.duplicates.labels({ topic: cfg.topic });
  const observeLatency = metrics.latency.series({ topic: cfg.topic });

  /** Processes one message; returns a promise only when it goes to the DLQ. */
  const process1 = (batch: IncomingBatch, m: IncomingMessage, now: number): Promise<void> | undefined => {
    const span = tracing?.startProcess(consumedFrom(batch), m);
    const parsed = parseMessage(m.value);
    if (!parsed.ok) return toDlq(batch, m, parsed.error, span, now);
    const { id, createdAt, payload } = parsed.message;
    const duplicate = recent.remember(id);
    const latencyMs = now - parsed.createdAtMs;
    stats.processed++;
    if (duplicate) {
      stats.duplicates++;
      duplicates.inc();
    }
    observeLatency(Math.max(0, latencyMs) / 1000);
    if (logEachMessage) {
      logger.debug(
        {
          event: 'message',
          id,
          createdAt,
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key?.toString('utf8') ?? null,
          payloadBytes: Buffer.byteLength(payload),
          payloadDigest: digest(payload),
          latencyMs,
          duplicate,
          recordTimestamp: Number(m.timestamp),
          ...(tracing ? traceLogFields(span ?? traceparentOf(m)) : {}),
        },
        'processed',
      );
    }
    span?.end();
    return undefined;
  };

  // Commits follow COMMIT_EVERY and COMMIT_INTERVAL_MS (the client wrapper commits at batch ends, when idle and before a stop).
  const handler: BatchHandler = async (batch, control) => {
    const before = stats.processed;
    try {
      for (const m of batch.messages) {
        if (!control.shouldContinue()) break;
        const forwarding = process1(batch, m, Date.now());
        if (forwarding) await forwarding;
        if (control.markProcessed(m.offset)) {
          await control.commit();
          await control.heartbeat();
        }
      }
    } catch (err) {
      metrics.errors.inc({ stage: 'consume' });
      logger.error({ event: 'batch_failed', err }, `batch failed, unprocessed messages will be redelivered: ${(err as Error).message}`);
      // Keep what was done: fewer redeliveries after the client restarts the batch.
      await control.commit().catch(() => undefined);
      throw err;
    } finally {
      const valid = stats.processed - before;
      if (valid > 0) consumed.inc(valid);
    }
    await control.heartbeat();
  };

  try {
    await client.requireTopics([
      { topic: cfg.topic, setting: 'KAFKA_TOPIC', operation: 'Read' },
      // Checked now, not when the first malformed message needs it.
      { topic: cfg.dlqTopic, setting: 'KAFKA_DLQ_TOPIC', operation: 'Write' },
    ]);
    await dlq.connect();
    await consumer.start(handler);
    logger.info({ event: 'start', topic: cfg.topic, dlqTopic: cfg.dlqTopic, groupId: cfg.groupId }, `consuming ${cfg.topic} as ${cfg.groupId}`);
  } catch (err) {
    metrics.errors.inc({ stage: 'connect' });
    logger.fatal({ event: 'start_failed', err }, `cannot start consuming: ${(err as Error).message}`);
    await http.close();
    return 1;
  }

  await shutdown.signal;
  let code = 0;
  try {
    // Stops fetching, lets the running batch finish its current message and commit, leaves the group.
    await consumer.stop();
    await withTimeout(dlq.disconnect(), 5000, 'DLQ producer disconnect timed out');
  } catch (err) {
    code = 1;
    logger.error({ event: 'stop_failed', err }, `stopping failed: ${(err as Error).message}`);
  }
  // The spans of the last messages are still queued: exported before the process ends.
  if (tracing) await withTimeout(tracing.shutdown(), 10_000, 'exporting the last spans timed out').catch((err: Error) => logger.warn({ event: 'trace_export_failed', err }, err.message));
  await http.close();
  logger.info({ event: 'stopped', ...stats }, `stopped after ${stats.processed} messages (${stats.duplicates} redelivered, ${stats.dlq} to DLQ)`);
  return code;
}

function definedHeaders(headers: IncomingMessage['headers']): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  return out;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`consumer failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
