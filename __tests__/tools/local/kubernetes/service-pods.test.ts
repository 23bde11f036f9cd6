import * as fs from 'fs';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { environments } from '../../../../config';
import { KafkaTools, runKafkaTool } from '../../../../tools/kafka-tool';
import { KubeApi, KubeObject, resourcePath } from '../../../../tools/local/kubernetes';
import { missingHostTool } from '../../../../tools/local/kubernetes/node';
import { NODE_SELECTOR_ANNOTATION, onRealNode, pathOf } from '../../../../tools/local/kubernetes/node-cluster';
import { CACHE_DIR } from '../../../../tools/paths';
import { createPostsLikeTopic } from '../../../chaos/cluster';
import { groupLag } from '../../../chaos/runs';
import { readTopic } from '../../../chaos/verifier';
import { FIRST_BUILD_TIMEOUT_MS, publishLocally, published, startRegistry, stopRegistryIfStarted } from '../../../support/images';
import { kubernetesBinariesReady } from '../../../support/kubernetes-build';
import { enforcerDrops, JOIN_NODE_IP, joinNodeConfig, joinTestKubernetes, podsKafka, runPodOnce } from '../../../support/real-node';
import { resourcesOf, synthEnvironment, TerraformJson } from '../../../support/synth';

/**
 * The platform's own images as pods on the real node: pulled by digest from the local registry
 * (what `npm run images` pushed), run with workloads-stack's pod spec (its hardening fields are
 * compared with the synthesized stack below), their Secrets mounted and their probes called by
 * the kubelet, behind workloads-stack's NetworkPolicies enforced by the node's enforcer. The
 * brokers are a cluster on this machine whose SASL_SSL listeners are on the node's bridge address
 * (support/real-node.ts), until the brokers run as pods. Delivery is counted with Kafka's own
 * tools (GetOffsetShell, ConsoleConsumer, ConsumerGroupCommand), never the services' counters.
 */
const cluster = joinTestKubernetes;
const env = environments.dev;
const NS = env.namespaces.workloads;
const TOPIC = 'posts';
const DLQ = 'posts.dlq';
const GROUP = 'posts-consumer';
const MESSAGES = 3000;
const UID = 65532;
const quiet = () => undefined;
let api: KubeApi;
let images: { producer: string; consumer: string };
let registryStarted = false;
let workloads: TerraformJson;

beforeAll(async () => {
  const missing = missingHostTool();
  if (missing) throw new Error(missing);
  await kubernetesBinariesReady((line) => console.log(`[local-kubernetes] ${line}`), 75 * 60_000, true);
  workloads = synthEnvironment('dev').stacks['workloads-stack'];
  await cluster.down({ purge: true, log: quiet });
  fs.rmSync(path.join(CACHE_DIR, 'join-test', 'kubernetes', 'node'), { recursive: true, force: true });
  await cluster.up({ log: (l) => console.log(`[service-pods] ${l}`), timeoutMs: 300_000 });
  api = cluster.api();
  // After the node: its bridge holds the address the brokers' SASL_SSL listeners bind.
  await podsKafka.up({ log: (l) => console.log(`[pods-kafka] ${l}`) });
  const admin = new Kafka({ clientId: 'service-pods-admin', brokers: podsKafka.bootstrapServers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    const gone = [TOPIC, DLQ].filter((t) => existing.includes(t));
    if (gone.length) await admin.deleteTopics({ topics: gone });
    await new Promise((r) => setTimeout(r, 2000));
    await createPostsLikeTopic(admin, TOPIC);
    await createPostsLikeTopic(admin, DLQ);
  } finally {
    await admin.disconnect();
  }
  const acl = (args: string[]) => runKafkaTool(KafkaTools.acls, ['--bootstrap-server', podsKafka.bootstrapServers(), '--add', ...args]);
  await acl(['--allow-principal', 'User:producer', '--operation', 'Write', '--operation', 'Describe', '--topic', TOPIC]);
  await acl(['--allow-principal', 'User:consumer', '--operation', 'Read', '--operation', 'Describe', '--topic', TOPIC]);
  await acl(['--allow-principal', 'User:consumer', '--operation', 'Read', '--group', GROUP]);
  await acl(['--allow-principal', 'User:consumer', '--operation', 'Write', '--operation', 'Describe', '--topic', DLQ]);

  registryStarted = await startRegistry();
  const record = await publishLocally();
  images = { producer: published(record, 'producer').pushed.reference, consumer: published(record, 'consumer').pushed.reference };
}, FIRST_BUILD_TIMEOUT_MS + 900_000);

afterAll(async () => {
  api?.close();
  await cluster.down({ log: quiet });
  await podsKafka.down({ log: quiet }).catch(() => undefined);
  await stopRegistryIfStarted(registryStarted);
}, 300_000);

const apply = (o: KubeObject) => api.apply(pathOf(o), o);
const runOnce = (name: string, podLabels: Record<string, string>, script: string) => runPodOnce(api, NS, name, podLabels, script);
const PART_OF = { 'app.kubernetes.io/part-of': 'kafka-platform' };
const labels = (s: string) => ({ 'app.kubernetes.io/name': s, ...PART_OF });
const brokerPorts = () => podsKafka.nodes().map((n) => n.saslPort);

/** The pod spec workloads-stack synthesizes for a service (the Job's or the Deployment's template). */
function stackPodSpec(service: 'producer' | 'consumer'): TerraformJson {
  const [type, id] = service === 'producer' ? ['kubernetes_job_v1', 'producer-job'] : ['kubernetes_deployment_v1', 'consumer-deployment'];
  const resource = resourcesOf(workloads, type)[id];
  if (!resource) throw new Error(`workloads-stack has no ${type}.${id}`);
  return resource.spec.template.spec;
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
/** Terraform's names for repeated blocks, and the API's. */
const PLURAL: Record<string, string> = { volume_mount: 'volumeMounts', port: 'ports', volume: 'volumes', container: 'containers' };

/**
 * A block of the kubernetes provider's schema in the API's shape: camelCase names, integers
 * where the provider takes strings (`run_as_user: '65532'`), an octal `default_mode` as its value.
 */
function toApi(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => toApi(v, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [(Array.isArray(v) && PLURAL[k]) || camel(k), toApi(v, k)]));
  }
  if (typeof value === 'string') {
    if (key === 'default_mode') return parseInt(value, 8);
    // A port given as digits is a number (as a string it would be a port name, and invalid).
    if (/^\d+$/.test(value) && /(_user|_group|_seconds|_threshold|container_port|^port)$/.test(key)) return Number(value);
  }
  return value;
}

