import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { environments, OVERRIDE_VARIABLES } from '../../../config';
import { CONSUMER_GROUP, POSTS_DLQ_TOPIC, POSTS_TOPIC } from '../../../config/topics';
import { KafkaTools, runKafkaTool } from '../../../tools/kafka-tool';
import { localBootstrapServers, localKafka } from '../../../tools/local/kafka';
import { missingHostTool } from '../../../tools/local/kubernetes/node';
import { onRealNode } from '../../../tools/local/kubernetes/node-cluster';
import { groupLag } from '../../chaos/runs';
import { readTopic } from '../../chaos/verifier';
import { publishLocally, published, startRegistry, stopRegistryIfStarted } from '../../support/images';
import { enforcerDrops, runPodOnce } from '../../support/real-node';
import { KubeApi, KubeApiError, KubeObject, resourcePath } from '../../../tools/local/kubernetes';
import { postgresUp } from '../../../tools/local-postgres';
import { summarizePlan } from '../../../tools/plan-summary';
import { PROJECT_ROOT } from '../../../tools/paths';
import {
  chartBundleDir,
  CommandRun,
  DEPLOY_TEST_DIR,
  deployNodeConfig,
  deployTestKubernetes,
  freshCheckout,
  restoreToolchainCache,
  runCommand,
  stepEnvironment,
  synthVariant,
  workflowStep,
  ConfigChange,
} from '../../support/deploy';
import { renewClusterCa } from '../../support/simulated-ca-renewal';
import { SimulatedStrimziOperator } from '../../support/simulated-strimzi-operator';
import { CLIENT_SECRETS_DIGEST_ANNOTATION, NAMESPACE_NODE_SELECTOR_ANNOTATION } from '../../../stacks/workloads-stack';
import { brokerPod, poolNodes } from '../../support/simulated-strimzi/model';
import { kubernetesBinariesReady } from '../../support/kubernetes-build';

/**
 * The `dev` environment deployed for real, through the project's npm scripts and workflow
 * commands, to a local Kubernetes control plane laid out as kind makes it (kube-apiserver 1.37
 * with its default admission plugins, one kwok node without a zone label), state in the local
 * PostgreSQL, charts from a directory of archives. Only the Strimzi operators' reconcile is
 * simulated (SimulatedStrimziOperator): it creates the broker pods on the API server, and the
 * local Kafka nodes behind the external listener serve the certificates Strimzi would issue,
 * so the Kafka provider creates the topics there only if it can verify their names.
 */

const MINUTE = 60_000;
const run = Date.now().toString(36);
const chartsDir = path.join(DEPLOY_TEST_DIR, 'charts');
/** The topics' deliberate removal from state, as docs/topics.md describes it. */
const TOPIC_ADDRESSES = ['kafka_topic.posts', 'kafka_topic.posts_dlq'];

/** Well-formed digests of images that were never pushed: only planned (the image bump), never pulled. */
const unpulledDigest = (service: string) => `sha256:${createHash('sha256').update(`kafka-platform-${service}, never pushed`).digest('hex')}`;

/**
 * The values of the workflows' secrets and job outputs, by the variable they fill; the image
 * digests are what `npm run images` pushed to the local registry (set in beforeAll), which the
 * real node's containerd pulls.
 */
const secrets = {
  TF_VAR_kafka_admin_password: randomBytes(24).toString('base64url'),
  TF_VAR_alertmanager_webhook_url: 'http://127.0.0.1:9/alerts',
  TF_VAR_grafana_admin_password: randomBytes(18).toString('base64url'),
  TF_VAR_producer_image_digest: '',
  TF_VAR_consumer_image_digest: '',
};
/** The pushed images (`<registry>/kafka-platform-<service>@<digest>`). */
const images = { producer: '', consumer: '' };
let registryStarted = false;
/** How every command of this run reaches the local Kubernetes, the charts and the state. */
let overrides: NodeJS.ProcessEnv;
let api: KubeApi;
let operator: SimulatedStrimziOperator;
const timings: Record<string, number> = {};
/** Set once the three stacks are deployed; the tests that inspect them fail at once without it. */
let deployed = false;
/** The producer's and consumer's Secrets when the kafka-stack deploy returned. */
const userSecretsWhenKafkaStackEnded: string[] = [];
/** Set while the platform topics exist on the shared local cluster because of this run. */
let topicsCreatedHere = false;

function assertDeployed(): void {
  if (!deployed) throw new Error('the deploy of the three stacks failed (see that test): nothing to inspect');
}

const namespaced = (ns: string, plural: string, name?: string, group = '', version = 'v1') => resourcePath(group, version, plural, name, ns);

async function expectOk(r: CommandRun, label: string): Promise<CommandRun> {
  timings[label] = r.seconds;
  if (r.status !== 0) throw new Error(`${r.command} failed (exit ${r.status}) after ${r.seconds.toFixed(0)}s (log: ${r.logFile}):\n${r.output.slice(-6000)}`);
  return r;
}

/** cdktf's output as one line of text: its per-stack line prefixes and the CLI's wrapping removed. */
const plainText = (output: string) => output.replace(/^[a-z]+-stack {2}/gm, '').replace(/[│╷╵]/g, ' ').replace(/\s+/g, ' ');

