import { KubeObject } from '../../../tools/local/kubernetes';

/**
 * What Strimzi 1.2.0's cluster operator generates for a Kafka resource and its node pools, as
 * plain objects: each builder names the Strimzi source it follows (paths in
 * strimzi/strimzi-kafka-operator at tag 1.2.0). Only what the project's resources use is
 * reproduced: node pools with JBOD persistent-claim storage, `rack.topologyKey`, TLS listeners
 * of type internal, nodeport and loadbalancer with their `configuration`, a PDB template.
 */

const CO = 'cluster-operator/src/main/java/io/strimzi/operator/cluster';
/** Where each builder's behaviour is read from (also listed in docs/local-kubernetes.md). */
export const STRIMZI_SOURCES = {
  labels: 'operator-common/src/main/java/io/strimzi/operator/common/model/Labels.java (generateDefaultLabels, strimziSelectorLabels)',
  pod: `${CO}/model/KafkaCluster.java (generatePodSets, createContainer, createInitContainer, getContainerPortList, getNonDataVolumes) and ${CO}/model/WorkloadUtils.java (createStatefulPod)`,
  affinity: `${CO}/model/ModelUtils.java (affinityWithRackLabelSelector)`,
  security: 'api/src/main/java/io/strimzi/plugin/security/profiles/impl/{Baseline,Restricted}PodSecurityProvider.java; ClusterOperatorConfig.parsePodSecurityProviderClass',
  volumes: `${CO}/model/VolumeUtils.java`,
  services: `${CO}/model/KafkaCluster.java (generateServices, generateHeadlessService, generateExternalBootstrapServices, generatePerPodServices) and ${CO}/model/ListenersUtils.java`,
  networkPolicy: `${CO}/model/KafkaCluster.java (generateNetworkPolicy) and ${CO}/model/NetworkPolicyUtils.java`,
  pdb: `${CO}/model/PodDisruptionBudgetUtils.java (createCustomControllerPodDisruptionBudget)`,
  certificates: `${CO}/model/KafkaCluster.java (buildKafkaNodeCertsSubject), ${CO}/operator/assembly/KafkaListenersReconciler.java (brokerDnsNames, bootstrapDnsNames), ModelUtils.generateAllServiceDnsNames`,
  status: `${CO}/operator/assembly/KafkaListenersReconciler.java and KafkaReconciler.java (nodePortExternalListenerStatus, updateKafkaStatus, updateNodePoolStatuses)`,
  userSecret: 'user-operator/src/main/java/io/strimzi/operator/user/model/KafkaUserModel.java (generateSecret, labels)',
} as const;

/** Strimzi's images for Kafka 4.3.1 (chart values `kafka.image`, `defaultImageTag`); kwok pulls nothing. */
export const STRIMZI_VERSION = '1.2.0';
const OPERATOR_IMAGE = `quay.io/strimzi/operator:${STRIMZI_VERSION}`;
const kafkaImage = (kafkaVersion: string) => `quay.io/strimzi/kafka:${STRIMZI_VERSION}-kafka-${kafkaVersion}`;

/** KafkaCluster.java: fixed ports of every node. */
export const PORTS = { controlPlane: 9090, replication: 9091, kafkaAgent: 8443, metrics: 9404 } as const;

export type SecurityProvider = 'baseline' | 'restricted';

/** ClusterOperatorConfig.parsePodSecurityProviderClass: the short names, the class names, default baseline. */
export function securityProviderOf(env: string | undefined): SecurityProvider | string {
  const value = env ?? 'io.strimzi.plugin.security.profiles.impl.BaselinePodSecurityProvider';
  const lower = value.toLowerCase();
  if (lower === 'baseline' || value === 'io.strimzi.plugin.security.profiles.impl.BaselinePodSecurityProvider') return 'baseline';
  if (lower === 'restricted' || value === 'io.strimzi.plugin.security.profiles.impl.RestrictedPodSecurityProvider') return 'restricted';
  return value;
}

