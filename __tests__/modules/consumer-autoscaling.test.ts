import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { parse } from 'yaml';
import { versions } from '../../config';
import { CONSUMER_GROUP, POSTS_TOPIC } from '../../config/topics';
import { ConsumerScaledObject, LAG_READER_USER, LagReader, lagReaderAcls } from '../../modules/consumer-autoscaling';
import { Keda } from '../../modules/keda';
import { chartBundleDir } from '../support/deploy';
import { renderChart } from '../support/helm-template';
import { unknownValuesKeys, validateCustomResource } from '../support/schemas';

/**
 * The consumer scales on its group's lag: KEDA's Kafka scaler, logged in as a user of its own
 * with only what reading lag takes, through the TLS listener, never past the partition count.
 * Every object is checked against the CRDs of the pinned KEDA chart.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const manifests = (stack: TerraformStack): Json[] =>
  Object.values((JSON.parse(Testing.synth(stack)) as Json).resource?.kubernetes_manifest ?? {}).map((r) => (r as Json).manifest as Json);

function kedaChartDefaults(): unknown {
  const pin = versions.charts.keda;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-values-'));
  execFileSync('tar', ['-xzf', path.join(chartBundleDir(), `${pin.chart}-${pin.version}.tgz`), '-C', dir, `${pin.chart}/values.yaml`]);
  const values = parse(fs.readFileSync(path.join(dir, pin.chart, 'values.yaml'), 'utf8')) as unknown;
  fs.rmSync(dir, { recursive: true, force: true });
  return values;
}

describe('the lag reader', () => {
  const stack = new TerraformStack(Testing.app(), 'kafka');
  new LagReader(stack, 'lag-reader', { namespace: 'kafka', clusterName: 'platform', clusterCaSecretName: 'platform-cluster-ca-cert', topic: POSTS_TOPIC, group: CONSUMER_GROUP, readyTimeout: '10m' });
  const objects = manifests(stack);

  test('may describe the topic and the group, nothing else (no Read, no Write, no cluster access)', () => {
    const user = objects.find((m) => m.kind === 'KafkaUser')!;
    expect(validateCustomResource(user as { apiVersion: string; kind: string })).toEqual([]);
    expect(user.metadata.name).toBe(LAG_READER_USER);
    expect(user.spec.authentication).toEqual({ type: 'scram-sha-512' });
    expect(user.spec.authorization.acls).toEqual(lagReaderAcls(POSTS_TOPIC, CONSUMER_GROUP));
    expect(lagReaderAcls(POSTS_TOPIC, CONSUMER_GROUP).flatMap((a) => a.operations)).toEqual(['Describe', 'Describe']);
  });

  test('logs KEDA in over TLS with SCRAM-SHA-512, every value read from a Secret where Strimzi keeps it', () => {
    const auth = objects.find((m) => m.kind === 'ClusterTriggerAuthentication')!;
    expect(validateCustomResource(auth as { apiVersion: string; kind: string })).toEqual([]);
    const refs = Object.fromEntries((auth.spec.secretTargetRef as { parameter: string; name: string; key: string }[]).map((r) => [r.parameter, `${r.name}/${r.key}`]));
    expect(refs).toEqual({
      username: expect.stringMatching(/\/username$/),
      sasl: expect.stringMatching(/\/sasl$/),
      tls: expect.stringMatching(/\/tls$/),
      // The User Operator's Secret and the Cluster Operator's CA: no copy, no Terraform variable.
      password: expect.stringMatching(/^\$\{kubernetes_manifest\.lag-reader_user_.*\.manifest\.metadata\.name\}\/password$/),
      ca: 'platform-cluster-ca-cert/ca.crt',
    });
    const identity = Object.values((JSON.parse(Testing.synth(stack)) as Json).resource.kubernetes_secret_v1)[0] as Json;
    expect(identity.data).toEqual({ username: LAG_READER_USER, sasl: 'scram_sha512', tls: 'enable' });
  });
});

describe('the consumer ScaledObject', () => {
  const stack = new TerraformStack(Testing.app(), 'workloads');
  new ConsumerScaledObject(stack, 'autoscaling', {
    namespace: 'workloads',
    deploymentName: 'consumer',
    bootstrapServers: 'platform-kafka-bootstrap.kafka.svc:9093',
    topic: POSTS_TOPIC,
    group: CONSUMER_GROUP,
    partitions: 6,
    minReplicas: 2,
    lagThreshold: 5000,
    authenticationName: 'kafka-platform-lag-reader',
    labels: { 'app.kubernetes.io/name': 'consumer' },
  });
  const [scaled] = manifests(stack);

  test('is valid against the pinned KEDA CRD', () => {
    expect(validateCustomResource(scaled as { apiVersion: string; kind: string })).toEqual([]);
  });

  test('scales the consumer between 2 and the 6 partitions on the lag of its group on posts', () => {
    expect(scaled.spec).toMatchObject({ minReplicaCount: 2, maxReplicaCount: 6, scaleTargetRef: { kind: 'Deployment', name: 'consumer' } });
    expect(scaled.spec.triggers).toEqual([
      {
        type: 'kafka',
        metadata: {
          bootstrapServers: 'platform-kafka-bootstrap.kafka.svc:9093',
          consumerGroup: CONSUMER_GROUP,
          topic: POSTS_TOPIC,
          lagThreshold: '5000',
          offsetResetPolicy: 'earliest',
          allowIdleConsumers: 'false',
        },
        authenticationRef: { name: 'kafka-platform-lag-reader', kind: 'ClusterTriggerAuthentication' },
      },
    ]);
  });
});

describe('the KEDA release', () => {
  test('sets only keys the pinned chart has, and installs its CRDs', () => {
    const stack = new TerraformStack(Testing.app(), 'addons');
    const keda = new Keda(stack, 'keda', { namespace: 'kafka', chart: versions.charts.keda });
    expect(unknownValuesKeys(keda.values, kedaChartDefaults())).toEqual([]);
    expect(keda.values.crds).toEqual({ install: true });
  });

  test('renders with those values: its CRDs, the operator at the set resources, its PodMonitor', () => {
    const stack = new TerraformStack(Testing.app(), 'addons');
    const keda = new Keda(stack, 'keda', { namespace: 'kafka', chart: versions.charts.keda });
    const rendered = renderChart(versions.charts.keda, [JSON.stringify(keda.values)], 'kafka');
    const docs = Object.values(rendered).flatMap((text) => text.split(/^---$/m)).map((d) => parse(d) as Json).filter(Boolean);
    const names = (kind: string) => docs.filter((d) => d.kind === kind).map((d) => d.metadata.name).sort();
    expect(names('CustomResourceDefinition')).toEqual(expect.arrayContaining(['clustertriggerauthentications.keda.sh', 'scaledobjects.keda.sh']));
    const operator = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'keda-operator')!;
    expect(operator.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '50m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(names('PodMonitor')).toEqual(['keda-operator']);
    expect(names('APIService')).toEqual(['v1beta1.external.metrics.k8s.io']);
  }, 120_000);
});
