import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Token } from 'cdktf';
import { buildApp } from '../../main';
import { environments, versions } from '../../config';
import { CONSUMER_GROUP, POSTS_DLQ_TOPIC, POSTS_TOPIC } from '../../config/topics';
import { KAFKA_METRICS_FILE } from '../../modules/kafka-cluster';
import { KafkaStack } from '../../stacks/kafka-stack';
import { chartDefaults, unknownValuesKeys, validateCustomResource } from '../support/schemas';
import { TerraformJson, resourcesOf, synthEnvironment } from '../support/synth';
import { terraformOk } from '../support/toolchain';

const VALIDATED_KINDS = ['Kafka', 'KafkaNodePool', 'KafkaUser', 'PodMonitor', 'PrometheusRule', 'ClusterTriggerAuthentication'];
const ADMIN_PASSWORD_REF = '${var.kafka_admin_password}';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec: any;
}

function manifests(stack: TerraformJson): Manifest[] {
  return Object.values(resourcesOf(stack, 'kubernetes_manifest')).map((r) => r.manifest as Manifest);
}

const ofKind = (stack: TerraformJson, kind: string) => manifests(stack).filter((m) => m.kind === kind);
const user = (stack: TerraformJson, name: string) => ofKind(stack, 'KafkaUser').find((u) => u.metadata.name === name)!;

/** Every string value under a key that names a password, anywhere in the JSON. */
function passwordValues(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => passwordValues(n, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (/password/i.test(key) && typeof value === 'string') out.push(value);
      passwordValues(value, out);
    }
  }
  return out;
}