export interface Listener {
  name: string;
  port: number;
  type: 'internal' | 'nodeport' | 'loadbalancer' | 'cluster-ip' | 'route' | 'ingress';
  tls: boolean;
  networkPolicyPeers?: unknown[];
  configuration?: {
    bootstrap?: { alternativeNames?: string[]; nodePort?: number };
    brokers?: { broker: number; advertisedHost?: string; nodePort?: number }[];
    advertisedHostTemplate?: string;
    preferredNodePortAddressType?: string;
  };
}

/** One Kafka node of a pool, as NodeRef does it: `<cluster>-<pool>-<id>`. */
export interface NodeRef {
  readonly nodeId: number;
  readonly podName: string;
  readonly pool: string;
  readonly broker: boolean;
  readonly controller: boolean;
}

/** Node ids of a pool: from `strimzi.io/next-node-ids` (first id of its first range), else from 0, in pool order. */
export function poolNodes(cluster: string, pools: readonly KubeObject[]): NodeRef[] {
  const nodes: NodeRef[] = [];
  let next = 0;
  for (const pool of pools) {
    const range = /^\[(\d+)/.exec(pool.metadata.annotations?.['strimzi.io/next-node-ids'] ?? '');
    let id = range ? Number(range[1]) : next;
    const roles = pool.spec.roles as string[];
    for (let i = 0; i < (pool.spec.replicas as number); i++, id++) {
      nodes.push({ nodeId: id, podName: `${cluster}-${pool.metadata.name}-${id}`, pool: pool.metadata.name, broker: roles.includes('broker'), controller: roles.includes('controller') });
    }
    next = Math.max(next, id);
  }
  return nodes;
}

/** Labels.generateDefaultLabels for the Kafka component (KafkaCluster.COMPONENT_TYPE "kafka"). */
export function kafkaLabels(kafka: KubeObject): Record<string, string> {
  const cluster = kafka.metadata.name;
  return {
    ...ownLabels(kafka),
    'strimzi.io/kind': 'Kafka',
    'strimzi.io/name': `${cluster}-kafka`,
    'strimzi.io/cluster': cluster,
    'strimzi.io/component-type': 'kafka',
    'app.kubernetes.io/name': 'kafka',
    'app.kubernetes.io/instance': cluster,
    'app.kubernetes.io/part-of': `strimzi-${cluster}`,
    'app.kubernetes.io/managed-by': 'strimzi-cluster-operator',
  };
}

/** Labels.fromResource: the resource's own labels but app.kubernetes.io/* (part-of excepted; it is overwritten anyway). */
function ownLabels(resource: KubeObject): Record<string, string> {
  return Object.fromEntries(Object.entries((resource.metadata.labels ?? {}) as Record<string, string>).filter(([k]) => !/^app\.kubernetes\.io\/(?!part-of)/.test(k)));
}

/** Labels.strimziSelectorLabels: cluster, name, kind (and pool-name where present). */
export function selectorLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(['strimzi.io/cluster', 'strimzi.io/name', 'strimzi.io/kind', 'strimzi.io/pool-name'].filter((k) => k in labels).map((k) => [k, labels[k]]));
}

const ownerOf = (kind: string, o: KubeObject) => ({ apiVersion: 'kafka.strimzi.io/v1', kind, name: o.metadata.name, uid: o.metadata.uid as string, controller: false, blockOwnerDeletion: false });

/** The security contexts of a broker pod under each provider (Baseline/RestrictedPodSecurityProvider). */
export function securityContexts(provider: SecurityProvider, persistentStorage: boolean) {
  // BaselinePodSecurityProvider.createStatefulPodSecurityContext: fsGroup 0 with persistent storage, else none.
  const pod = persistentStorage ? { fsGroup: 0 } : undefined;
  // Baseline: the default PodSecurityProvider methods return the user's template (none here): no container context.
  const container =
    provider === 'restricted'
      ? { allowPrivilegeEscalation: false, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, capabilities: { drop: ['ALL'] } }
      : undefined;
  return { pod, container };
}