async function topicNames(): Promise<string[]> {
  const out = await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', localBootstrapServers(), '--list']);
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * Each stack's plan summary (tools/plan-summary.ts) for an app synthesized with `change`. The
 * three plans run side by side: each has its own stack directory, Terraform data directory and
 * state lock, and its own provider plugin cache (Terraform's is not safe for concurrent inits:
 * two of them installing one provider failed with "mkdir ... file exists").
 */
async function plansFor(label: string, change: ConfigChange, variables: NodeJS.ProcessEnv = {}): Promise<Record<string, string>> {
  const outdir = synthVariant('dev', overrides, change);
  const started = Date.now();
  const stacks = ['addons-stack', 'kafka-stack', 'workloads-stack'];
  const runs = await Promise.all(
    stacks.map((stack) =>
      runCommand(`tools/with-toolchain.sh npx cdktf diff ${stack} --skip-synth --skip-provider-lock --output ${outdir}`, {
        ...overrides,
        ...secrets,
        ...variables,
        TF_PLUGIN_CACHE_DIR: path.join(outdir, `plugin-cache-${stack}`),
      }),
    ),
  );
  timings[`diff ${label} (three stacks)`] = (Date.now() - started) / 1000;
  return Object.fromEntries(stacks.map((stack, i) => [stack, summarizePlan(runs[i].output, runs[i].status === 0)]));
}

/** The last lines of every workloads pod's log, fetched through the API server from the kubelet (for failure messages). */
async function workloadLogs(): Promise<string> {
  const pods = (await api.get<{ items: KubeObject[] }>(namespaced('workloads', 'pods'))).items;
  const logs = await Promise.all(
    pods.map(async (p) => {
      const text = await api.request<unknown>('GET', `${namespaced('workloads', 'pods', p.metadata.name)}/log?tailLines=30`).catch((e: Error) => e.message);
      const states = (p.status?.containerStatuses ?? []).map((c: KubeObject) => `${c.name} ${JSON.stringify(c.state)}`).join('; ');
      return `${p.metadata.name} (${p.status?.phase} on ${p.spec.nodeName ?? 'no node'}; ${states || JSON.stringify(p.status?.conditions ?? [])}):\n${typeof text === 'string' ? text : JSON.stringify(text)}`;
    }),
  );
  return logs.join('\n---\n');
}

/** The zone label the single node gets once the plan-time check asks for it (docs/kafka.md). */
const ZONE = 'dev-a';
/** Seconds the Kafka resource may stay NotReady during a deploy before the test stops it. */
const NOT_READY_GRACE_MS = 30_000;

/** Stops a deploy once the Kafka resource has been NotReady for a while: the reason a user would find with kubectl. */
function stopWhenKafkaStuck(): () => Promise<string | undefined> {
  let since: number | undefined;
  return async () => {
    const message = await operator.notReadyMessage('platform').catch(() => undefined);
    if (message === undefined) {
      since = undefined;
      return undefined;
    }
    since ??= Date.now();
    return Date.now() - since >= NOT_READY_GRACE_MS ? `Kafka platform NotReady for ${NOT_READY_GRACE_MS / 1000}s: ${message}` : undefined;
  };
}

/** Long enough for a first build of the local Kubernetes binaries to finish (kubernetes-build.ts). */
const BUILD_WAIT_MS = 45 * 60_000;

beforeAll(async () => {
  const missing = missingHostTool();
  if (missing) throw new Error(missing);
  // The binaries (the real node's too), and the kubectl that addons-stack installs the Strimzi CRDs with, may still be building.
  await kubernetesBinariesReady((line) => console.log(`[deploy-test] ${line}`), BUILD_WAIT_MS, true);
  fs.rmSync(path.join(DEPLOY_TEST_DIR, 'logs'), { recursive: true, force: true });
  // A clean control plane and node for every run; the ones `npm run k8s:up` starts are not touched.
  await deployTestKubernetes.down({ purge: true, log: () => undefined });
  const up = await deployTestKubernetes.up({ log: (l) => console.log(`[deploy-test] ${l}`), timeoutMs: 300_000 });
  timings['local Kubernetes with its real node ready'] = up.readyInMs / 1000;
  api = deployTestKubernetes.api();

  // The services' images as `npm run images` pushes them: what the real node pulls by digest.
  const publishStarted = Date.now();
  registryStarted = await startRegistry();
  const record = await publishLocally();
  for (const service of ['producer', 'consumer'] as const) {
    const pushed = published(record, service).pushed;
    expect(pushed.repository).toBe(`${environments.local.imageRegistry}/kafka-platform-${service}`);
    secrets[`TF_VAR_${service}_image_digest`] = pushed.digest;
    images[service] = pushed.reference;
  }
  timings['images published'] = (Date.now() - publishStarted) / 1000;

  // The shared chart bundle, copied so the chart-bump test can add an archive beside it.
  fs.rmSync(chartsDir, { recursive: true, force: true });
  fs.mkdirSync(chartsDir, { recursive: true });
  const bundle = chartBundleDir();
  for (const f of fs.readdirSync(bundle).filter((f) => f.endsWith('.tgz'))) fs.copyFileSync(path.join(bundle, f), path.join(chartsDir, f));

  overrides = {
    KAFKA_PLATFORM_ENV: 'dev',
    [OVERRIDE_VARIABLES.kubeconfig]: deployTestKubernetes.layout.kubeconfig,
    [OVERRIDE_VARIABLES.chartsDirectory]: chartsDir,
    [OVERRIDE_VARIABLES.pgSchemaPrefix]: `deploy_${run}`,
    // The registry the images were pushed to, and the workloads namespace on the real node.
    [OVERRIDE_VARIABLES.imageRegistry]: environments.local.imageRegistry,
    [OVERRIDE_VARIABLES.workloadsNodeSelector]: onRealNode(deployNodeConfig),
    PG_CONN_STR: await postgresUp(),
    // Each stack's own Terraform data directory for this run: cdktf.out is shared with `npm start` (local backend).
    TF_DATA_DIR: `.terraform-deploy-${run}`,
    // A variable nobody set fails the command instead of waiting for an answer on the terminal.
    TF_INPUT: '0',
    CI: '1',
    FORCE_COLOR: '0',
  };

  // `npm start` applies the same topic names to the same local cluster from its own state;
  // they are test data there, and its next apply recreates them.
  const existing = (await topicNames()).filter((t) => t === POSTS_TOPIC || t === POSTS_DLQ_TOPIC);
  if (existing.length > 0) {
    console.log(`deploy test: deleting ${existing.join(', ')} left on the local Kafka cluster by npm start (its next run recreates them)`);
    for (const topic of existing) await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', localBootstrapServers(), '--delete', '--topic', topic]);
  }

  // A reconcile and a User Operator that take their time, as on a cluster: 20 s each. The broker
  // pods' addresses answer on the TLS listener's port (relayed to the local nodes behind them),
  // so the services on the real node reach the brokers as on a cluster.
  operator = new SimulatedStrimziOperator(api, 'kafka', { statusLagMs: 20_000, userLagMs: 20_000, podNetwork: true });
  operator.start();
}, BUILD_WAIT_MS + 10 * MINUTE);

afterAll(async () => {
  await operator?.stop();
  // A run that failed before its destroy leaves the shared cluster's topics as it found them.
  if (topicsCreatedHere) {
    for (const topic of [POSTS_TOPIC, POSTS_DLQ_TOPIC]) {
      await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', localBootstrapServers(), '--delete', '--if-exists', '--topic', topic]).catch(() => undefined);
    }
  }
  api?.close();
  // This run's Terraform working data and synthesized variants; the command logs stay for reading.
  for (const stack of ['addons-stack', 'kafka-stack', 'workloads-stack']) {
    fs.rmSync(path.join(PROJECT_ROOT, 'cdktf.out', 'stacks', stack, `.terraform-deploy-${run}`), { recursive: true, force: true });
  }
  fs.mkdirSync(DEPLOY_TEST_DIR, { recursive: true });
  for (const entry of fs.readdirSync(DEPLOY_TEST_DIR)) {
    if (/^(synth-dev-|chart-)/.test(entry)) fs.rmSync(path.join(DEPLOY_TEST_DIR, entry), { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(DEPLOY_TEST_DIR, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  console.log(`deploy test timings (s): ${JSON.stringify(timings)}`);
  await deployTestKubernetes.down({ log: () => undefined });
  await stopRegistryIfStarted(registryStarted);
}, 5 * MINUTE);

describe('dev on a local Kubernetes, deployed through the project commands', () => {
  it('refuses kafka-stack before addons-stack with an error naming the stack to deploy first', async () => {
    const step = workflowStep('deploy-environment.yml', 'stack', 'Deploy ${{ matrix.stack }}');
    const r = await runCommand(step.run, { ...overrides, ...stepEnvironment(step, { ...secrets, STACK: 'kafka-stack', PG_CONN_STR: overrides.PG_CONN_STR! }) });
    timings['kafka-stack before addons-stack (refused)'] = r.seconds;
    expect(r.status).not.toBe(0);
    expect(plainText(r.output)).toContain(
      "kafka-stack reads addons-stack's outputs, but addons-stack has not been deployed to this environment (the Kafka CRD it installs with the Strimzi operator is missing): deploy addons-stack first.",
    );
    // Nothing was created.
    expect(await api.find(resourcePath('', 'v1', 'namespaces', 'kafka'))).toBeUndefined();
  }, 15 * MINUTE);

  it('stops kafka-stack at plan time on a node without a zone label, naming the label and the command that sets it', async () => {
    try {
      const r = await runCommand('npm run deploy -- addons-stack kafka-stack --auto-approve', { ...overrides, ...secrets }, 30 * MINUTE, stopWhenKafkaStuck());
      timings['kafka-stack on a node without a zone label (refused)'] = r.seconds;
      expect(r.output).toMatch(/addons-stack\s+Apply complete!/);
      expect(r.status).not.toBe(0);
      expect(plainText(r.output)).toContain(
        'no node of this cluster has the label topology.kubernetes.io/zone, which the brokers\' rack awareness and zone spread require (kind and minikube set none): label the nodes, e.g. kubectl label nodes --all topology.kubernetes.io/zone=dev-a',
      );
      // Stopped before anything of the cluster was made.
      expect(await api.find(namespaced('kafka', 'kafkas', 'platform', 'kafka.strimzi.io'))).toBeUndefined();
    } finally {
      // What the message asks for, as `kubectl label` does it.
      const nodes = await api.get<{ items: KubeObject[] }>(resourcePath('', 'v1', 'nodes'));
      for (const node of nodes.items) {
        await api.request('PATCH', resourcePath('', 'v1', 'nodes', node.metadata.name), { metadata: { labels: { 'topology.kubernetes.io/zone': ZONE } } }, 'application/merge-patch+json');
      }
    }
  }, 45 * MINUTE);

  it('deploys addons-stack and kafka-stack, the workloads’ users Ready when it ends, then workloads-stack, with npm run deploy', async () => {
    const r = await runCommand('npm run deploy -- addons-stack kafka-stack --auto-approve', { ...overrides, ...secrets }, 30 * MINUTE, stopWhenKafkaStuck());
    topicsCreatedHere = (await topicNames()).includes(POSTS_TOPIC);
    await expectOk(r, 'deploy addons-stack and kafka-stack');
    // What workloads-stack mounts and KEDA reads, as it was the moment kafka-stack was done (asserted below).
    for (const user of ['producer', 'consumer', 'lag-reader']) {
      const secret = await api.find(namespaced('kafka', 'secrets', user));
      userSecretsWhenKafkaStackEnded.push(`${user}: ${secret ? Object.keys(secret.data).sort().join(',') : 'no Secret'}`);
    }
    const w = await runCommand('npm run deploy -- workloads-stack --auto-approve', { ...overrides, ...secrets });
    // A rollout that never finishes: what the pods say is the news.
    if (w.status !== 0) throw new Error(`${w.command} failed (exit ${w.status}) after ${w.seconds.toFixed(0)}s (log: ${w.logFile}):\n${w.output.slice(-3000)}\n${await workloadLogs()}`);
    await expectOk(w, 'deploy workloads-stack');
    for (const out of [r.output, w.output]) expect(out).not.toMatch(/Error:/);
    // The exit code alone is not proof: cdktf reports 0 when its terraform is killed.
    for (const stack of ['addons-stack', 'kafka-stack']) expect(r.output).toMatch(new RegExp(`${stack}\\s+Apply complete!`));
    expect(w.output).toMatch(/workloads-stack\s+Apply complete!/);
    deployed = true;
    expect(operator.events.some((e) => e.startsWith('Kafka platform'))).toBe(true);
  }, 60 * MINUTE);

  it('has the workloads’ user Secrets in place the moment kafka-stack ends', () => {
    assertDeployed();
    expect(userSecretsWhenKafkaStackEnded).toEqual(['producer: password,sasl.jaas.config', 'consumer: password,sasl.jaas.config', 'lag-reader: password,sasl.jaas.config']);
  });

  it('runs the brokers as pods the scheduler placed and the kafka namespace’s restricted PodSecurity admitted; it refuses Strimzi’s baseline provider’s', async () => {
    assertDeployed();
    const ns = await api.get(resourcePath('', 'v1', 'namespaces', 'kafka'));
    const kafka = await api.get(namespaced('kafka', 'kafkas', 'platform', 'kafka.strimzi.io'));
    const pools = (await api.get<{ items: KubeObject[] }>(namespaced('kafka', 'kafkanodepools', undefined, 'kafka.strimzi.io'))).items;
    const pods = await api.get<{ items: KubeObject[] }>(`${namespaced('kafka', 'pods')}?labelSelector=strimzi.io%2Fcluster%3Dplatform,strimzi.io%2Fbroker-role%3Dtrue`);
    expect(pods.items.map((p) => `${p.metadata.name} ${p.status.phase}`).sort()).toEqual(['platform-combined-0 Running', 'platform-combined-1 Running', 'platform-combined-2 Running']);
    expect(pods.items[0].spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] } });
    // The same pod under the baseline provider (the operator's default), tried against the namespace.
    const node = poolNodes('platform', pools)[0];
    const baseline = brokerPod(kafka, pools[0], { ...node, podName: `baseline-check-${run}` }, 'baseline');
    const refused = await api.request('POST', `${namespaced('kafka', 'pods')}?dryRun=All`, baseline).catch((e: unknown) => e);
    expect(`${ns.metadata.labels['pod-security.kubernetes.io/enforce']}: ${refused instanceof KubeApiError ? refused.message : 'admitted'}`).toMatch(
      /^restricted: .*403 pods "baseline-check-\w+" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(containers "kafka-init", "kafka" must set securityContext\.allowPrivilegeEscalation=false\)/,
    );
  });

  it('installs the real charts with their CRDs, every workload of them ready', async () => {
    assertDeployed();
    for (const crd of [
      'kafkas.kafka.strimzi.io',
      'kafkanodepools.kafka.strimzi.io',
      'kafkausers.kafka.strimzi.io',
      'prometheusrules.monitoring.coreos.com',
      'podmonitors.monitoring.coreos.com',
      'scaledobjects.keda.sh',
      'clustertriggerauthentications.keda.sh',
    ]) {
      const found = await api.get(resourcePath('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', crd));
      expect(found.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Established', status: 'True' })]));
    }
    for (const [ns, release] of [['monitoring', 'kube-prometheus-stack'], ['monitoring', 'loki'], ['monitoring', 'tempo'], ['monitoring', 'alloy'], ['kafka', 'strimzi-cluster-operator'], ['kafka', 'keda']]) {
      const secretsOfRelease = await api.get<{ items: KubeObject[] }>(`${namespaced(ns, 'secrets')}?labelSelector=owner%3Dhelm,name%3D${release}`);
      expect(secretsOfRelease.items.map((s) => s.metadata.labels?.status)).toContain('deployed');
    }
    const operatorDeployment = await api.get(namespaced('kafka', 'deployments', 'strimzi-cluster-operator', 'apps'));
    expect(operatorDeployment.status.availableReplicas).toBe(operatorDeployment.spec.replicas);
    const monitoring = await api.get<{ items: KubeObject[] }>(namespaced('monitoring', 'deployments', undefined, 'apps'));
    expect(monitoring.items.length).toBeGreaterThan(2);
    for (const d of monitoring.items) expect(`${d.metadata.name} ${d.status.readyReplicas ?? 0}`).toBe(`${d.metadata.name} ${d.spec.replicas}`);
    // Traces: Tempo's StatefulSet ready on its claim; Alloy's Service has the OTLP port the services send to.
    const tempo = await api.get(namespaced('monitoring', 'statefulsets', 'tempo', 'apps'));
    expect(tempo.status.readyReplicas).toBe(1);
    const tempoService = await api.get(namespaced('monitoring', 'services', 'tempo'));
    expect(tempoService.spec.ports).toEqual(expect.arrayContaining([expect.objectContaining({ port: 4317 }), expect.objectContaining({ port: 3200 })]));
    const alloyService = await api.get(namespaced('monitoring', 'services', 'alloy'));
    expect(alloyService.spec.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'otlp-http', port: 4318, targetPort: 4318 })]));
    const otlpPolicy = await api.get(namespaced('workloads', 'networkpolicies', 'allow-otlp', 'networking.k8s.io'));
    expect(otlpPolicy.spec.egress[0].ports).toEqual([{ port: 4318, protocol: 'TCP' }]);
  });

  it('has the real API server accept the Kafka, KafkaNodePool and KafkaUser resources against the real CRDs', async () => {
    assertDeployed();
    const kafka = await api.get(namespaced('kafka', 'kafkas', 'platform', 'kafka.strimzi.io'));
    expect(kafka.spec.kafka.version).toBe('4.3.1');
    expect(kafka.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'True' });
    const pools = await api.get<{ items: KubeObject[] }>(namespaced('kafka', 'kafkanodepools', undefined, 'kafka.strimzi.io'));
    expect(pools.items.map((p) => p.metadata.name)).toEqual(['combined']);
    const users = await api.get<{ items: KubeObject[] }>(namespaced('kafka', 'kafkausers', undefined, 'kafka.strimzi.io'));
    expect(users.items.map((u) => u.metadata.name).sort()).toEqual(['consumer', 'kafka-admin', 'lag-reader', 'producer']);
  });

  it('creates posts and posts.dlq on the local Kafka cluster through the Kafka provider, as Kafka’s own tools see them', async () => {
    assertDeployed();
    const described = await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', localBootstrapServers(), '--describe', '--topic', POSTS_TOPIC]);
    expect(described).toMatch(/PartitionCount:\s*6\s+ReplicationFactor:\s*3/);
    expect(described).toMatch(/min\.insync\.replicas=2/);
    expect(await topicNames()).toEqual(expect.arrayContaining([POSTS_TOPIC, POSTS_DLQ_TOPIC]));
  });

  it('runs the services on the real node from the pushed images: the producer Job’s messages all in posts by Kafka’s own count, every one consumed', async () => {
    assertDeployed();
    // The path needs no NetworkPolicy rule beyond workloads-stack's own: allow-kafka's peers are
    // the broker pods, whose addresses this machine answers on (the simulated operator's relays).
    const ns = await api.get(resourcePath('', 'v1', 'namespaces', 'workloads'));
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(ns.metadata.annotations[NAMESPACE_NODE_SELECTOR_ANNOTATION]).toBe(onRealNode(deployNodeConfig));
    const job = await api.waitFor(
      'the producer Job finished',
      async () => {
        const j = await api.get(namespaced('workloads', 'jobs', 'producer', 'batch'));
        return (j.status?.succeeded ?? 0) > 0 || (j.status?.failed ?? 0) > 0 ? j : undefined;
      },
      5 * MINUTE,
      1000,
    );
    if (!job.status?.succeeded) throw new Error(`the producer Job failed: ${JSON.stringify(job.status)}\n${await workloadLogs()}`);
    // Kafka's own count: every message the Job was told to send is in the topic, once.
    const count = Number((job.spec.template.spec.containers[0].env as { name: string; value?: string }[]).find((e) => e.name === 'MESSAGE_COUNT')!.value);
    expect(count).toBeGreaterThan(0);
    const content = await readTopic(localBootstrapServers(), POSTS_TOPIC);
    expect(`${content.records} records, ${content.ids.size} ids`).toBe(`${count} records, ${count} ids`);
    console.log(`[deploy-test] the producer Job sent ${count}; ConsoleConsumer read ${content.records} records, ${content.ids.size} distinct ids`);

    const consumer = await api
      .waitFor(
        'the consumer Deployment available (its /readyz, called by the kubelet)',
        async () => {
          const d = await api.get(namespaced('workloads', 'deployments', 'consumer', 'apps'));
          return d.status.availableReplicas === 2 ? d : undefined;
        },
        3 * MINUTE,
        1000,
      )
      .catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await workloadLogs()}`);
      });
    expect(consumer.spec.template.spec.containers[0].image).toBe(images.consumer);
    // Every message processed and committed: the group's lag is 0 on each partition.
    await api.waitFor('the consumer group at the log end', async () => ((await groupLag(CONSUMER_GROUP, localKafka)).every((l) => l === 0) ? true : undefined), 3 * MINUTE, 2000);
    expect(await groupLag(CONSUMER_GROUP, localKafka)).toEqual(Array(6).fill(0));

    // What ran where: on the real node, by the digest pushed, as uid 65532.
    const pods = (await api.get<{ items: KubeObject[] }>(namespaced('workloads', 'pods'))).items.filter((p) => !p.metadata.deletionTimestamp);
    for (const service of ['producer', 'consumer'] as const) {
      const ran = pods.filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === service);
      expect(ran.length).toBe(service === 'producer' ? 1 : 2);
      for (const p of ran) {
        expect(`${p.metadata.name} on ${p.spec.nodeName}, ${p.status.containerStatuses[0].imageID}`).toBe(`${p.metadata.name} on ${deployNodeConfig.name}, ${images[service]}`);
        expect(p.spec.securityContext.runAsUser).toBe(65532);
        console.log(`[deploy-test] ${service}: pod ${p.metadata.name} on ${p.spec.nodeName} (${p.status.podIP}), image ${p.status.containerStatuses[0].imageID}`);
      }
    }
    console.log(`[deploy-test] broker pod addresses relayed: ${operator.podAddressRelays().join('; ')}`);
  }, 15 * MINUTE);

  it("refuses a pod of the workloads namespace without the services' labels: the brokers and the consumer's metrics port, each refusal in the enforcer's drop log", async () => {
    assertDeployed();
    const consumerIp = (await api.get<{ items: KubeObject[] }>(`${namespaced('workloads', 'pods')}?labelSelector=app.kubernetes.io%2Fname%3Dconsumer`)).items[0].status.podIP as string;
    const brokerIp = (await api.get(namespaced('kafka', 'pods', 'platform-combined-0'))).status.podIP as string;
    const script = [
      'sleep 3',
      "echo OWN-IP $(ip -4 addr show eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p')",
      `nc -w 3 ${brokerIp} 9093 -e true && echo BROKER-OPEN || echo BROKER-REFUSED`,
      'nc -w 3 platform-kafka-bootstrap.kafka.svc 9093 -e true && echo BOOTSTRAP-OPEN || echo BOOTSTRAP-REFUSED',
      `timeout 5 wget -q -O - http://${consumerIp}:8080/metrics >/dev/null && echo METRICS-OPEN || echo METRICS-REFUSED`,
    ].join('; ');
    const { result: stranger, drops } = await enforcerDrops(() => runPodOnce(api, 'workloads', 'stranger', {}, script));
    expect(stranger.log).toContain('BROKER-REFUSED');
    expect(stranger.log).toContain('BOOTSTRAP-REFUSED');
    expect(stranger.log).toContain('METRICS-REFUSED');
    const ip = /OWN-IP (\S+)/.exec(stranger.log)![1];
    expect(drops.some((l) => l.includes(`${ip}.`) && l.includes(`> ${brokerIp}.9093`))).toBe(true);
    expect(drops.some((l) => l.includes(`${ip}.`) && l.includes(`> ${consumerIp}.8080`))).toBe(true);
    // The same pod with the services' labels reaches the broker and the bootstrap Service by name: the labels decide.
    const labelled = await runPodOnce(api, 'workloads', 'labelled', { 'app.kubernetes.io/part-of': 'kafka-platform' }, script);
    expect(labelled.log).toContain('BROKER-OPEN');
    expect(labelled.log).toContain('BOOTSTRAP-OPEN');
    for (const name of ['stranger', 'labelled']) await api.delete(namespaced('workloads', 'pods', name));
  }, 10 * MINUTE);

  it('scales the consumer on its group’s lag: KEDA’s ScaledObject and ClusterTriggerAuthentication accepted, at most one replica per partition', async () => {
    assertDeployed();
    const keda = await api.get<{ items: KubeObject[] }>(namespaced('kafka', 'deployments', undefined, 'apps') + '?labelSelector=app.kubernetes.io%2Fpart-of%3Dkeda-operator');
    expect(keda.items.length).toBeGreaterThan(0);
    for (const d of keda.items) expect(`${d.metadata.name} ${d.status.readyReplicas ?? 0}`).toBe(`${d.metadata.name} ${d.spec.replicas}`);
    const scaled = await api.get(namespaced('workloads', 'scaledobjects', 'consumer', 'keda.sh', 'v1alpha1'));
    expect(scaled.spec).toMatchObject({ minReplicaCount: 2, maxReplicaCount: 6, scaleTargetRef: { name: 'consumer' } });
    expect(scaled.spec.triggers[0]).toMatchObject({ type: 'kafka', metadata: { topic: POSTS_TOPIC, bootstrapServers: 'platform-kafka-bootstrap.kafka.svc:9093' } });
    const auth = await api.get(resourcePath('keda.sh', 'v1alpha1', 'clustertriggerauthentications', scaled.spec.triggers[0].authenticationRef.name));
    // Every value from Secrets of the Kafka namespace, KEDA's own: nothing copied, nothing in this test's state.
    expect(auth.spec.secretTargetRef.map((r: { parameter: string; name: string }) => `${r.parameter}:${r.name}`).sort()).toEqual(
      ['ca:platform-cluster-ca-cert', 'password:lag-reader', 'sasl:lag-reader-identity', 'tls:lag-reader-identity', 'username:lag-reader-identity'],
    );
  });

  it('has admission refuse a pod that violates PodSecurity restricted, and accept the workloads’ own pod spec', async () => {
    assertDeployed();
    const consumer = await api.get(namespaced('workloads', 'deployments', 'consumer', 'apps'));
    const pod = (spec: KubeObject['spec']) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `restricted-check-${run}`, namespace: 'workloads' }, spec });
    const own = consumer.spec.template.spec;
    await expect(api.request('POST', `${namespaced('workloads', 'pods')}?dryRun=All`, pod(own))).resolves.toMatchObject({ kind: 'Pod' });
    // The provider pitfall: a container security context without runAsNonRoot sends `false`.
    const violating = JSON.parse(JSON.stringify(own));
    violating.securityContext.runAsNonRoot = false;
    violating.containers[0].securityContext.runAsNonRoot = false;
    const refused = await api.request('POST', namespaced('workloads', 'pods'), pod(violating)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).status).toBe(403);
    expect((refused as KubeApiError).message).toMatch(/violates PodSecurity "restricted:latest": runAsNonRoot != true/);
  });

  it('reports no changes for any stack in the pull request workflow’s plan summary', async () => {
    assertDeployed();
    // The producer Job finished first: kept without a TTL, a finished Job is no change, so no
    // deploy after this one runs the load again.
    const producer = await api.waitFor(
      'the producer Job complete',
      async () => {
        const j = await api.get(namespaced('workloads', 'jobs', 'producer', 'batch'));
        return (j.status?.succeeded ?? 0) >= 1 ? j : undefined;
      },
      2 * MINUTE,
    );
    expect(producer.spec.ttlSecondsAfterFinished).toBeUndefined();
    const synth = workflowStep('pull-request.yml', 'diff', 'Synthesize');
    const diff = workflowStep('pull-request.yml', 'diff', 'Diff every stack in dependency order');
    const values = { ...secrets, PG_CONN_STR: overrides.PG_CONN_STR!, KAFKA_PLATFORM_ENV: 'dev' };
    await expectOk(await runCommand(synth.run, { ...overrides, ...stepEnvironment(synth, values) }), 'PR workflow: synth');
    const summaryFile = path.join(PROJECT_ROOT, 'plan-summary.md');
    try {
      await expectOk(await runCommand(diff.run, { ...overrides, ...stepEnvironment(diff, values) }), 'PR workflow: plan summary of three stacks');
      const summary = fs.readFileSync(summaryFile, 'utf8');
      for (const stack of ['addons-stack', 'kafka-stack', 'workloads-stack']) expect(summary).toContain(`| \`${stack}\` | No changes. |`);
    } finally {
      fs.rmSync(summaryFile, { force: true });
    }
  }, 30 * MINUTE);

  it('deploys again from the deploy workflow’s own steps on a fresh checkout with only its toolchain cache, no state, each stack from a checkout that never held it, and changes nothing', async () => {
    assertDeployed();
    // The stack job of deploy-environment.yml as written: a fresh checkout, its toolchain cache
    // restored, its toolchain step, then its deploy step once per matrix entry, in the stacks'
    // order. One checkout serves the three entries: their steps are the same but for STACK. No
    // stack's Terraform directory exists before its own deploy, so its state comes from
    // PostgreSQL alone, as on its own runner.
    const install = workflowStep('deploy-environment.yml', 'stack', 'Install the toolchain');
    const deploy = workflowStep('deploy-environment.yml', 'stack', 'Deploy ${{ matrix.stack }}');
    const stacks = ['addons-stack', 'kafka-stack', 'workloads-stack'];
    const runner = freshCheckout(path.join(DEPLOY_TEST_DIR, 'runner'));
    const applied: string[] = [];
    try {
      expect(['state', '.cache', 'node_modules', 'cdktf.out'].filter((d) => fs.existsSync(path.join(runner, d)))).toEqual([]);
      restoreToolchainCache(runner);
      const toolchain = await expectOk(await runCommand(install.run, { ...overrides, ...stepEnvironment(install, {}) }, 20 * MINUTE, undefined, runner), 'fresh runner: toolchain');
      // The restored node_modules is used as it is, though the checkout's lock file is newer than its stamp.
      expect(toolchain.output).not.toMatch(/bootstrap: (installing|rebuilding)/);
      for (const stack of stacks) {
        const stackDir = path.join(runner, 'cdktf.out', 'stacks', stack);
        expect(fs.existsSync(path.join(stackDir, overrides.TF_DATA_DIR!)) || fs.existsSync(path.join(stackDir, '.terraform'))).toBe(false);
        const values = { ...secrets, STACK: stack, PG_CONN_STR: overrides.PG_CONN_STR! };
        const r = await expectOk(await runCommand(deploy.run, { ...overrides, ...stepEnvironment(deploy, values) }, 20 * MINUTE, undefined, runner), `fresh runner ${stack}: deploy`);
        applied.push(`${stack}: ${/No changes\. Your infrastructure matches the configuration\./.test(r.output) ? 'no changes' : (r.output.match(/Plan: .*/)?.[0] ?? 'no plan line')}`);
      }
    } finally {
      fs.rmSync(runner, { recursive: true, force: true });
    }
    expect(applied).toEqual(['addons-stack: no changes', 'kafka-stack: no changes', 'workloads-stack: no changes']);
  }, 60 * MINUTE);

  it('plans a Kafka version bump in kafka-stack only', async () => {
    assertDeployed();
    const plans = await plansFor('kafka bump', { versions: (v) => void (v.kafka.version = '4.3.0') });
    // The Kafka resource changes; the wait for its reconcile is replaced, so it runs again.
    expect(plans).toEqual({ 'addons-stack': 'No changes.', 'kafka-stack': 'Plan: 1 to add, 1 to change, 1 to destroy.', 'workloads-stack': 'No changes.' });
  }, 30 * MINUTE);

  it('plans a chart bump in addons-stack only', async () => {
    assertDeployed();
    // The alloy archive repackaged as the next patch version: a real chart, a real upgrade plan.
    const work = fs.mkdtempSync(path.join(DEPLOY_TEST_DIR, 'chart-'));
    execFileSync('tar', ['-xzf', path.join(chartsDir, 'alloy-1.11.1.tgz'), '-C', work]);
    const chartYaml = path.join(work, 'alloy', 'Chart.yaml');
    fs.writeFileSync(chartYaml, fs.readFileSync(chartYaml, 'utf8').replace(/^version: 1\.11\.1$/m, 'version: 1.11.2'));
    execFileSync('tar', ['-czf', path.join(chartsDir, 'alloy-1.11.2.tgz'), '-C', work, 'alloy']);
    const plans = await plansFor('chart bump', { versions: (v) => void (v.charts.alloy.version = '1.11.2') });
    expect(plans).toEqual({ 'addons-stack': 'Plan: 0 to add, 1 to change, 0 to destroy.', 'kafka-stack': 'No changes.', 'workloads-stack': 'No changes.' });
  }, 30 * MINUTE);

  it('plans a service image bump in workloads-stack only', async () => {
    assertDeployed();
    // A release: the next tag, pushed, so new digests.
    const plans = await plansFor('image bump', { versions: (v) => void (v.images.services = '0.1.1') }, {
      TF_VAR_producer_image_digest: unpulledDigest('producer 0.1.1'),
      TF_VAR_consumer_image_digest: unpulledDigest('consumer 0.1.1'),
    });
    expect(plans['addons-stack']).toBe('No changes.');
    expect(plans['kafka-stack']).toBe('No changes.');
    expect(plans['workloads-stack']).toMatch(/^Plan: \d+ to add, \d+ to change, \d+ to destroy\.$/);
    expect(plans['workloads-stack']).not.toBe('Plan: 0 to add, 0 to change, 0 to destroy.');
    console.log(`image bump: workloads-stack ${plans['workloads-stack']}`);
  }, 30 * MINUTE);

  it('rolls the consumers onto a renewed cluster CA with the next apply of workloads-stack, leaving the producer Job as it was', async () => {
    assertDeployed();
    const deployment = namespaced('workloads', 'deployments', 'consumer', 'apps');
    const before = await api.get(deployment);
    const producer = await api.get(namespaced('workloads', 'jobs', 'producer', 'batch'));
    const renewed = await renewClusterCa(api, 'kafka', 'platform', operator.clusterCa());
    await expectOk(
      await runCommand('tools/with-toolchain.sh npx cdktf deploy workloads-stack --auto-approve --ignore-missing-stack-dependencies --skip-provider-lock', { ...overrides, ...secrets }),
      'deploy workloads-stack after a CA renewal',
    );
    // The copy the pods mount is the renewed CA...
    const copied = await api.get(namespaced('workloads', 'secrets', 'kafka-cluster-ca'));
    expect(Buffer.from(copied.data['ca.crt'] as string, 'base64').toString('utf8')).toBe(renewed);
    // ...and the digest in the pod template changed, so the Deployment rolled out new pods.
    const digest = (d: KubeObject) => d.spec.template.metadata.annotations?.[CLIENT_SECRETS_DIGEST_ANNOTATION] as string;
    const after = await api.waitFor(
      'the consumer rollout complete',
      async () => {
        const d = await api.get(deployment);
        const done = d.status.observedGeneration === d.metadata.generation && d.status.updatedReplicas === d.spec.replicas && d.status.availableReplicas === d.spec.replicas;
        return done ? d : undefined;
      },
      3 * MINUTE,
    );
    expect(digest(before)).toMatch(/^[0-9a-f]{64}$/);
    expect(digest(after)).toMatch(/^[0-9a-f]{64}$/);
    expect(digest(after)).not.toBe(digest(before));
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);
    const pods = await api.get<{ items: KubeObject[] }>(`${namespaced('workloads', 'pods')}?labelSelector=app.kubernetes.io%2Fname%3Dconsumer`);
    const templateHash = (p: KubeObject) => p.metadata.labels['pod-template-hash'];
    const current = await api.get<{ items: KubeObject[] }>(`${namespaced('workloads', 'replicasets', undefined, 'apps')}?labelSelector=app.kubernetes.io%2Fname%3Dconsumer`);
    const newest = current.items.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === after.metadata.annotations['deployment.kubernetes.io/revision'])!;
    expect(pods.items.filter((p) => !p.metadata.deletionTimestamp).map(templateHash)).toEqual(pods.items.filter((p) => !p.metadata.deletionTimestamp).map(() => newest.metadata.labels['pod-template-hash']));
    // The producer Job was not replaced: a renewal does not run the load again.
    expect((await api.get(namespaced('workloads', 'jobs', 'producer', 'batch'))).metadata.uid).toBe(producer.metadata.uid);
  }, 30 * MINUTE);

  it('fails the apply of a Kafka resource that violates its CRD schema with the server’s message, changing nothing', async () => {
    assertDeployed();
    // The config refuses every bad value it knows of before synthesis; this one only the CRD
    // knows (listener ports start at 9092), so it is written into the synthesized resource.
    const outdir = synthVariant('dev', overrides, {});
    const file = path.join(outdir, 'stacks', 'kafka-stack', 'cdk.tf.json');
    const tf = JSON.parse(fs.readFileSync(file, 'utf8'));
    tf.resource.kubernetes_manifest.kafka.manifest.spec.kafka.listeners[0].port = 9000;
    fs.writeFileSync(file, JSON.stringify(tf, null, 2));
    const r = await runCommand(
      `tools/with-toolchain.sh npx cdktf deploy kafka-stack --skip-synth --output ${outdir} --auto-approve --ignore-missing-stack-dependencies --skip-provider-lock`,
      { ...overrides, ...secrets },
    );
    timings['kafka-stack apply refused by the CRD schema'] = r.seconds;
    expect(r.status).not.toBe(0);
    // The API server's own words (the CLI wraps them over lines).
    expect(plainText(r.output)).toContain(
      'Kafka.kafka.strimzi.io "platform" is invalid: spec.kafka.listeners[0].port: Invalid value: 9000: spec.kafka.listeners[0].port in body should be greater than or equal to 9092',
    );
    const kafka = await api.get(namespaced('kafka', 'kafkas', 'platform', 'kafka.strimzi.io'));
    expect(kafka.spec.kafka.listeners[0].port).toBe(9093);
  }, 30 * MINUTE);

  it('returns from an apply that changes the Kafka resource only once the operator has reconciled that generation', async () => {
    assertDeployed();
    const before = await api.get(namespaced('kafka', 'kafkas', 'platform', 'kafka.strimzi.io'));
    // A change the operator must roll out: the User Operator's CPU limit.
    const outdir = synthVariant('dev', overrides, { environments: (e) => void (e.dev.kafka.resources.userOperator.limits.cpu = '300m') });
    const r = await expectOk(
      await runCommand(`tools/with-toolchain.sh npx cdktf deploy kafka-stack --skip-synth --output ${outdir} --auto-approve --ignore-missing-stack-dependencies --skip-provider-lock`, { ...overrides, ...secrets }, 30 * MINUTE, stopWhenKafkaStuck()),
      'kafka-stack apply of a Kafka change',
    );
    expect(r.output).toMatch(/kafka-stack\s+Apply complete!/);
    const after = await api.get(namespaced('kafka', 'kafkas', 'platform', 'kafka.strimzi.io'));
    expect(after.metadata.generation).toBe(before.metadata.generation + 1);
    // The simulated reconcile takes 20 s; an apply that returned on the previous generation's Ready is caught here.
    expect(`generation ${after.metadata.generation}, observed ${after.status.observedGeneration}`).toBe(`generation ${after.metadata.generation}, observed ${after.metadata.generation}`);
  }, 30 * MINUTE);

  it('destroys in reverse order, keeping the topics until they are removed from state on purpose', async () => {
    assertDeployed();
    const destroy = (stack: string) =>
      runCommand(`tools/with-toolchain.sh npx cdktf destroy ${stack} --auto-approve --ignore-missing-stack-dependencies --skip-provider-lock`, { ...overrides, ...secrets });
    // KEDA's external metrics API is served by its metrics server, which kwok does not run: the
    // API server reports it unavailable, and the namespace controller deletes no namespace while
    // an API group's discovery fails. On a real cluster KEDA answers; here its registration goes
    // first, so the namespaces can go (docs/local-kubernetes.md, "What is real, and what is not").
    const metricsApi = resourcePath('apiregistration.k8s.io', 'v1', 'apiservices', 'v1beta1.external.metrics.k8s.io');
    const registration = await api.get(metricsApi);
    expect((registration.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Available')?.status).toBe('False');
    await api.delete(metricsApi);
    await expectOk(await destroy('workloads-stack'), 'destroy workloads-stack');

    const protectedTopics = await destroy('kafka-stack');
    expect(protectedTopics.status).not.toBe(0);
    expect(protectedTopics.output).toMatch(/Instance cannot be destroyed/);
    expect(protectedTopics.output).toMatch(/kafka_topic\.posts (\(topics\/posts\) )?has lifecycle\.prevent_destroy set/);

    // Step one of the deliberate removal (docs/topics.md): out of the state...
    const stackDir = path.join(PROJECT_ROOT, 'cdktf.out', 'stacks', 'kafka-stack');
    await expectOk(await runCommand(`cd ${stackDir} && ${path.join(PROJECT_ROOT, 'tools', 'with-toolchain.sh')} sh -c '"$TERRAFORM_BINARY_NAME" state rm ${TOPIC_ADDRESSES.join(' ')}'`, overrides), 'state rm topics');
    await expectOk(await destroy('kafka-stack'), 'destroy kafka-stack');
    // ...so the cluster's resources are gone and the topics are still there...
    expect(await topicNames()).toEqual(expect.arrayContaining([POSTS_TOPIC, POSTS_DLQ_TOPIC]));
    // ...until step two deletes them with Kafka's tools.
    for (const topic of [POSTS_TOPIC, POSTS_DLQ_TOPIC]) await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', localBootstrapServers(), '--delete', '--topic', topic]);
    topicsCreatedHere = false;

    await expectOk(await destroy('addons-stack'), 'destroy addons-stack');
    for (const ns of ['workloads', 'kafka', 'monitoring']) {
      await api.waitFor(`namespace ${ns} deleted`, async () => ((await api.find(resourcePath('', 'v1', 'namespaces', ns))) ? undefined : true), 3 * MINUTE);
    }
    // The simulated User Operator took the admin's credentials with its KafkaUser.
    expect(operator.events).toContain('SCRAM credential and ACLs of kafka-admin removed from the local cluster');
    // CRDs stay by design: deleting one deletes every resource of its kind in the cluster.
    expect(await api.find(resourcePath('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'kafkas.kafka.strimzi.io'))).toBeDefined();
  }, 45 * MINUTE);
});
