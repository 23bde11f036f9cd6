/**
 * `npm start`: the whole system on this machine, without Kubernetes.
 *
 *   1. the local three-node KRaft cluster (with the JMX exporter kafka-stack also uses);
 *   2. kafka-stack of the `local` environment synthesized and applied by Terraform: the
 *      platform topics through the same topics module as on Kubernetes;
 *   3. the trace backend (Jaeger, tools/local-jaeger.ts) the services send their spans to;
 *   4. the consumer as a long-running process, then the producer as a one-shot job;
 *   5. a summary once every message arrived: sent, received, lost (must be 0), and the trace
 *      of one message as the trace backend's query API returns it.
 *
 * Interactive, it keeps running until Ctrl-C, which stops the consumer gracefully and then
 * the cluster it started. With CI set or no terminal it stops after the summary.
 * START_MESSAGES sets how many messages the producer sends (default 1000).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as path from 'path';
import * as readline from 'readline';
import { App } from 'cdktf';
import { loadConfig, localBootstrapServers, serviceSamplerEnv } from '../config';
import { POSTS_DLQ_TOPIC, POSTS_TOPIC, CONSUMER_GROUP } from '../config/topics';
import { LocalKafkaStack } from '../stacks/local-kafka-stack';
import { jmxExporterArgs } from './jmx-exporter';
import { LOCAL_JAEGER_QUERY_PORT, jaegerDown, jaegerUp } from './local-jaeger';
import { clusterDown, clusterUp } from './local/kafka';
import { runMain } from './local/process';
import { PROJECT_ROOT, toolchainEnv } from './paths';
import { step } from './progress';
import { TraceSpan, formatTrace, waitForTrace } from './traces';

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
  /** The first received message whose trace was sampled, and its trace id. */
  traced?: { readonly id: string; readonly traceId: string };
}

/** One line: the path a message took, with timings. */
function tracePath(spans: readonly TraceSpan[]): string {
  const send = spans.find((s) => s.kind === 'PRODUCER');
  const process = spans.find((s) => s.kind === 'CONSUMER');
  if (!send || !process) return `${spans.length} span(s), not both a producer and a consumer span`;
  return `${send.service} "${send.name}" ${send.durationMs.toFixed(1)} ms (queued and acknowledged) -> ${process.service} "${process.name}" ${process.durationMs.toFixed(2)} ms, started ${(process.startMs - send.startMs).toFixed(1)} ms after the send began`;
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
  let jaegerStarted = false;
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

    done = step('trace backend (Jaeger, in memory) for the services\' spans');
    const jaeger = await unlessInterrupted(jaegerUp());
    jaegerStarted = true;
    done();
    // The standard OTel variables, as workloads-stack sets them on Kubernetes; spans leave within half a second.
    const tracing = (service: 'producer' | 'consumer') => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      ...serviceSamplerEnv(service, env.services.traceSampleRatio),
      OTEL_BSP_SCHEDULE_DELAY: '500',
      OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${env.name}`,
    });

    const prefix = `start-${Date.now().toString(36)}`;
    const received: Received = { ids: new Set(), total: 0 };
    let shown = 0;
    done = step(`consumer (group ${CONSUMER_GROUP}) on ${POSTS_TOPIC}, dead letters to ${POSTS_DLQ_TOPIC}`);
    let ready: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (ready = resolve));
    // Debug: the per-message lines tell which messages arrived.
    consumer = startService('consumer', { KAFKA_TOPIC: POSTS_TOPIC, KAFKA_DLQ_TOPIC: POSTS_DLQ_TOPIC, KAFKA_GROUP_ID: CONSUMER_GROUP, HTTP_PORT: '0', LOG_LEVEL: 'debug', ...tracing('consumer') }, (line) => {
      if (line.event === 'start') ready();
      if (line.event === 'message' && typeof line.id === 'string' && line.id.startsWith(`${prefix}-`)) {
        received.total++;
        received.ids.add(line.id);
        if (!received.traced && line.trace_flags === '01' && typeof line.trace_id === 'string') received.traced = { id: line.id, traceId: line.trace_id };
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
    producer = startService('producer', { KAFKA_TOPIC: POSTS_TOPIC, MESSAGE_COUNT: String(messages), MESSAGE_ID_PREFIX: prefix, HTTP_PORT: '0', ...tracing('producer') }, (line) => {
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

    if (received.traced) {
      // Read back from the trace backend, not from the services: what a developer would look up.
      const spans = await unlessInterrupted(waitForTrace(jaeger.queryUrl, received.traced.traceId, 2));
      console.log(`trace of ${received.traced.id}: ${received.traced.traceId}`);
      console.log(`  path: ${tracePath(spans)}`);
      console.log(formatTrace(spans).split('\n').slice(1).join('\n'));
      console.log(`look traces up: npm run traces -- ${received.traced.traceId}   (or GET ${jaeger.queryUrl}/api/v3/traces/<trace id>)`);
    } else {
      console.log(`no sampled trace among the messages received (sampling ratio ${env.services.traceSampleRatio})`);
    }

    if (interactive) {
      console.log(`the system keeps running (traces: http://127.0.0.1:${LOCAL_JAEGER_QUERY_PORT}/api/v3/services): press Ctrl-C to stop the consumer, the trace backend and the cluster`);
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
    if (jaegerStarted) await jaegerDown({ log: () => undefined });
    if (clusterStarted) {
      const down = step('stopping the local cluster (data kept)');
      await clusterDown();
      down();
    }
  }
  return result;
}

runMain(main, 'npm start');