/** Port name of a listener (ListenersUtils.backwardsCompatiblePortName). */
export function listenerPortName(l: Listener): string {
  if (l.port === 9092 && l.name === 'plain' && l.type === 'internal') return 'tcp-clients';
  if (l.port === 9093 && l.name === 'tls' && l.type === 'internal') return 'tcp-clientstls';
  if (l.port === 9094 && l.name === 'external') return 'tcp-external';
  return `tcp-${l.name}`;
}

/** The broker pod of one node, as StrimziPodSet would create it. */
export function brokerPod(kafka: KubeObject, pool: KubeObject, node: NodeRef, provider: SecurityProvider): KubeObject {
  const cluster = kafka.metadata.name;
  const ns = kafka.metadata.namespace as string;
  const listeners = kafka.spec.kafka.listeners as Listener[];
  const rackKey = kafka.spec.kafka.rack?.topologyKey as string | undefined;
  const nodePort = listeners.some((l) => l.type === 'nodeport');
  const volumes = (pool.spec.storage?.volumes ?? []) as { id: number; type: string }[];
  const persistent = volumes.some((v) => v.type === 'persistent-claim');
  const security = securityContexts(provider, persistent);
  const withInit = node.broker && (rackKey !== undefined || nodePort);
  const labels = {
    ...kafkaLabels(kafka),
    'strimzi.io/pool-name': pool.metadata.name,
    'strimzi.io/broker-role': String(node.broker),
    'strimzi.io/controller-role': String(node.controller),
    'strimzi.io/pod-name': node.podName,
    'strimzi.io/controller': 'strimzipodset',
    'strimzi.io/controller-name': `${cluster}-${pool.metadata.name}`,
  };
  const ports = [
    { name: 'tcp-kafkaagent', containerPort: PORTS.kafkaAgent, protocol: 'TCP' },
    ...(node.controller ? [{ name: 'tcp-ctrlplane', containerPort: PORTS.controlPlane, protocol: 'TCP' }] : []),
    ...(node.broker
      ? [{ name: 'tcp-replication', containerPort: PORTS.replication, protocol: 'TCP' }, ...listeners.map((l) => ({ name: listenerPortName(l), containerPort: l.port, protocol: 'TCP' }))]
      : []),
    ...(kafka.spec.kafka.metricsConfig ? [{ name: 'tcp-prometheus', containerPort: PORTS.metrics, protocol: 'TCP' }] : []),
  ];
  const dataMounts = volumes.map((v) => ({ name: `data-${v.id}`, mountPath: `/var/lib/kafka/data-${v.id}` }));
  const serviceAccountMount = { name: 'kube-api-access', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
  const rackMount = { name: 'rack-volume', mountPath: '/opt/kafka/init' };
  const affinity = node.broker && rackKey ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: rackKey, operator: 'Exists' }] }] } } } : undefined;
  const sc = (c: object) => (security.container ? { ...c, securityContext: security.container } : c);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: node.podName, namespace: ns, labels, annotations: { 'strimzi.io/kafka-version': kafka.spec.kafka.version }, ownerReferences: [ownerOf('Kafka', kafka)] },
    spec: {
      restartPolicy: 'Always',
      hostname: node.podName,
      subdomain: `${cluster}-kafka-brokers`,
      serviceAccountName: `${cluster}-kafka`,
      automountServiceAccountToken: false,
      ...(affinity ? { affinity } : {}),
      ...(security.pod ? { securityContext: security.pod } : {}),
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      ...(pool.spec.template?.pod?.topologySpreadConstraints ? { topologySpreadConstraints: pool.spec.template.pod.topologySpreadConstraints } : {}),
      ...(withInit
        ? {
            initContainers: [
              sc({
                name: 'kafka-init',
                image: OPERATOR_IMAGE,
                command: ['/opt/strimzi/bin/kafka_init_run.sh'],
                env: [
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  ...(rackKey ? [{ name: 'RACK_TOPOLOGY_KEY', value: rackKey }] : []),
                  ...(nodePort ? [{ name: 'EXTERNAL_ADDRESS', value: 'TRUE' }] : []),
                ],
                resources: pool.spec.resources,
                volumeMounts: [serviceAccountMount, rackMount],
              }),
            ],
          }
        : {}),
      containers: [
        sc({
          name: 'kafka',
          image: kafkaImage(kafka.spec.kafka.version),
          command: ['/opt/kafka/kafka_run.sh'],
          env: [
            { name: 'KAFKA_METRICS_ENABLED', value: String(Boolean(kafka.spec.kafka.metricsConfig)) },
            { name: 'STRIMZI_KAFKA_GC_LOG_ENABLED', value: 'false' },
            { name: 'STRIMZI_CLUSTER_NAME', value: cluster },
          ],
          ports,
          resources: pool.spec.resources,
          volumeMounts: [
            ...dataMounts,
            serviceAccountMount,
            { name: 'strimzi-tmp', mountPath: '/tmp' },
            { name: 'kafka-metrics-and-logging', mountPath: '/opt/kafka/custom-config/' },
            { name: 'ready-files', mountPath: '/var/opt/kafka' },
            ...(withInit ? [rackMount] : []),
          ],
          livenessProbe: { exec: { command: ['/opt/kafka/kafka_liveness.sh'] }, initialDelaySeconds: 15, timeoutSeconds: 5 },
          readinessProbe: { exec: { command: ['/opt/kafka/kafka_readiness.sh'] }, initialDelaySeconds: 15, timeoutSeconds: 5 },
        }),
      ],
      volumes: [
        ...volumes.map((v) => ({ name: `data-${v.id}`, persistentVolumeClaim: { claimName: `data-${v.id}-${node.podName}` } })),
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
        { name: 'strimzi-tmp', emptyDir: { medium: 'Memory', sizeLimit: '5Mi' } },
        { name: 'kafka-metrics-and-logging', configMap: { name: node.podName } },
        { name: 'ready-files', emptyDir: { medium: 'Memory', sizeLimit: '1Ki' } },
        ...(withInit ? [{ name: 'rack-volume', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }] : []),
      ],
    },
  };
}