describe.each(['dev', 'prod'] as const)('kafka-stack in %s', (environment) => {
  const { stacks } = synthEnvironment(environment);
  const kafkaStack = stacks['kafka-stack'];
  const env = environments[environment].kafka;

  it('synthesizes', () => {
    expect(kafkaStack).toBeDefined();
    expect(manifests(kafkaStack).length).toBeGreaterThan(0);
  });

  it('has only custom resources that validate against their CRDs', () => {
    const all = manifests(kafkaStack);
    expect(new Set(all.map((m) => m.kind))).toEqual(new Set(VALIDATED_KINDS));
    for (const m of all) expect({ [`${m.kind}/${m.metadata.name}`]: validateCustomResource(m) }).toEqual({ [`${m.kind}/${m.metadata.name}`]: [] });
  });

  it('puts everything in the namespace addons-stack created, by reference', () => {
    // ClusterTriggerAuthentication is cluster-scoped; the Secrets it names are in that namespace.
    for (const m of manifests(kafkaStack).filter((m) => m.kind !== 'ClusterTriggerAuthentication')) {
      expect(m.metadata.namespace).toMatch(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-addons-stack\./);
    }
    expect(resourcesOf(kafkaStack, 'kubernetes_namespace_v1')).toEqual({});
    expect(resourcesOf(kafkaStack, 'helm_release')).toEqual({});
  });

  it('runs the configured Kafka and metadata versions and waits for the cluster to be Ready', () => {
    const kafka = resourcesOf(kafkaStack, 'kubernetes_manifest').kafka;
    expect(kafka.manifest.spec.kafka).toMatchObject({ version: env.version, metadataVersion: env.metadataVersion });
    expect(kafka.wait).toEqual({ condition: [{ type: 'Ready', status: 'True' }] });
  });

  it('is rack aware with zone and hostname spread for every node pool', () => {
    const [kafka] = ofKind(kafkaStack, 'Kafka');
    expect(kafka.spec.kafka.rack).toEqual({ topologyKey: 'topology.kubernetes.io/zone' });
    for (const pool of ofKind(kafkaStack, 'KafkaNodePool')) {
      const keys = pool.spec.template.pod.topologySpreadConstraints.map((c: { topologyKey: string }) => c.topologyKey);
      expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    }
  });

  it('secures both listeners with TLS + SCRAM and authorizes with ACLs and the admin super user', () => {
    const [kafka] = ofKind(kafkaStack, 'Kafka');
    expect(kafka.spec.kafka.listeners).toEqual([
      { name: 'tls', port: 9093, type: 'internal', tls: true, authentication: { type: 'scram-sha-512' } },
      {
        name: 'external',
        port: 9094,
        type: env.externalListener,
        tls: true,
        authentication: { type: 'scram-sha-512' },
        // NodePort: one advertised host (from the variable) that Strimzi names in every broker certificate, on fixed node ports.
        ...(env.externalListener === 'nodeport'
          ? {
              configuration: {
                bootstrap: { nodePort: 31092 },
                brokers: [{ broker: 0, nodePort: 31093 }, { broker: 1, nodePort: 31094 }, { broker: 2, nodePort: 31095 }],
                advertisedHostTemplate: '${var.kafka_external_host}',
              },
            }
          : {
              // LoadBalancer (prod): the configured source ranges and NetworkPolicy peers.
              configuration: { loadBalancerSourceRanges: ['10.0.0.0/8'] },
              networkPolicyPeers: [{ ipBlock: { cidr: '10.0.0.0/8' } }],
            }),
      },
    ]);
    if (env.externalListener === 'nodeport') {
      expect(kafkaStack.variable.kafka_external_host).toMatchObject({ type: 'string', default: '127.0.0.1', nullable: false });
    } else {
      expect(kafkaStack.variable.kafka_external_host).toBeUndefined();
    }
    expect(kafka.spec.kafka.authorization).toEqual({ type: 'simple', superUsers: ['kafka-admin'] });
  });

  it('reads the JMX exporter rules from kafka-metrics.yaml into the ConfigMap the Kafka resource names', () => {
    const [configMap] = Object.values(resourcesOf(kafkaStack, 'kubernetes_config_map_v1'));
    expect(configMap.data['kafka-metrics-config.yaml']).toBe(fs.readFileSync(KAFKA_METRICS_FILE, 'utf8'));
    const [kafka] = ofKind(kafkaStack, 'Kafka');
    expect(kafka.spec.kafka.metricsConfig.valueFrom.configMapKeyRef.name).toMatch(/^\$\{kubernetes_config_map_v1\./);
    expect(ofKind(kafkaStack, 'PodMonitor').map((m) => m.metadata.name).sort()).toEqual(['platform-kafka-exporter', 'platform-kafka-nodes', 'strimzi-cluster-operator']);
  });

  it('gives the producer and the consumer exactly the access they need', () => {
    const topic = (name: string) => ({ type: 'topic', name, patternType: 'literal' });
    expect(user(kafkaStack, 'producer').spec).toEqual({
      authentication: { type: 'scram-sha-512' },
      authorization: {
        type: 'simple',
        acls: [
          { resource: topic(POSTS_TOPIC), operations: ['Write', 'Describe'] },
          { resource: { type: 'cluster' }, operations: ['IdempotentWrite'] },
        ],
      },
    });
    const consumer = user(kafkaStack, 'consumer').spec;
    expect(consumer.authentication).toEqual({ type: 'scram-sha-512' });
    expect(consumer.authorization.acls).toEqual(
      expect.arrayContaining([
        { resource: topic(POSTS_TOPIC), operations: ['Read', 'Describe'] },
        { resource: { type: 'group', name: CONSUMER_GROUP, patternType: 'literal' }, operations: ['Read'] },
        { resource: topic(POSTS_DLQ_TOPIC), operations: expect.arrayContaining(['Write']) },
      ]),
    );
  });

  it('sets the admin password only from the sensitive variable, through a Secret', () => {
    expect(kafkaStack.variable.kafka_admin_password).toMatchObject({ sensitive: true, type: 'string' });
    const [secret] = Object.values(resourcesOf(kafkaStack, 'kubernetes_secret_v1'));
    expect(secret.data).toEqual({ password: ADMIN_PASSWORD_REF });
    const admin = user(kafkaStack, 'kafka-admin');
    expect(admin.spec.authentication).toEqual({
      type: 'scram-sha-512',
      password: { valueFrom: { secretKeyRef: { name: expect.stringMatching(/^\$\{kubernetes_secret_v1\./), key: 'password' } } },
    });
    expect(admin.spec).not.toHaveProperty('authorization');
    for (const value of passwordValues(kafkaStack)) expect(value).toBe(ADMIN_PASSWORD_REF);
    for (const stack of Object.values(stacks)) expect(JSON.stringify(stack)).not.toMatch(/"(sasl_)?password"\s*:\s*"[^"$]/i);
    expect(JSON.stringify(kafkaStack).split(ADMIN_PASSWORD_REF)).toHaveLength(3); // the Secret and the provider
  });

  it('configures the Kafka provider for the external listener as the admin over TLS + SCRAM', () => {
    expect(kafkaStack.provider.kafka).toEqual([
      {
        bootstrap_servers: expect.stringContaining('var.kafka_bootstrap_servers != null ? var.kafka_bootstrap_servers :'),
        tls_enabled: true,
        ca_cert: expect.stringContaining('var.kafka_ca_cert != null ? var.kafka_ca_cert :'),
        sasl_mechanism: 'scram-sha512',
        sasl_username: 'kafka-admin',
        sasl_password: ADMIN_PASSWORD_REF,
      },
    ]);
    expect(kafkaStack.variable.kafka_bootstrap_servers).toMatchObject({ type: 'list(string)', default: null });
    expect(kafkaStack.variable.kafka_ca_cert).toMatchObject({ type: 'string', default: null });
  });

  it('reads the external address and CA from the Kafka status once the cluster is applied, so one deploy suffices', () => {
    const lookup = kafkaStack.data.kubernetes_resource['kafka-status'];
    // After a marker that follows the cluster's first Ready and never changes, so later plans read
    // the status at plan time even while the Kafka resource changes (a version bump).
    expect(lookup).toMatchObject({ api_version: 'kafka.strimzi.io/v1', kind: 'Kafka', depends_on: ['terraform_data.cluster-created'] });
    expect(kafkaStack.resource.terraform_data['cluster-created'].depends_on).toContain('kubernetes_manifest.kafka');
    expect(kafkaStack.resource.terraform_data['cluster-created'].triggers_replace).toBeUndefined();
    const [provider] = kafkaStack.provider.kafka;
    expect(provider.bootstrap_servers).toContain('data.kubernetes_resource.kafka-status.object.status.listeners');
    expect(provider.ca_cert).toContain('data.kubernetes_resource.kafka-status.object.status.listeners');
  });

  it('evaluates those expressions against a Strimzi status with the real CLI', () => {
    const [provider] = kafkaStack.provider.kafka as { bootstrap_servers: string; ca_cert: string }[];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-status-'));
    // A status as Strimzi reports it: one entry per listener, certificates are the cluster CA.
    const status = {
      listeners: [
        { name: 'tls', bootstrapServers: 'platform-kafka-bootstrap.kafka.svc:9093', certificates: ['INTERNAL-CA'] },
        { name: 'external', bootstrapServers: '10.0.0.1:31001,10.0.0.2:31001', certificates: ['CLUSTER-CA'] },
      ],
    };
    const asLocal = (expr: string) => expr.slice(2, -1).replace(/data\.kubernetes_resource\.kafka-status\.object\.status/g, 'local.status').replace(/var\./g, 'local.');
    fs.writeFileSync(
      path.join(dir, 'main.tf.json'),
      JSON.stringify({
        locals: { status, kafka_bootstrap_servers: null, kafka_ca_cert: null },
        output: { servers: { value: `\${${asLocal(provider.bootstrap_servers)}}` }, ca: { value: `\${${asLocal(provider.ca_cert)}}` } },
      }),
    );
    terraformOk(['init', '-backend=false', '-input=false', '-no-color'], dir);
    terraformOk(['apply', '-auto-approve', '-input=false', '-no-color'], dir);
    expect(JSON.parse(terraformOk(['output', '-json', 'servers'], dir))).toEqual(['10.0.0.1:31001', '10.0.0.2:31001']);
    expect(JSON.parse(terraformOk(['output', '-json', 'ca'], dir))).toBe('CLUSTER-CA');
  });

  it('waits, after every change of the Kafka resource, until the operator has reconciled that generation', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const reconciled = Object.entries(kafkaStack.resource.terraform_data).find(([k]) => k.includes('reconciled'))?.[1] as any;
    expect(reconciled).toBeDefined();
    expect(reconciled.depends_on).toEqual(['kubernetes_manifest.kafka']);
    expect(reconciled.triggers_replace).toEqual({ manifest: '${sha256(jsonencode(kubernetes_manifest.kafka.manifest))}' });
    const command = reconciled.provisioner[0]['local-exec'].command as string;
    expect(command).toContain(`wait kafka.kafka.strimzi.io/platform --for=jsonpath='{.status.observedGeneration}'="$g" --timeout=30m`);
    expect(command).toMatch(/^g=\$\(kubectl --kubeconfig ~\/'\.kube\/config' -n '\$\{data\.terraform_remote_state\.[^']+' get kafka\.kafka\.strimzi\.io\/platform -o jsonpath='\{\.metadata\.generation\}'\)/);
  });

  it('waits for every KafkaUser’s credentials, after the reconcile: workloads-stack mounts the producer’s and consumer’s Secrets', () => {
    const reconciledAddress = `terraform_data.${Object.entries(kafkaStack.resource.terraform_data).find(([k]) => k.includes('reconciled'))?.[0]}`;
    const users = Object.values(resourcesOf(kafkaStack, 'kubernetes_manifest')).filter((r) => r.manifest.kind === 'KafkaUser');
    const byName = (list: { name: string }[]) => list.sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(users.map((u) => ({ name: u.manifest.metadata.name as string, wait: u.wait ?? 'no wait' })))).toEqual(
      ['consumer', 'kafka-admin', 'lag-reader', 'producer'].map((name) => ({ name, wait: { condition: [{ type: 'Ready', status: 'True' }] } })),
    );
    for (const u of users) expect(u.depends_on).toContain(reconciledAddress);
  });

  it('stops the plan, naming the label and the kubectl command, when no node carries the zone label (evaluated with the real CLI)', () => {
    const nodes = kafkaStack.data.kubernetes_nodes.nodes;
    const [check] = nodes.lifecycle.postcondition as { condition: string; error_message: string }[];
    expect(check.error_message).toBe(
      "no node of this cluster has the label topology.kubernetes.io/zone, which the brokers' rack awareness and zone spread require (kind and minikube set none): label the nodes, e.g. kubectl label nodes --all topology.kubernetes.io/zone=dev-a",
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zone-check-'));
    const node = (labels: Record<string, string>) => ({ metadata: [{ labels }] });
    const kind = [node({ 'kubernetes.io/hostname': 'kind-control-plane' })];
    const cloud = [node({ 'kubernetes.io/hostname': 'a' }), node({ 'kubernetes.io/hostname': 'b', 'topology.kubernetes.io/zone': 'eu-west-1a' })];
    // A JSON literal is an HCL object/tuple constructor too.
    const evaluate = (list: object[]) => `\${${check.condition.slice(2, -1).replace(/self\.nodes/g, JSON.stringify(list))}}`;
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ output: { kind: { value: evaluate(kind) }, cloud: { value: evaluate(cloud) } } }));
    terraformOk(['init', '-backend=false', '-input=false', '-no-color'], dir);
    terraformOk(['apply', '-auto-approve', '-input=false', '-no-color'], dir);
    expect([JSON.parse(terraformOk(['output', '-json', 'kind'], dir)), JSON.parse(terraformOk(['output', '-json', 'cloud'], dir))]).toEqual([false, true]);
  });

  it('creates the topics only after the cluster and the admin user are Ready', () => {
    const adminAddress = Object.entries(resourcesOf(kafkaStack, 'kubernetes_manifest')).find(([, r]) => r.manifest.kind === 'KafkaUser' && r.manifest.metadata.name === 'kafka-admin')![0];
    expect(resourcesOf(kafkaStack, 'kubernetes_manifest')[adminAddress].wait).toEqual({ condition: [{ type: 'Ready', status: 'True' }] });
    const topics = resourcesOf(kafkaStack, 'kafka_topic');
    expect(Object.values(topics).map((t) => t.name).sort()).toEqual([POSTS_TOPIC, POSTS_DLQ_TOPIC].sort());
    const created = kafkaStack.resource.terraform_data['cluster-created'];
    expect(created.depends_on).toEqual(expect.arrayContaining(['kubernetes_manifest.kafka', `kubernetes_manifest.${adminAddress}`]));
    for (const t of Object.values(topics)) expect(t.depends_on).toEqual(['terraform_data.cluster-created']);
    expect(resourcesOf(kafkaStack, 'kafka_acl')).toEqual({});
  });
});