/**
 * The service's pod spec as workloads-stack writes it, turned into the API's shape, with what
 * this layout supplies instead of the stack's references: the pushed image, the Secrets made
 * here, no OTLP endpoint (no collector runs here), and `extraEnv`.
 */
function podSpec(service: 'producer' | 'consumer', extraEnv: Record<string, string> = {}): TerraformJson {
  const stack = stackPodSpec(service);
  const container = stack.container[0];
  const secretOf: Record<string, string> = { 'kafka-ca': 'kafka-cluster-ca', 'kafka-credentials': `kafka-${service}-credentials` };
  // The user name comes from kafka-stack's state in the stack; here it is the local cluster's user.
  extraEnv = { KAFKA_SASL_USERNAME: service, ...extraEnv };
  const env = (container.env as TerraformJson[]).filter((e) => e.name !== 'OTEL_EXPORTER_OTLP_ENDPOINT' && !(e.name in extraEnv) && !JSON.stringify(e).includes('${'));
  return {
    serviceAccountName: service,
    automountServiceAccountToken: stack.automount_service_account_token,
    enableServiceLinks: stack.enable_service_links,
    terminationGracePeriodSeconds: stack.termination_grace_period_seconds,
    securityContext: toApi(stack.security_context),
    containers: [
      {
        name: service,
        image: images[service],
        imagePullPolicy: container.image_pull_policy,
        envFrom: toApi(container.env_from),
        env: [...(toApi(env) as TerraformJson[]), ...Object.entries(extraEnv).map(([name, value]) => ({ name, value }))],
        ports: toApi(container.port),
        livenessProbe: toApi(container.liveness_probe),
        readinessProbe: toApi(container.readiness_probe),
        resources: toApi(container.resources),
        securityContext: toApi(container.security_context),
        volumeMounts: toApi(container.volume_mount),
      },
    ],
    volumes: (stack.volume as TerraformJson[]).map((v) =>
      v.secret ? { name: v.name, secret: { secretName: secretOf[v.name], defaultMode: parseInt(v.secret.default_mode, 8) } } : toApi(v),
    ),
  };
}