/** The claims of a node (KafkaCluster.generatePersistentVolumeClaims): `data-<id>-<pod>`, no owner with deleteClaim false. */
export function persistentVolumeClaims(kafka: KubeObject, pool: KubeObject, node: NodeRef): KubeObject[] {
  const volumes = (pool.spec.storage?.volumes ?? []) as { id: number; type: string; size: string; class?: string; deleteClaim?: boolean }[];
  return volumes
    .filter((v) => v.type === 'persistent-claim')
    .map((v) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: `data-${v.id}-${node.podName}`,
        namespace: kafka.metadata.namespace,
        labels: { ...kafkaLabels(kafka), 'strimzi.io/pool-name': pool.metadata.name },
        annotations: { 'strimzi.io/delete-claim': String(Boolean(v.deleteClaim)) },
        ...(v.deleteClaim ? { ownerReferences: [ownerOf('Kafka', kafka)] } : {}),
      },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: v.size } }, ...(v.class ? { storageClassName: v.class } : {}), volumeMode: 'Filesystem' },
    }));
}

const service = (kafka: KubeObject, name: string, spec: object, extraLabels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: kafka.metadata.namespace, labels: { ...kafkaLabels(kafka), ...extraLabels }, ownerReferences: [ownerOf('Kafka', kafka)] },
  spec,
});
const servicePort = (name: string, port: number, nodePort?: number) => ({ name, port, targetPort: name, protocol: 'TCP', ...(nodePort !== undefined ? { nodePort } : {}) });

/** External bootstrap Service name (ListenersUtils.backwardsCompatibleBootstrapServiceName). */
export const externalBootstrapServiceName = (cluster: string, l: Listener) => `${cluster}-kafka-${l.name}-bootstrap`;
/** Per-broker Service name (ListenersUtils.backwardsCompatiblePerBrokerServiceName): `<cluster>-<pool>-<id>` for "external" on 9094. */
export const perBrokerServiceName = (cluster: string, node: NodeRef, l: Listener) =>
  l.port === 9094 && l.name === 'external' ? `${cluster}-${node.pool}-${node.nodeId}` : `${cluster}-${node.pool}-${l.name}-${node.nodeId}`;