describe('node pools', () => {
  const pools = (environment: string) =>
    ofKind(synthEnvironment(environment).stacks['kafka-stack'], 'KafkaNodePool')
      .map((p) => ({ roles: p.spec.roles, replicas: p.spec.replicas }))
      .sort((a, b) => a.roles.join().localeCompare(b.roles.join()));

  it('are 3 dedicated controllers and 3 brokers in prod', () => {
    expect(pools('prod')).toEqual([
      { roles: ['broker'], replicas: 3 },
      { roles: ['controller'], replicas: 3 },
    ]);
  });

  it('are 3 combined-role nodes in dev', () => {
    expect(pools('dev')).toEqual([{ roles: ['controller', 'broker'], replicas: 3 }]);
  });
});

describe('the Strimzi operator in addons-stack', () => {
  const addons = synthEnvironment('prod').stacks['addons-stack'];
  const release = Object.values(resourcesOf(addons, 'helm_release')).find((r) => r.chart === versions.charts.strimzi.chart)!;

  it('is the pinned chart, installed into the Kafka namespace', () => {
    expect(release).toMatchObject({ repository: versions.charts.strimzi.repository, version: versions.charts.strimzi.version, skip_crds: true });
    expect(release.namespace).toMatch(/^\$\{kubernetes_namespace_v1\.strimzi-operator_namespace_/);
    const namespaces = Object.values(resourcesOf(addons, 'kubernetes_namespace_v1')).map((n) => n.metadata.name);
    expect(namespaces).toContain(environments.prod.namespaces.kafka);
  });

  it('runs its pods under the restricted provider, in a namespace that enforces the restricted level', () => {
    const values = JSON.parse(release.values[0] as string) as { extraEnvs: unknown };
    expect(values.extraEnvs).toEqual([{ name: 'STRIMZI_POD_SECURITY_PROVIDER_CLASS', value: 'restricted' }]);
    const namespace = Object.values(resourcesOf(addons, 'kubernetes_namespace_v1')).find((n) => n.metadata.name === environments.prod.namespaces.kafka)!;
    expect(namespace.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' });
  });

  it('sets only Helm values the chart defines', () => {
    const values = JSON.parse(release.values[0] as string) as Record<string, unknown>;
    expect(Object.keys(values).length).toBeGreaterThan(0);
    expect(unknownValuesKeys(values, chartDefaults('strimzi'))).toEqual([]);
  });

  it('is released after kubectl has applied the CRDs of the same version', () => {
    const [[crdsId, crds]] = Object.entries(resourcesOf(addons, 'terraform_data'));
    expect(release.depends_on).toContain(`terraform_data.${crdsId}`);
    expect(crds.triggers_replace.chartVersion).toBe(versions.charts.strimzi.version);
    const command = crds.provisioner[0]['local-exec'].command as string;
    expect(command).toMatch(/^kubectl --kubeconfig ~\/'\.kube\/config' apply --server-side --force-conflicts -f /);
    expect(command).toContain(`/releases/download/${versions.charts.strimzi.version}/strimzi-crds-${versions.charts.strimzi.version}.yaml`);
  });
});

describe('the values workloads-stack consumes', () => {
  const app = buildApp(new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-stack-api-')), context: { environment: 'dev' } }));
  const stack = app.node.findChild('kafka-stack') as KafkaStack;

  it('are references to this stack, not copied literals', () => {
    for (const value of Object.values(stack.connection)) {
      expect(Token.isUnresolved(value)).toBe(true);
    }
  });

  it('resolve to the expected addresses and names', () => {
    const { stacks } = synthEnvironment('dev');
    const kafkaStack = stacks['kafka-stack'];
    expect(kafkaStack.locals['bootstrap-servers']).toBe(
      '${kubernetes_manifest.kafka.manifest.metadata.name}-kafka-bootstrap.${kubernetes_manifest.kafka.manifest.metadata.namespace}.svc:9093',
    );
    expect(kafkaStack.locals['cluster-ca-secret-name']).toBe('${kubernetes_manifest.kafka.manifest.metadata.name}-cluster-ca-cert');
    const outputs = JSON.stringify(kafkaStack.output);
    for (const ref of ['kafka_topic.posts.name', 'kafka_topic.posts_dlq.name', 'kafka_topic.posts.partitions', 'kubernetes_manifest.kafka.manifest.metadata.namespace']) {
      expect(outputs).toContain(`\${${ref}}`);
    }
  });
});
