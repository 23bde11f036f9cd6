import { environments } from '../../config';
import { buildKafka, buildNodePools } from '../../modules/kafka-cluster/kafka';
import { KubeObject } from '../../tools/local/kubernetes';
import {
  brokerPod,
  certificateNames,
  networkPolicy,
  podDisruptionBudget,
  poolNodes,
  securityProviderOf,
  services,
  userSecret,
} from './simulated-strimzi/model';

/**
 * The simulated Strimzi operator's objects, field by field, against what Strimzi 1.2.0's source
 * generates for the same resources (the file each expectation follows is named beside it).
 */

function resources(env: 'dev' | 'prod', listener?: object): { kafka: KubeObject; pools: KubeObject[] } {
  const spec = { namespace: 'kafka', kafka: environments[env].kafka, adminUser: 'kafka-admin', metricsConfig: { name: 'platform-kafka-metrics', key: 'kafka-metrics.yaml' } };
  const kafka = JSON.parse(JSON.stringify(buildKafka(spec))) as KubeObject;
  if (listener) kafka.spec.kafka.listeners[1] = { ...kafka.spec.kafka.listeners[1], ...listener };
  kafka.metadata.uid = 'uid-kafka';
  const pools = (JSON.parse(JSON.stringify(buildNodePools(spec))) as KubeObject[]).map((p) => ({ ...p, metadata: { ...p.metadata, uid: `uid-${p.metadata.name}` } }));
  return { kafka, pools };
}

const internalNames = (pod: string) => [
  'platform-kafka-bootstrap', 'platform-kafka-bootstrap.kafka', 'platform-kafka-bootstrap.kafka.svc', 'platform-kafka-bootstrap.kafka.svc.cluster.local',
  'platform-kafka-brokers', 'platform-kafka-brokers.kafka', 'platform-kafka-brokers.kafka.svc', 'platform-kafka-brokers.kafka.svc.cluster.local',
  `${pod}.platform-kafka-brokers.kafka.svc.cluster.local`, `${pod}.platform-kafka-brokers.kafka.svc`,
];