/** Bootstrap, headless and, per external listener, the bootstrap and per-broker Services. */
export function services(kafka: KubeObject, nodes: readonly NodeRef[]): KubeObject[] {
  const cluster = kafka.metadata.name;
  const listeners = kafka.spec.kafka.listeners as Listener[];
  const brokers = nodes.filter((n) => n.broker);
  const brokerSelector = { ...selectorLabels(kafkaLabels(kafka)), 'strimzi.io/broker-role': 'true' };
  const internal = listeners.filter((l) => l.type === 'internal');
  const out: KubeObject[] = [
    service(kafka, `${cluster}-kafka-bootstrap`, {
      type: 'ClusterIP',
      selector: brokerSelector,
      ports: [servicePort('tcp-replication', PORTS.replication), ...internal.map((l) => servicePort(listenerPortName(l), l.port))],
    }, { 'strimzi.io/discovery': 'true' }),
    service(kafka, `${cluster}-kafka-brokers`, {
      type: 'ClusterIP',
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(kafkaLabels(kafka)),
      ports: [
        servicePort('tcp-ctrlplane', PORTS.controlPlane),
        servicePort('tcp-replication', PORTS.replication),
        servicePort('tcp-kafkaagent', PORTS.kafkaAgent),
        ...internal.map((l) => servicePort(listenerPortName(l), l.port)),
      ],
    }),
  ];
  for (const l of listeners.filter((x) => x.type === 'nodeport' || x.type === 'loadbalancer')) {
    const type = l.type === 'nodeport' ? 'NodePort' : 'LoadBalancer';
    out.push(service(kafka, externalBootstrapServiceName(cluster, l), { type, selector: brokerSelector, ports: [servicePort(listenerPortName(l), l.port, l.configuration?.bootstrap?.nodePort)] }));
    for (const node of brokers) {
      const configured = l.configuration?.brokers?.find((b) => b.broker === node.nodeId)?.nodePort;
      out.push(
        service(kafka, perBrokerServiceName(cluster, node, l), {
          type,
          selector: { ...selectorLabels(kafkaLabels(kafka)), 'strimzi.io/pod-name': node.podName },
          ports: [servicePort(listenerPortName(l), l.port, configured)],
        }),
      );
    }
  }
  return out;
}

/** KafkaCluster.generateNetworkPolicy: control plane, replication and agent for Strimzi's own pods; listeners per `networkPolicyPeers`, else all. */
export function networkPolicy(kafka: KubeObject): KubeObject {
  const cluster = kafka.metadata.name;
  const labels = kafkaLabels(kafka);
  // Operator in the cluster's namespace: no namespace selector (NetworkPolicyUtils.clusterOperatorNamespaceSelector).
  const peer = (matchLabels: Record<string, string>) => ({ podSelector: { matchLabels } });
  const operator = peer({ 'strimzi.io/kind': 'cluster-operator' });
  const kafkaPods = peer(selectorLabels(labels));
  const rule = (port: number, from: unknown[] | undefined) => ({ ports: [{ port, protocol: 'TCP' }], ...(from && from.length > 0 ? { from } : {}) });
  const listeners = kafka.spec.kafka.listeners as Listener[];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `${cluster}-network-policy-kafka`, namespace: kafka.metadata.namespace, labels, ownerReferences: [ownerOf('Kafka', kafka)] },
    spec: {
      podSelector: { matchLabels: selectorLabels(labels) },
      ingress: [
        rule(PORTS.controlPlane, [kafkaPods, operator]),
        rule(PORTS.replication, [operator, kafkaPods, peer({ 'strimzi.io/name': `${cluster}-entity-operator` }), peer({ 'strimzi.io/name': `${cluster}-kafka-exporter` }), peer({ 'strimzi.io/name': `${cluster}-cruise-control` })]),
        rule(PORTS.kafkaAgent, [operator]),
        ...listeners.map((l) => rule(l.port, l.networkPolicyPeers)),
        ...(kafka.spec.kafka.metricsConfig ? [rule(PORTS.metrics, [])] : []),
      ],
    },
  };
}

