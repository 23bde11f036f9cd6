import {
  BatchHandler,
  IncomingMessage,
  KafkaClient,
  createLogger,
  createMetrics,
  digest,
  handleShutdown,
  loadConfigOrExit,
  parseMessage,
  startHttpServer,
  withTimeout,
} from '../shared';
import { loadConsumerConfig } from './config';

/**
 * Long-running group member. At-least-once: a message's offset is committed only after it
 * was logged, or forwarded to the DLQ and acknowledged there. Redeliveries are counted.
 */
async function main(): Promise<number> {
  const cfg = loadConfigOrExit('consumer', () => loadConsumerConfig(process.env));
  const logger = createLogger('consumer', cfg.logLevel);
  const metrics = createMetrics('consumer');
  const shutdown = handleShutdown(cfg.shutdownTimeoutMs, logger);
  const client = new KafkaClient(cfg.kafka, logger);
  const dlq = client.producer();
  const consumer = client.consumer({
    groupId: cfg.groupId,
    topic: cfg.topic,
    fromBeginning: cfg.fromBeginning,
    sessionTimeoutMs: cfg.sessionTimeoutMs,
    onFatal: (err) => {
      logger.fatal({ event: 'fatal', err }, `consumer cannot continue: ${err.message}`);
      process.exit(1);
    },
  });
  const http = await startHttpServer(cfg.httpPort, () => !shutdown.requested && consumer.isReady() && dlq.isConnected(), metrics, logger);

  const stats = { processed: 0, duplicates: 0, dlq: 0 };
  // Insertion-ordered, so the oldest id is dropped first once the cache is full.
  const seen = new Set<string>();
  const remember = (id: string): boolean => {
    if (cfg.dedupCacheSize === 0) return false;
    if (seen.has(id)) return true;
    seen.add(id);
    if (seen.size > cfg.dedupCacheSize) seen.delete(seen.values().next().value as string);
    return false;
  };

  const toDlq = async (m: IncomingMessage, error: string) => {
    await dlq.send(cfg.dlqTopic, [
      {
        key: m.key,
        value: m.value ?? Buffer.alloc(0),
        headers: {
          ...definedHeaders(m.headers),
          'dlq.error.message': error,
          'dlq.original.topic': m.topic,
          'dlq.original.partition': String(m.partition),
          'dlq.original.offset': m.offset,
          'dlq.original.timestamp': m.timestamp,
          'dlq.consumer.group': cfg.groupId,
          'dlq.failed.at': new Date().toISOString(),
        },
      },
    ]);
    stats.dlq++;
    metrics.dlq.inc({ topic: cfg.topic });
    logger.warn({ event: 'dlq', topic: m.topic, partition: m.partition, offset: m.offset, dlqTopic: cfg.dlqTopic, error }, `malformed message sent to ${cfg.dlqTopic}: ${error}`);
  };

  const process1 = async (m: IncomingMessage) => {
    const parsed = parseMessage(m.value);
    if (!parsed.ok) return toDlq(m, parsed.error);
    const { id, createdAt, payload } = parsed.message;
    const duplicate = remember(id);
    const latencyMs = Date.now() - Date.parse(createdAt);
    stats.processed++;
    if (duplicate) {
      stats.duplicates++;
      metrics.duplicates.inc({ topic: m.topic });
    }
    metrics.consumed.inc({ topic: m.topic });
    metrics.latency.observe({ topic: m.topic }, Math.max(0, latencyMs) / 1000);
    logger.info(
      { event: 'message', id, createdAt, topic: m.topic, partition: m.partition, offset: m.offset, key: m.key?.toString('utf8') ?? null, payloadBytes: Buffer.byteLength(payload), payloadDigest: digest(payload), latencyMs, duplicate },
      'processed',
    );
  };

  const handler: BatchHandler = async (messages, control) => {
    let sinceCommit = 0;
    try {
      for (const m of messages) {
        if (!control.shouldContinue()) break;
        await process1(m);
        control.markProcessed(m.offset);
        if (++sinceCommit >= cfg.commitEvery) {
          await control.commit();
          sinceCommit = 0;
        }
        await control.heartbeat();
      }
    } catch (err) {
      metrics.errors.inc({ stage: 'consume' });
      logger.error({ event: 'batch_failed', err }, `batch failed, unprocessed messages will be redelivered: ${(err as Error).message}`);
      // Keep what was done: fewer redeliveries after the client restarts the batch.
      await control.commit().catch(() => undefined);
      throw err;
    }
    await control.commit();
  };

  try {
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
