/**
 * `npm start`: the whole system on this machine, without Kubernetes.
 *
 *   1. the local three-node KRaft cluster (with the JMX exporter kafka-stack also uses);
 *   2. kafka-stack of the `local` environment synthesized and applied by Terraform: the
 *      platform topics through the same topics module as on Kubernetes;
 *   3. the consumer as a long-running process, then the producer as a one-shot job;
 *   4. a summary once every message arrived: sent, received, lost (must be 0).
 *
 * Interactive, it keeps running until Ctrl-C, which stops the consumer gracefully and then
 * the cluster it started. With CI set or no terminal it stops after the summary.
 * START_MESSAGES sets how many messages the producer sends (default 1000).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as path from 'path';
import * as readline from 'readline';
import { App } from 'cdktf';
import { loadConfig, localBootstrapServers } from '../config';
import { POSTS_DLQ_TOPIC, POSTS_TOPIC, CONSUMER_GROUP } from '../config/topics';
import { LocalKafkaStack } from '../stacks/local-kafka-stack';
import { jmxExporterArgs } from './jmx-exporter';
import { clusterDown, clusterUp } from './local/kafka';
import { runMain } from './local/process';
import { PROJECT_ROOT, toolchainEnv } from './paths';
import { step } from './progress';

const env = loadConfig('local');
const brokers = localBootstrapServers(env.localCluster).join(',');
const messages = Number(process.env.START_MESSAGES ?? 1000);
const interactive = !process.env.CI && process.stdin.isTTY === true;

function terraform(args: string[], cwd: string): void {
  const tfEnv: NodeJS.ProcessEnv = { ...toolchainEnv(), TF_IN_AUTOMATION: '1' };
  const r = spawnSync(tfEnv.TERRAFORM_BINARY_NAME as string, args, { cwd, env: tfEnv, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`terraform ${args[0]} failed in ${cwd} (see above)`);
}

/** Applies the local topics (posts, posts.dlq and their ACLs) through Terraform. */
function applyTopics(): void {
  const outdir = path.join(PROJECT_ROOT, 'cdktf.out');
  const app = new App({ outdir });
  new LocalKafkaStack(app, 'kafka-stack', { env });
  app.synth();
  const dir = path.join(outdir, 'stacks', 'kafka-stack');
  terraform(['init', '-input=false', '-no-color'], dir);
  terraform(['apply', '-input=false', '-no-color', '-auto-approve'], dir);
}

interface Received {
  ids: Set<string>;
  total: number;
}

function startService(name: 'consumer' | 'producer', extra: Record<string, string>, onLine: (json: Record<string, unknown>) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'services', name, 'main.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, KAFKA_BROKERS: brokers, LOG_LEVEL: 'info', ...extra },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      onLine(JSON.parse(line) as Record<string, unknown>);
    } catch {
      console.log(`[${name}] ${line}`);
    }
  });
  return child;
}

const exited = (child: ChildProcess) => new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));

/** Resolves on the first Ctrl-C (or SIGTERM); start-up steps race against it. */
let interrupt: () => void = () => undefined;
const interrupted = new Promise<'interrupted'>((resolve) => (interrupt = () => resolve('interrupted')));
process.on('SIGINT', () => interrupt());
process.on('SIGTERM', () => interrupt());

class Interrupted extends Error {}
async function unlessInterrupted<T>(work: Promise<T>): Promise<T> {
  const r = await Promise.race([work, interrupted]);
  if (r === 'interrupted') throw new Interrupted('interrupted');
  return r as T;
}

async function main(): Promise<number> {
  let clusterStarted = false;
  let consumer: ChildProcess | undefined;
  let consumerExit: Promise<number> | undefined;
  let producer: ChildProcess | undefined;
  let result = 1;
  try {
    let done = step('local Kafka cluster');
    const cluster = await unlessInterrupted(clusterUp({ extraJvmArgs: jmxExporterArgs }));
    clusterStarted = cluster.startedNodes.length > 0;
    done();

    done = step('topics through Terraform (kafka-stack, local environment)');
    applyTopics();
    done();

    const prefix = `start-${Date.now().toString(36)}`;
    const received: Received = { ids: new Set(), total: 0 };
    let shown = 0;
    done = step(`consumer (group ${CONSUMER_GROUP}) on ${POSTS_TOPIC}, dead letters to ${POSTS_DLQ_TOPIC}`);
    let ready: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (ready = resolve));
    // Debug: the per-message lines tell which messages arrived.
    consumer = startService('consumer', { KAFKA_TOPIC: POSTS_TOPIC, KAFKA_DLQ_TOPIC: POSTS_DLQ_TOPIC, KAFKA_GROUP_ID: CONSUMER_GROUP, HTTP_PORT: '0', LOG_LEVEL: 'debug' }, (line) => {
      if (line.event === 'start') ready();
      if (line.event === 'message' && typeof line.id === 'string' && line.id.startsWith(`${prefix}-`)) {
        received.total++;
        received.ids.add(line.id);
        if (shown < 5) {
          shown++;
          console.log(`    received ${line.id} from ${line.topic}[${line.partition}]@${line.offset} after ${line.latencyMs} ms`);
        }
      }
    });
    consumerExit = exited(consumer);
    await unlessInterrupted(Promise.race([started, consumerExit.then((code) => Promise.reject(new Error(`the consumer exited with ${code} before consuming`)))]));
    done();

    done = step(`producer: ${messages} messages to ${POSTS_TOPIC}`);
    let sent = 0;
    producer = startService('producer', { KAFKA_TOPIC: POSTS_TOPIC, MESSAGE_COUNT: String(messages), MESSAGE_ID_PREFIX: prefix, HTTP_PORT: '0' }, (line) => {
      if (line.event === 'summary' && typeof line.sent === 'number') sent = line.sent;
    });
    const producerCode = await unlessInterrupted(exited(producer));
    producer = undefined;
    if (producerCode !== 0) throw new Error(`the producer failed (exit ${producerCode}): see its log above`);
    done();

    done = step('waiting for the consumer to receive every message');
    const deadline = Date.now() + 120_000;
    while (received.ids.size < sent && Date.now() < deadline) await unlessInterrupted(new Promise((r) => setTimeout(r, 250)));
    done();

    const lost = sent - received.ids.size;
    const duplicates = received.total - received.ids.size;
    console.log('');
    console.log(`summary: sent ${sent}, received ${received.ids.size}, lost ${lost}, duplicates ${duplicates}`);
    console.log(`bootstrap servers: ${cluster.bootstrapServers}`);
    result = lost === 0 ? 0 : 1;

    if (interactive) {
      console.log('the system keeps running: press Ctrl-C to stop the consumer and the cluster');
      await interrupted;
    }
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    console.log('interrupted: stopping');
  } finally {
    // Whatever happened: stop what this run started, gracefully, in reverse order.
    if (producer) producer.kill('SIGTERM');
    if (consumer && consumerExit) {
      const stopping = step('stopping the consumer (graceful: commit, leave the group)');
      consumer.kill('SIGTERM');
      if ((await consumerExit) !== 0) result = 1;
      stopping();
    }
    if (clusterStarted) {
      const down = step('stopping the local cluster (data kept)');
      await clusterDown();
      down();
    }
  }
  return result;
}

runMain(main, 'npm start');
