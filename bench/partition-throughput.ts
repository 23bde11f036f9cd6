/**
 * What one partition sustains with the platform's own services, on the local cluster:
 * the input of `POSTS_SIZING.perPartitionBytesPerSecond` in config/topics.ts.
 *
 *   npm run kafka:up && npx tsx bench/partition-throughput.ts [messages] [payloadBytes]
 *
 * Produces with the producer service (idempotent, acks=all, gzip) into a one-partition,
 * RF 3 topic with the platform's topic config, then consumes with the consumer service
 * (one JSON log line per message, commit after processing), and prints both rates.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import * as readline from 'readline';
import { Kafka, logLevel } from 'kafkajs';
import { environments, localBootstrapServers } from '../config';
import { platformTopics } from '../config/topics';
import { PROJECT_ROOT } from '../tools/paths';

const messages = Number(process.argv[2] ?? 50000);
const payloadBytes = Number(process.argv[3] ?? 1024);
const brokers = localBootstrapServers(environments.local.localCluster);
const topic = `bench-${Date.now().toString(36)}`;

function run(service: 'producer' | 'consumer', env: Record<string, string>, until: (line: Record<string, unknown>) => boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'services', service, 'main.ts')], {
      env: { ...process.env, KAFKA_BROKERS: brokers.join(','), HTTP_PORT: '0', KAFKA_TOPIC: topic, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    readline.createInterface({ input: child.stdout }).on('line', (raw) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return;
      }
      if (until(line)) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        child.kill('SIGTERM');
        resolve(seconds);
      }
    });
    child.on('exit', (code) => code !== 0 && code !== null && reject(new Error(`${service} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const admin = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const posts = platformTopics(brokers.length)[0];
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 1, replicationFactor: posts.replicationFactor, configEntries: Object.entries(posts.config).map(([name, value]) => ({ name, value })) }],
  });
  try {
    const bytes = messages * payloadBytes;
    const produceSeconds = await run('producer', { MESSAGE_COUNT: String(messages), PAYLOAD_SIZE: String(payloadBytes) }, (l) => l.event === 'summary');
    let consumed = 0;
    const consumeSeconds = await run('consumer', { KAFKA_DLQ_TOPIC: `${topic}.dlq`, KAFKA_GROUP_ID: topic, LOG_LEVEL: 'info' }, (l) => l.event === 'message' && ++consumed === messages);
    const rate = (s: number) => `${Math.round(messages / s)} msg/s, ${(bytes / s / 1048576).toFixed(2)} MiB/s`;
    console.log(JSON.stringify({ messages, payloadBytes, partitions: 1, replicationFactor: posts.replicationFactor }));
    console.log(`produce (process start to all acknowledged): ${produceSeconds.toFixed(2)} s, ${rate(produceSeconds)}`);
    console.log(`consume (process start to last message logged): ${consumeSeconds.toFixed(2)} s, ${rate(consumeSeconds)}`);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