describe('the platform services as pods on the real node', () => {
  it("take workloads-stack's pod spec: uid 65532, read-only root, no capabilities, no token, RuntimeDefault seccomp, both probes", () => {
    for (const service of ['producer', 'consumer'] as const) {
      const spec = podSpec(service);
      const c = spec.containers[0];
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: UID, runAsGroup: UID, fsGroup: UID, seccompProfile: { type: 'RuntimeDefault' } });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] }, runAsUser: UID });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.volumeMounts.map((m: TerraformJson) => m.mountPath).sort()).toEqual(['/etc/kafka-client/ca', '/etc/kafka-client/sasl', '/tmp']);
      expect(spec.volumes.filter((v: TerraformJson) => v.secret).map((v: TerraformJson) => v.secret.defaultMode)).toEqual([0o440, 0o440]);
    }
  });

  it('pull by digest from the local registry, deliver every message and consume it, behind the stack\'s NetworkPolicies', async () => {
    // The namespace as workloads-stack makes it, placed on the real node for this cluster.
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: NS,
        labels: { ...PART_OF, 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' },
        annotations: { [NODE_SELECTOR_ANNOTATION]: onRealNode(joinNodeConfig) },
      },
    });
    await api.waitFor('the default ServiceAccount', () => api.find(resourcePath('', 'v1', 'serviceaccounts', 'default', NS)), 60_000);
    const secret = (name: string, data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NS, labels: PART_OF },
      type: 'Opaque',
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    });
    await apply(secret('kafka-cluster-ca', { 'ca.crt': fs.readFileSync(podsKafka.caFile(), 'utf8') }));
    for (const s of ['producer', 'consumer']) {
      await apply(secret(`kafka-${s}-credentials`, { password: fs.readFileSync(podsKafka.userPasswordFile(s), 'utf8').trim() }));
      await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: s, namespace: NS, labels: labels(s) }, automountServiceAccountToken: false });
    }
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kafka-client', namespace: NS, labels: PART_OF },
      data: {
        KAFKA_BROKERS: podsKafka.saslBootstrapServers(),
        KAFKA_TOPIC: TOPIC,
        KAFKA_DLQ_TOPIC: DLQ,
        KAFKA_GROUP_ID: GROUP,
        KAFKA_TLS_CA_FILE: '/etc/kafka-client/ca/ca.crt',
        KAFKA_SASL_PASSWORD_FILE: '/etc/kafka-client/sasl/password',
        HTTP_PORT: '8080',
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_MS: '20000',
      },
    });
    // workloads-stack's policies: default deny, DNS, then Kafka. Its allow-kafka names broker
    // pods of the kafka namespace; these brokers are on this machine, so one more rule is needed
    // on this layout: egress to the node's address on the brokers' ports.
    const policy = (name: string, spec: object) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: NS, labels: PART_OF }, spec });
    const stackPolicies = Object.values(resourcesOf(workloads, 'kubernetes_network_policy_v1')) as TerraformJson[];
    expect(stackPolicies.map((p) => p.metadata.name).sort()).toEqual(['allow-dns', 'allow-kafka', 'allow-metrics-scrape', 'allow-otlp', 'default-deny']);
    // Each as synthesized, but allow-kafka, whose port is computed from kafka-stack's outputs
    // at plan time and whose peers are broker pods of the kafka namespace (none on this layout).
    const applied: string[] = [];
    for (const p of stackPolicies.filter((x) => x.metadata.name !== 'allow-kafka')) {
      // The monitoring namespace's name arrives from addons-stack's state: dev's, as the deploy has it.
      const spec = JSON.parse(JSON.stringify(p.spec).replace(/\$\{data\.terraform_remote_state\.[^}]*monitoring-namespace[^}]*\}/g, env.namespaces.monitoring));
      expect(JSON.stringify(spec)).not.toContain('${');
      await apply(policy(p.metadata.name, toApi(spec) as object));
      applied.push(p.metadata.name);
    }
    expect(applied.sort()).toEqual(['allow-dns', 'allow-metrics-scrape', 'allow-otlp', 'default-deny']);
    // The one rule this layout needs beyond the stack's: egress to the brokers on this machine's
    // bridge address, on their SASL_SSL ports, for the services' pods only.
    await apply(
      policy('allow-kafka-on-this-machine', {
        podSelector: { matchLabels: PART_OF },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: `${JOIN_NODE_IP}/32` } }], ports: brokerPorts().map((port) => ({ port, protocol: 'TCP' })) }],
      }),
    );
    await new Promise((r) => setTimeout(r, 3000));

    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'consumer', namespace: NS, labels: labels('consumer') },
      spec: { replicas: 1, selector: { matchLabels: labels('consumer') }, template: { metadata: { labels: labels('consumer') }, spec: podSpec('consumer', {}) } },
    });
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'producer', namespace: NS, labels: labels('producer') },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 600,
        template: {
          metadata: { labels: labels('producer') },
          spec: { ...podSpec('producer', { MESSAGE_COUNT: String(MESSAGES), RATE_LIMIT: '1000', PAYLOAD_SIZE: '512', KEY_STRATEGY: 'id', BATCH_SIZE: '500' }), restartPolicy: 'Never' },
        },
      },
    });

    const job = await api.waitFor(
      'the producer Job to finish',
      async () => {
        const j = await api.get(resourcePath('batch', 'v1', 'jobs', 'producer', NS));
        return (j.status?.succeeded ?? 0) > 0 || (j.status?.failed ?? 0) > 0 ? j : undefined;
      },
      300_000,
      1000,
    );
    const pods = (await api.get<{ items: KubeObject[] }>(`${resourcePath('', 'v1', 'pods', undefined, NS)}`)).items;
    const logs = async (p: KubeObject) =>
      `${p.metadata.name}:\n${await api
        .request<unknown>('GET', `${resourcePath('', 'v1', 'pods', p.metadata.name, NS)}/log?tailLines=40`)
        .then((l) => (typeof l === 'string' ? l : JSON.stringify(l)))
        .catch((e: Error) => e.message)}`;
    if (!job.status?.succeeded) throw new Error(`the producer Job failed: ${JSON.stringify(job.status)}\n${(await Promise.all(pods.map(logs))).join('\n---\n')}`);

    // Kafka's own count: every acknowledged message is in the topic.
    const content = await readTopic(podsKafka.bootstrapServers(), TOPIC);
    expect(content.records).toBe(MESSAGES);
    expect(content.ids.size).toBe(MESSAGES);

    const consumer = await api.waitFor(
      'the consumer Deployment Ready (its /readyz, called by the kubelet)',
      async () => {
        const d = await api.get(resourcePath('apps', 'v1', 'deployments', 'consumer', NS));
        return (d.status?.readyReplicas ?? 0) >= 1 ? d : undefined;
      },
      180_000,
      1000,
    );
    expect(consumer.status.readyReplicas).toBe(1);
    // Every message processed and committed: the group's lag is 0 on each partition.
    await api.waitFor('the consumer group at the log end', async () => ((await groupLag(GROUP, podsKafka)).every((l) => l === 0) ? true : undefined), 180_000, 2000);
    expect(await groupLag(GROUP, podsKafka)).toEqual(Array(6).fill(0));

    // What ran where: on the real node, by the digest pushed, as uid 65532.
    const ran = (await api.get<{ items: KubeObject[] }>(`${resourcePath('', 'v1', 'pods', undefined, NS)}`)).items;
    for (const s of ['producer', 'consumer'] as const) {
      const p = ran.find((x) => x.metadata.labels?.['app.kubernetes.io/name'] === s)!;
      expect(p.spec.nodeName).toBe(joinNodeConfig.name);
      expect(p.status.containerStatuses[0].imageID).toBe(images[s]);
      console.log(`[service-pods] ${s}: pod ${p.metadata.name} on ${p.spec.nodeName} (${p.status.podIP}), image ${p.status.containerStatuses[0].imageID}`);
    }
  });

  it("refuse a pod without the services' labels: the brokers and the consumer's metrics port, each refusal in the enforcer's drop log", async () => {
    const consumerPod = (await api.get<{ items: KubeObject[] }>(`${resourcePath('', 'v1', 'pods', undefined, NS)}?labelSelector=app.kubernetes.io%2Fname%3Dconsumer`)).items[0];
    const consumerIp = consumerPod.status.podIP as string;
    const [broker] = brokerPorts();
    const script = [
      'sleep 5',
      "echo OWN-IP $(ip -4 addr show eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p')",
      `nc -w 3 ${JOIN_NODE_IP} ${broker} -e true && echo BROKER-OPEN || echo BROKER-REFUSED`,
      `timeout 5 wget -q -O - http://${consumerIp}:8080/metrics >/dev/null && echo METRICS-OPEN || echo METRICS-REFUSED`,
    ].join('; ');
    const { result: stranger, drops } = await enforcerDrops(() => runOnce('stranger', {}, script));
    expect(stranger.log).toContain('BROKER-REFUSED');
    expect(stranger.log).toContain('METRICS-REFUSED');
    const ip = /OWN-IP (\S+)/.exec(stranger.log)![1];
    expect(drops.some((l) => l.includes(`${ip}.`) && l.includes(`> ${JOIN_NODE_IP}.${broker}`))).toBe(true);
    expect(drops.some((l) => l.includes(`${ip}.`) && l.includes(`> ${consumerIp}.8080`))).toBe(true);
    // The same pod with the services' labels gets through to the broker: the labels decide.
    const labelled = await runOnce('labelled', PART_OF, script);
    expect(labelled.log).toContain('BROKER-OPEN');
  });
});