/** PodDisruptionBudgetUtils.createCustomControllerPodDisruptionBudget: minAvailable = nodes - maxUnavailable (default 1). */
export function podDisruptionBudget(kafka: KubeObject, nodeCount: number): KubeObject {
  const labels = kafkaLabels(kafka);
  const maxUnavailable = (kafka.spec.kafka.template?.podDisruptionBudget?.maxUnavailable as number | undefined) ?? 1;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: `${kafka.metadata.name}-kafka`, namespace: kafka.metadata.namespace, labels, ownerReferences: [ownerOf('Kafka', kafka)] },
    spec: { minAvailable: Math.max(0, nodeCount - maxUnavailable), selector: { matchLabels: selectorLabels(labels) } },
  };
}

/** ModelUtils.generateAllServiceDnsNames */
export const serviceDnsNames = (ns: string, svc: string) => [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`];

/** The advertised host a listener configures for a broker (ListenersUtils.brokerAdvertisedHost: per broker, else the template). */
export function brokerAdvertisedHost(l: Listener, node: NodeRef): string | undefined {
  const own = l.configuration?.brokers?.find((b) => b.broker === node.nodeId)?.advertisedHost;
  const template = l.configuration?.advertisedHostTemplate;
  return own ?? (template ? template.replace(/\{nodeId\}/g, String(node.nodeId)).replace(/\{nodePodName\}/g, node.podName) : undefined);
}

/**
 * The subject alternative names of a node's certificate (KafkaCluster.buildKafkaNodeCertsSubject
 * with KafkaListenersReconciler's names): the internal DNS names always; on brokers, the
 * bootstrap names (`alternativeNames`, load balancer addresses) and the node's own (advertised
 * hosts; load balancer addresses). A NodePort listener adds no node address.
 * `loadBalancerAddresses`: the ingress address of each external Service, by Service name.
 */
export function certificateNames(kafka: KubeObject, node: NodeRef, loadBalancerAddresses: Readonly<Record<string, string>> = {}): { dns: string[]; ip: string[] } {
  const cluster = kafka.metadata.name;
  const ns = kafka.metadata.namespace as string;
  const listeners = kafka.spec.kafka.listeners as Listener[];
  const names = [
    ...serviceDnsNames(ns, `${cluster}-kafka-bootstrap`),
    ...serviceDnsNames(ns, `${cluster}-kafka-brokers`),
    `${node.podName}.${cluster}-kafka-brokers.${ns}.svc.cluster.local`,
    `${node.podName}.${cluster}-kafka-brokers.${ns}.svc`,
  ];
  if (node.broker) {
    names.push(...listeners.flatMap((l) => l.configuration?.bootstrap?.alternativeNames ?? []));
    for (const l of listeners.filter((x) => x.tls)) {
      const advertised = brokerAdvertisedHost(l, node);
      if (l.type === 'loadbalancer') {
        const bootstrap = loadBalancerAddresses[externalBootstrapServiceName(cluster, l)];
        const own = loadBalancerAddresses[perBrokerServiceName(cluster, node, l)];
        for (const a of [bootstrap, own]) if (a) names.push(a);
      }
      if (advertised) names.push(advertised);
    }
  }
  const unique = [...new Set(names)];
  const isIp = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(':');
  return { dns: unique.filter((n) => !isIp(n)), ip: unique.filter(isIp) };
}

/** KafkaUserModel: labels and data of a SCRAM-SHA-512 user's Secret. */
export function userSecret(user: KubeObject, password: string): KubeObject {
  const name = user.metadata.name;
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${name}" password="${password}";`;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: user.metadata.namespace,
      labels: {
        ...ownLabels(user),
        'strimzi.io/kind': 'KafkaUser',
        'app.kubernetes.io/name': 'strimzi-user-operator',
        'app.kubernetes.io/instance': name,
        'app.kubernetes.io/part-of': `strimzi-${name}`,
        'app.kubernetes.io/managed-by': 'strimzi-user-operator',
      },
      ownerReferences: [ownerOf('KafkaUser', user)],
    },
    type: 'Opaque',
    data: { password: Buffer.from(password, 'ascii').toString('base64'), 'sasl.jaas.config': Buffer.from(jaas, 'ascii').toString('base64') },
  };
}