describe('the simulated Strimzi operator', () => {
  it('names node pods <cluster>-<pool>-<id>, pool ids from strimzi.io/next-node-ids (NodeRef, KafkaPool)', () => {
    expect(poolNodes('platform', resources('dev').pools).map((n) => n.podName)).toEqual(['platform-combined-0', 'platform-combined-1', 'platform-combined-2']);
    expect(poolNodes('platform', resources('prod').pools).map((n) => `${n.podName} ${n.broker ? 'broker' : 'controller'}`)).toEqual([
      'platform-controllers-100 controller', 'platform-controllers-101 controller', 'platform-controllers-102 controller',
      'platform-brokers-0 broker', 'platform-brokers-1 broker', 'platform-brokers-2 broker',
    ]);
  });

  it('issues NodePort brokers certificates without any node address, only in-cluster names (KafkaListenersReconciler.nodePortServicesReady)', () => {
    const { kafka, pools } = resources('dev', { type: 'nodeport', configuration: undefined });
    const node = poolNodes('platform', pools)[1];
    expect(certificateNames(kafka, node)).toEqual({ dns: internalNames('platform-combined-1'), ip: [] });
  });

  it('adds a configured advertised host (per broker or templated) and bootstrap alternative names, IPs as IP SANs (buildKafkaNodeCertsSubject)', () => {
    const { kafka, pools } = resources('dev', { type: 'nodeport', configuration: { advertisedHostTemplate: '127.0.0.1', bootstrap: { alternativeNames: ['kafka.dev.example'] } } });
    const node = poolNodes('platform', pools)[0];
    expect(certificateNames(kafka, node)).toEqual({ dns: [...internalNames('platform-combined-0'), 'kafka.dev.example'], ip: ['127.0.0.1'] });
    const perBroker = resources('dev', { type: 'nodeport', configuration: { brokers: [{ broker: 2, advertisedHost: 'broker-2.dev.example' }] } });
    const names = poolNodes('platform', perBroker.pools).map((n) => certificateNames(perBroker.kafka, n).dns.slice(10));
    expect(names).toEqual([[], [], ['broker-2.dev.example']]);
  });

  it('adds each load balancer address to its broker, the bootstrap one to all, never to controllers (loadBalancerServicesReady)', () => {
    const { kafka, pools } = resources('prod');
    const nodes = poolNodes('platform', pools);
    const lb = { 'platform-kafka-external-bootstrap': 'lb-bootstrap.example', 'platform-brokers-0': '203.0.113.10' };
    expect(certificateNames(kafka, nodes.find((n) => n.nodeId === 0)!, lb)).toEqual({ dns: [...internalNames('platform-brokers-0'), 'lb-bootstrap.example'], ip: ['203.0.113.10'] });
    expect(certificateNames(kafka, nodes.find((n) => n.nodeId === 100)!, lb)).toEqual({ dns: internalNames('platform-controllers-100'), ip: [] });
  });

  it('gives broker pods Strimzi labels, ports, volumes, the rack node affinity and the pool spread (KafkaCluster.generatePodSets, ModelUtils.affinityWithRackLabelSelector)', () => {
    const { kafka, pools } = resources('dev');
    const pod = brokerPod(kafka, pools[0], poolNodes('platform', pools)[0], 'baseline');
    expect(pod.metadata.labels).toMatchObject({
      'strimzi.io/cluster': 'platform', 'strimzi.io/kind': 'Kafka', 'strimzi.io/name': 'platform-kafka', 'strimzi.io/component-type': 'kafka',
      'strimzi.io/pool-name': 'combined', 'strimzi.io/broker-role': 'true', 'strimzi.io/controller-role': 'true', 'strimzi.io/pod-name': 'platform-combined-0',
      'strimzi.io/controller': 'strimzipodset', 'strimzi.io/controller-name': 'platform-combined', 'app.kubernetes.io/part-of': 'strimzi-platform',
    });
    expect(pod.spec.affinity).toEqual({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'Exists' }] }] } } });
    expect(pod.spec.topologySpreadConstraints.map((c: { topologyKey: string; whenUnsatisfiable: string }) => `${c.topologyKey} ${c.whenUnsatisfiable}`)).toEqual(['topology.kubernetes.io/zone DoNotSchedule', 'kubernetes.io/hostname DoNotSchedule']);
    expect(pod.spec.containers[0].ports.map((p: { name: string; containerPort: number }) => `${p.name}:${p.containerPort}`)).toEqual(['tcp-kafkaagent:8443', 'tcp-ctrlplane:9090', 'tcp-replication:9091', 'tcp-clientstls:9093', 'tcp-external:9094', 'tcp-prometheus:9404']);
    expect(pod.spec.volumes.map((v: { name: string }) => v.name)).toEqual(['data-0', 'kube-api-access', 'strimzi-tmp', 'kafka-metrics-and-logging', 'ready-files', 'rack-volume']);
    expect(pod.spec.volumes[0].persistentVolumeClaim.claimName).toBe('data-0-platform-combined-0');
    expect(pod.spec.initContainers[0].env).toEqual([
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'RACK_TOPOLOGY_KEY', value: 'topology.kubernetes.io/zone' },
      { name: 'EXTERNAL_ADDRESS', value: 'TRUE' },
    ]);
  });

  it('sets the security contexts of the baseline and restricted providers (Baseline/RestrictedPodSecurityProvider)', () => {
    const { kafka, pools } = resources('dev');
    const node = poolNodes('platform', pools)[0];
    const baseline = brokerPod(kafka, pools[0], node, 'baseline');
    expect(baseline.spec.securityContext).toEqual({ fsGroup: 0 });
    expect([baseline.spec.initContainers[0].securityContext, baseline.spec.containers[0].securityContext]).toEqual([undefined, undefined]);
    const restricted = brokerPod(kafka, pools[0], node, 'restricted');
    const context = { allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] } };
    expect([restricted.spec.securityContext, restricted.spec.initContainers[0].securityContext, restricted.spec.containers[0].securityContext]).toEqual([{ fsGroup: 0 }, context, context]);
    // ClusterOperatorConfig.parsePodSecurityProviderClass
    expect([undefined, 'Restricted', 'io.strimzi.plugin.security.profiles.impl.RestrictedPodSecurityProvider', 'com.example.Mine'].map(securityProviderOf)).toEqual(['baseline', 'restricted', 'restricted', 'com.example.Mine']);
  });

  it('opens listener ports to all unless networkPolicyPeers are set, control plane and replication only to Strimzi’s pods (KafkaCluster.generateNetworkPolicy)', () => {
    const { kafka } = resources('dev');
    const np = networkPolicy(kafka);
    const rules = np.spec.ingress.map((r: { ports: { port: number }[]; from?: { podSelector: { matchLabels: object } }[] }) => `${r.ports[0].port} ${r.from ? r.from.map((f) => JSON.stringify(f.podSelector.matchLabels)).join(' ') : 'all'}`);
    expect(rules).toEqual([
      '9090 {"strimzi.io/cluster":"platform","strimzi.io/name":"platform-kafka","strimzi.io/kind":"Kafka"} {"strimzi.io/kind":"cluster-operator"}',
      '9091 {"strimzi.io/kind":"cluster-operator"} {"strimzi.io/cluster":"platform","strimzi.io/name":"platform-kafka","strimzi.io/kind":"Kafka"} {"strimzi.io/name":"platform-entity-operator"} {"strimzi.io/name":"platform-kafka-exporter"} {"strimzi.io/name":"platform-cruise-control"}',
      '8443 {"strimzi.io/kind":"cluster-operator"}',
      '9093 all',
      '9094 all',
      '9404 all',
    ]);
    expect(np.metadata.name).toBe('platform-network-policy-kafka');
  });

  it('turns maxUnavailable 1 into minAvailable nodes - 1 over all pools (PodDisruptionBudgetUtils)', () => {
    expect(podDisruptionBudget(resources('dev').kafka, 3).spec).toEqual({ minAvailable: 2, selector: { matchLabels: { 'strimzi.io/cluster': 'platform', 'strimzi.io/name': 'platform-kafka', 'strimzi.io/kind': 'Kafka' } } });
    expect(podDisruptionBudget(resources('prod').kafka, 6).spec.minAvailable).toBe(5);
  });

  it('makes the bootstrap, headless, external bootstrap and per-broker Services with Strimzi’s names and ports (KafkaCluster, ListenersUtils)', () => {
    const { kafka, pools } = resources('dev', { type: 'nodeport', configuration: { bootstrap: { nodePort: 31092 }, brokers: [{ broker: 1, nodePort: 31094 }] } });
    const svc = services(kafka, poolNodes('platform', pools));
    expect(svc.map((s) => `${s.metadata.name} ${s.spec.type}${s.spec.clusterIP === 'None' ? ' headless' : ''} ${s.spec.ports.map((p: { name: string; port: number; nodePort?: number }) => `${p.name}:${p.port}${p.nodePort ? `/${p.nodePort}` : ''}`).join(',')}`)).toEqual([
      'platform-kafka-bootstrap ClusterIP tcp-replication:9091,tcp-clientstls:9093',
      'platform-kafka-brokers ClusterIP headless tcp-ctrlplane:9090,tcp-replication:9091,tcp-kafkaagent:8443,tcp-clientstls:9093',
      'platform-kafka-external-bootstrap NodePort tcp-external:9094/31092',
      'platform-combined-0 NodePort tcp-external:9094',
      'platform-combined-1 NodePort tcp-external:9094/31094',
      'platform-combined-2 NodePort tcp-external:9094',
    ]);
  });

  it('writes a SCRAM user’s Secret with password and sasl.jaas.config, labelled as the User Operator does (KafkaUserModel)', () => {
    const user = { apiVersion: 'kafka.strimzi.io/v1', kind: 'KafkaUser', metadata: { name: 'producer', namespace: 'kafka', uid: 'u', labels: { 'strimzi.io/cluster': 'platform', 'app.kubernetes.io/part-of': 'kafka-platform' } }, spec: {} };
    const secret = userSecret(user, 'pw');
    expect(secret.metadata.labels).toEqual({
      'strimzi.io/cluster': 'platform', 'strimzi.io/kind': 'KafkaUser', 'app.kubernetes.io/name': 'strimzi-user-operator', 'app.kubernetes.io/instance': 'producer',
      'app.kubernetes.io/part-of': 'strimzi-producer', 'app.kubernetes.io/managed-by': 'strimzi-user-operator',
    });
    expect(Buffer.from(secret.data['sasl.jaas.config'], 'base64').toString()).toBe('org.apache.kafka.common.security.scram.ScramLoginModule required username="producer" password="pw";');
  });
});
