import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { STRIMZI_API_VERSION } from '../../modules/kafka-cluster/crds';
import { clusterCaCertSecretName } from '../../modules/kafka-cluster/kafka';
import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import {
  brokerTlsPassword,
  externalListenerProblem,
  LOCAL_SCRAM_USERS,
  localBootstrapServers,
  localExternalAddresses,
  localUserPasswordFile,
  PLATFORM_LOCAL_KAFKA,
  serveExternalKeystore,
} from '../../tools/local/kafka';
import { nodeLayout } from '../../tools/local/kafka/layout';
import { KubeApi, KubeApiError, KubeObject, resourcePath } from '../../tools/local/kubernetes';
import { POD_CIDR } from '../../tools/local/kubernetes/components';
import { SimulatedClusterCa } from './simulated-strimzi/certificates';
import {
  brokerAdvertisedHost,
  brokerPod,
  certificateNames,
  externalBootstrapServiceName,
  kafkaLabels,
  Listener,
  networkPolicy,
  NodeRef,
  perBrokerServiceName,
  persistentVolumeClaims,
  podDisruptionBudget,
  poolNodes,
  securityProviderOf,
  services,
  STRIMZI_VERSION,
  userSecret,
} from './simulated-strimzi/model';
import { NodePortProxies } from './simulated-strimzi/node-ports';
import { PodAddressRelays } from './simulated-strimzi/pod-relays';

export { STRIMZI_SOURCES } from './simulated-strimzi/model';

/**
 * A SIMULATION of the Strimzi 1.2.0 operators' reconcile, the one part of a deploy to the local
 * Kubernetes that is not real: kwok runs no containers, so the real operator (whose pod the
 * addons-stack installs and which turns Ready) cannot reach brokers. For the project's
 * resources it writes what Strimzi writes (simulated-strimzi/model.ts names the source of each
 * object), to the real API server, which judges it:
 *
 * - Kafka: the cluster CA Secret; the bootstrap, headless and external Services; the
 *   NetworkPolicy; the PodDisruptionBudget; per node pool the claims and the broker pods, with
 *   the security contexts of the provider the operator Deployment is configured with
 *   (`STRIMZI_POD_SECURITY_PROVIDER_CLASS`), so PodSecurity admission and the scheduler judge
 *   them; node certificates with Strimzi's names per listener, served by the local Kafka nodes
 *   that stand behind the brokers (their EXTERNAL and PODS listeners); and the status, Ready only once
 *   every broker pod is Running, lagging an update by `statusLagMs` as a reconcile does.
 * - KafkaNodePool: status (node ids, roles, replicas, observedGeneration) once its Kafka is Ready.
 * - KafkaUser: the Secret in Strimzi's shape and status Ready, `userLagMs` after the user
 *   appears and its Kafka is Ready, and the KafkaUser's own ACLs (`authorization.type: simple`)
 *   on the local cluster. Users the local cluster has (producer, consumer) get their
 *   passwords; a user with a password Secret (the admin) gets its SCRAM credential and the
 *   all-operations ACLs of a super user set on the local cluster; any other user without a
 *   password Secret (the lag reader) gets a generated password, kept in its Secret, and its
 *   own ACLs. What it set is removed with the KafkaUser.
 */
export interface SimulationOptions {
  /** How long a changed Kafka resource keeps its previous status (a reconcile's duration). */
  readonly statusLagMs?: number;
  /** How long after a KafkaUser appears its Secret and Ready status are written. */
  readonly userLagMs?: number;
  /**
   * Make each broker pod's address answer on the internal TLS listener's port, relayed to the
   * local node's PODS listener (PodAddressRelays): for a cluster with a real node, whose pods
   * then reach the brokers through the bootstrap Service and the per-broker names.
   */
  readonly podNetwork?: boolean;
}

export class SimulatedStrimziOperator {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Users whose credentials this simulation created on the local cluster. */
  private readonly kafkaCredentials = new Set<string>();
  /** The ACL arguments set per user, to remove with it (super users: the wildcard ones below). */
  private readonly userAcls = new Map<string, string[][]>();
  private ca?: SimulatedClusterCa;
  private readonly proxies = new NodePortProxies();
  private readonly podRelays = new PodAddressRelays();
  private readonly podNetwork: boolean;
  /** Local node id -> the names of the certificate it serves on its EXTERNAL listener. */
  private readonly served = new Map<number, string>();
  /** When each object's current generation was first seen (for the lag). */
  private readonly firstSeen = new Map<string, number>();
  private readonly statusLagMs: number;
  private readonly userLagMs: number;
  /** Everything it did, for assertions (never a secret value). */
  readonly events: string[] = [];
  /** The last error of a pass, if any (the next pass retries). */
  lastError?: string;

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
    options: SimulationOptions = {},
  ) {
    this.statusLagMs = options.statusLagMs ?? 20_000;
    this.userLagMs = options.userLagMs ?? 20_000;
    this.podNetwork = options.podNetwork ?? false;
  }

  /** The cluster CA, once the first reconcile made it (for a simulated renewal). */
  clusterCa(): SimulatedClusterCa {
    if (!this.ca) throw new Error('the simulated operator has not reconciled a Kafka resource yet: no cluster CA');
    return this.ca;
  }

  /** `pod ip:port -> local listener` of each broker pod address relayed (podNetwork). */
  podAddressRelays(): string[] {
    return this.podRelays.describe();
  }

  start(intervalMs = 500): void {
    if (this.podNetwork) {
      const removed = PodAddressRelays.removeLeftovers(POD_CIDR);
      if (removed.length > 0) this.events.push(`pod addresses left local by an earlier run removed: ${removed.join(', ')}`);
    }
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.reconcile().then(
        () => (this.lastError = undefined),
        (err: Error) => {
          this.lastError = err.message;
        },
      );
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
    };
    void loop();
  }

  /** Stops reconciling; removes the credentials it created on the local cluster and the certificates it served there. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    for (const user of [...this.kafkaCredentials]) await this.removeKafkaCredential(user);
    for (const user of [...this.userAcls.keys()]) await this.removeUserAcls(user);
    for (const id of [...this.served.keys()]) await serveExternalKeystore(PLATFORM_LOCAL_KAFKA, id, undefined).catch(() => undefined);
    this.served.clear();
    await this.proxies.close();
    await this.podRelays.close();
    this.ca?.remove();
  }

  /** The Kafka resource's NotReady message, if its last reconcile failed. */
  async notReadyMessage(name: string): Promise<string | undefined> {
    const kafka = await this.api.find(resourcePath('kafka.strimzi.io', 'v1', 'kafkas', name, this.namespace));
    const c = (kafka?.status?.conditions ?? []).find((x: { type: string }) => x.type === 'NotReady');
    // A reconcile that threw leaves the last status in place: its error is the news.
    const failed = this.lastError ? ` (the simulation's last reconcile failed: ${this.lastError})` : '';
    return c ? `${c.reason}: ${c.message}${failed}` : undefined;
  }

  private list(plural: string, group = 'kafka.strimzi.io', version = 'v1'): Promise<KubeObject[]> {
    return this.api.get<{ items: KubeObject[] }>(resourcePath(group, version, plural, undefined, this.namespace)).then((l) => l.items);
  }

  private async reconcile(): Promise<void> {
    const kafkas = await this.list('kafkas').catch(() => [] as KubeObject[]);
    const pools = await this.list('kafkanodepools').catch(() => [] as KubeObject[]);
    for (const kafka of kafkas) await this.reconcileKafka(kafka, pools.filter((p) => p.metadata.labels?.['strimzi.io/cluster'] === kafka.metadata.name));
    const users = await this.list('kafkausers').catch(() => [] as KubeObject[]);
    for (const user of users) await this.reconcileUser(user, kafkas);
    // A KafkaUser deleted: the User Operator removes its credentials from Kafka.
    const present = new Set(users.map((u) => u.metadata.name));
    for (const user of [...this.kafkaCredentials]) if (!present.has(user)) await this.removeKafkaCredential(user);
    for (const user of [...this.userAcls.keys()]) if (!present.has(user) && !this.kafkaCredentials.has(user)) await this.removeUserAcls(user);
  }

  private isCurrent(object: KubeObject): boolean {
    const ready = (object.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    return ready && object.status?.observedGeneration === object.metadata.generation;
  }

  /** Whether `lagMs` has passed since this generation of the object was first seen. */
  private lagOver(object: KubeObject, lagMs: number): boolean {
    const key = `${object.kind}/${object.metadata.name}/${object.metadata.uid}/${object.metadata.generation}`;
    const seen = this.firstSeen.get(key) ?? Date.now();
    this.firstSeen.set(key, seen);
    return Date.now() - seen >= lagMs;
  }

  private condition(type: 'Ready' | 'NotReady', reason?: string, message?: string) {
    return { type, status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...(reason ? { reason, message } : {}) };
  }

  private async notReady(kafka: KubeObject, reason: string, message: string): Promise<void> {
    const path = resourcePath('kafka.strimzi.io', 'v1', 'kafkas', kafka.metadata.name, this.namespace);
    await this.api.patchStatus(path, { observedGeneration: kafka.metadata.generation, conditions: [this.condition('NotReady', reason, message)] });
    const event = `Kafka ${kafka.metadata.name} NotReady: ${reason}: ${message}`;
    if (this.events[this.events.length - 1] !== event) this.events.push(event);
  }

  /** The security provider of the operator Deployment the chart installed (ClusterOperatorConfig). */
  private async securityProvider(): Promise<string> {
    const deployment = await this.api.find(resourcePath('apps', 'v1', 'deployments', 'strimzi-cluster-operator', this.namespace));
    const env = (deployment?.spec.template.spec.containers[0].env ?? []) as { name: string; value?: string }[];
    return securityProviderOf(env.find((e) => e.name === 'STRIMZI_POD_SECURITY_PROVIDER_CLASS')?.value);
  }

  private async reconcileKafka(kafka: KubeObject, pools: KubeObject[]): Promise<void> {
    if (kafka.metadata.deletionTimestamp || this.isCurrent(kafka)) return;
    // A changed resource keeps its previous status while the reconcile runs.
    const changed = kafka.status?.observedGeneration !== undefined && kafka.status.observedGeneration !== kafka.metadata.generation;
    if (changed && !this.lagOver(kafka, this.statusLagMs)) return;
    const name = kafka.metadata.name;
    const provider = await this.securityProvider();
    if (provider !== 'baseline' && provider !== 'restricted') return this.notReady(kafka, 'ClassNotFoundException', `simulation: unknown STRIMZI_POD_SECURITY_PROVIDER_CLASS ${provider}`);
    const nodes = poolNodes(name, pools);
    if (nodes.length === 0) return this.notReady(kafka, 'InvalidResourceException', 'No KafkaNodePools found for Kafka cluster ' + name);

    // Cluster CA and its public Secret (CaReconciler; data ca.crt, annotation strimzi.io/ca-cert-generation).
    this.ca ??= new SimulatedClusterCa();
    await this.apply('', 'secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: clusterCaCertSecretName(name),
        namespace: this.namespace,
        labels: { ...kafkaLabels(kafka), 'strimzi.io/component-type': 'certificate-authority' },
        annotations: { 'strimzi.io/ca-cert-generation': '0' },
        ownerReferences: [owner('Kafka', kafka)],
      },
      type: 'Opaque',
      data: { 'ca.crt': Buffer.from(this.ca.caCert).toString('base64') },
    });
    // KafkaCluster.generateServiceAccount: the pods' ServiceAccount (admission refuses pods naming a missing one).
    await this.apply('', 'serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `${name}-kafka`, namespace: this.namespace, labels: kafkaLabels(kafka), ownerReferences: [owner('Kafka', kafka)] } });
    for (const svc of services(kafka, nodes)) await this.apply('', 'services', svc);
    await this.apply('networking.k8s.io', 'networkpolicies', networkPolicy(kafka));
    await this.apply('policy', 'poddisruptionbudgets', podDisruptionBudget(kafka, nodes.length));

    // Broker pods, judged by PodSecurity admission on creation and by the scheduler after.
    for (const node of nodes) {
      const pool = pools.find((p) => p.metadata.name === node.pool)!;
      for (const pvc of persistentVolumeClaims(kafka, pool, node)) {
        if (!(await this.api.find(resourcePath('', 'v1', 'persistentvolumeclaims', pvc.metadata.name, this.namespace)))) await this.apply('', 'persistentvolumeclaims', pvc);
      }
      const refused = await this.ensurePod(brokerPod(kafka, pool, node, provider));
      if (refused) return this.notReady(kafka, 'KubernetesClientException', refused);
    }
    for (const node of nodes) {
      const pod = await this.api.get(resourcePath('', 'v1', 'pods', node.podName, this.namespace));
      const scheduled = (pod.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
      // Strimzi waits for the pods (up to its operation timeout, 5 minutes) and then reports
      // this; the simulation reports what keeps them Pending at once.
      if (scheduled?.status === 'False') return this.notReady(kafka, 'TimeoutException', `Exceeded timeout while waiting for Pods resource ${node.podName} in namespace ${this.namespace} to be ready: ${scheduled.reason}: ${scheduled.message}`);
      if (pod.status?.phase !== 'Running') return;
    }

    const listeners = await this.listenerStatuses(kafka, nodes);
    if (typeof listeners === 'string') return this.notReady(kafka, 'SimulationException', listeners);
    await this.api.patchStatus(resourcePath('kafka.strimzi.io', 'v1', 'kafkas', name, this.namespace), {
      observedGeneration: kafka.metadata.generation,
      conditions: [this.condition('Ready')],
      listeners,
      kafkaNodePools: pools.map((p) => ({ name: p.metadata.name })).sort((a, b) => a.name.localeCompare(b.name)),
      clusterId: 'simulated-local-kafka',
      operatorLastSuccessfulVersion: STRIMZI_VERSION,
      kafkaVersion: kafka.spec.kafka.version,
      kafkaMetadataVersion: kafka.spec.kafka.metadataVersion,
    });
    for (const pool of pools) await this.reconcileNodePool(pool, nodes);
    this.events.push(`Kafka ${name} ${kafka.spec.kafka.version} Ready (generation ${kafka.metadata.generation}, ${provider} pod security)`);
  }

  private async apply(group: string, plural: string, object: KubeObject): Promise<void> {
    await this.api.apply(resourcePath(group, 'v1', plural, object.metadata.name, this.namespace), object);
  }

  /** Creates the pod, or replaces it when its spec changed (pod specs are immutable: Strimzi rolls it); the API server's refusal, if any. */
  private async ensurePod(pod: KubeObject): Promise<string | undefined> {
    const hash = createHash('sha256').update(JSON.stringify(pod)).digest('hex').slice(0, 16);
    const annotated = { ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata.annotations, 'simulated.strimzi.io/spec-hash': hash } } };
    const at = resourcePath('', 'v1', 'pods', pod.metadata.name, this.namespace);
    const existing = await this.api.find(at);
    if (existing?.metadata.annotations?.['simulated.strimzi.io/spec-hash'] === hash) return undefined;
    if (existing) {
      await this.api.delete(`${at}?gracePeriodSeconds=0`);
      await this.api.waitFor(`pod ${pod.metadata.name} deleted`, async () => ((await this.api.find(at)) ? undefined : true), 60_000);
    }
    try {
      await this.api.request('POST', resourcePath('', 'v1', 'pods', undefined, this.namespace), annotated);
      this.events.push(`Pod ${pod.metadata.name} created`);
      return undefined;
    } catch (err) {
      if (err instanceof KubeApiError) return err.message.replace(/^POST \S+: \d+ /, '');
      throw err;
    }
  }

  /**
   * Listener statuses (KafkaListenersReconciler, KafkaReconciler.nodePortExternalListenerStatus),
   * and the node certificates for them, served by the local Kafka nodes behind the brokers.
   */
  private async listenerStatuses(kafka: KubeObject, nodes: readonly NodeRef[]): Promise<object[] | string> {
    const name = kafka.metadata.name;
    const listeners = kafka.spec.kafka.listeners as Listener[];
    const brokers = nodes.filter((n) => n.broker);
    const locals = localExternalAddresses();
    if (brokers.length > locals.length) return `simulation: ${brokers.length} brokers, but the local Kafka cluster has ${locals.length} nodes to stand behind them`;
    const problem = await externalListenerProblem(PLATFORM_LOCAL_KAFKA);
    if (problem) return `simulation: ${problem}`;
    const ca = this.ca!.caCert;
    const loadBalancers: Record<string, string> = {};
    const statuses: object[] = [];
    for (const l of listeners) {
      if (l.type === 'internal') {
        const host = `${name}-kafka-bootstrap.${this.namespace}.svc`;
        if (this.podNetwork && l.tls) {
          const problem = await this.relayPodAddresses(brokers, l.port);
          if (problem) return problem;
        }
        statuses.push({ name: l.name, addresses: [{ host, port: l.port }], bootstrapServers: `${host}:${l.port}`, certificates: [ca] });
      } else if (l.type === 'nodeport') {
        const bootstrap = await this.api.get(resourcePath('', 'v1', 'services', externalBootstrapServiceName(name, l), this.namespace));
        const port = bootstrap.spec.ports[0].nodePort as number;
        await this.proxies.serve(port, locals.slice(0, brokers.length));
        const hosts = new Set<string>();
        for (const [i, node] of brokers.entries()) {
          const own = await this.api.get(resourcePath('', 'v1', 'services', perBrokerServiceName(name, node, l), this.namespace));
          await this.proxies.serve(own.spec.ports[0].nodePort as number, [locals[i]]);
          const advertised = brokerAdvertisedHost(l, node);
          hosts.add(advertised ?? (await this.nodeAddress(node, l.configuration?.preferredNodePortAddressType)));
        }
        const addresses = [...hosts].map((host) => ({ host, port }));
        statuses.push({ name: l.name, addresses, bootstrapServers: addresses.map((a) => `${a.host}:${a.port}`).join(','), certificates: [ca] });
      } else if (l.type === 'loadbalancer') {
        const bootstrap = await this.api.get(resourcePath('', 'v1', 'services', externalBootstrapServiceName(name, l), this.namespace));
        const ingress = bootstrap.status?.loadBalancer?.ingress?.[0];
        // Strimzi waits for the load balancer's address; kwok has no load balancer controller.
        if (!ingress) return `Exceeded timeout while waiting for Service ${bootstrap.metadata.name} to get a load balancer address (there is no load balancer on this cluster)`;
        loadBalancers[bootstrap.metadata.name] = ingress.hostname ?? ingress.ip;
        statuses.push({ name: l.name, addresses: [{ host: loadBalancers[bootstrap.metadata.name], port: l.port }], bootstrapServers: `${loadBalancers[bootstrap.metadata.name]}:${l.port}`, certificates: [ca] });
      }
    }
    // Node certificates (one per broker), served where the local node listens for that broker.
    const password = await brokerTlsPassword(PLATFORM_LOCAL_KAFKA);
    for (const [i, node] of brokers.entries()) {
      const sans = certificateNames(kafka, node, loadBalancers);
      const key = JSON.stringify(sans);
      const localId = i + 1;
      if (this.served.get(localId) === key) continue;
      const { keystore, certificate } = await this.ca!.issue(node.podName, `${name}-kafka`, sans, password);
      // Ready only once the node presents it, as a broker pod starts with its certificate.
      await serveExternalKeystore(PLATFORM_LOCAL_KAFKA, localId, keystore, SimulatedClusterCa.fingerprint(certificate));
      this.served.set(localId, key);
      this.events.push(`certificate of ${node.podName} (${[...sans.dns.map((d) => `DNS:${d}`), ...sans.ip.map((a) => `IP:${a}`)].join(', ')}) served by local node ${localId}`);
    }
    return statuses;
  }

  /**
   * Each broker pod's address on `port`, relayed to the PODS listener of the local node
   * advertising that pod's name (layout.ts `podNetwork`); a problem when they do not pair up.
   */
  private async relayPodAddresses(brokers: readonly NodeRef[], port: number): Promise<string | undefined> {
    for (const [i, node] of brokers.entries()) {
      const local = nodeLayout(PLATFORM_LOCAL_KAFKA, i + 1);
      if (local.podNetworkPort === undefined) return `simulation: the local Kafka cluster has no PODS listener (podNetworkBasePort in config/environments.ts) for the pods of a real node to reach`;
      if (!local.podNetworkAdvertised?.startsWith(`${node.podName}.`)) {
        return `simulation: local node ${local.id} advertises ${local.podNetworkAdvertised} on its PODS listener, not a name of broker pod ${node.podName}: the relay would hand its clients to the wrong broker`;
      }
      const pod = await this.api.get(resourcePath('', 'v1', 'pods', node.podName, this.namespace));
      const ip = pod.status?.podIP as string | undefined;
      if (!ip) return `simulation: broker pod ${node.podName} is Running without an address (status.podIP)`;
      await this.podRelays.serve(node.podName, ip, port, `127.0.0.1:${local.podNetworkPort}`);
    }
    return undefined;
  }

  /** NodeUtils.findAddress: the preferred type if the node has it, else ExternalDNS, ExternalIP, InternalDNS, InternalIP, Hostname. */
  private async nodeAddress(node: NodeRef, preferred?: string): Promise<string> {
    const pod = await this.api.get(resourcePath('', 'v1', 'pods', node.podName, this.namespace));
    const k8sNode = await this.api.get(resourcePath('', 'v1', 'nodes', pod.spec.nodeName));
    const addresses = (k8sNode.status?.addresses ?? []) as { type: string; address: string }[];
    for (const type of [preferred, 'ExternalDNS', 'ExternalIP', 'InternalDNS', 'InternalIP', 'Hostname']) {
      const found = addresses.find((a) => a.type === type);
      if (found) return found.address;
    }
    throw new Error(`node ${pod.spec.nodeName} has no address`);
  }

  private async reconcileNodePool(pool: KubeObject, nodes: readonly NodeRef[]): Promise<void> {
    if (pool.metadata.deletionTimestamp || pool.status?.observedGeneration === pool.metadata.generation) return;
    const own = nodes.filter((n) => n.pool === pool.metadata.name);
    await this.api.patchStatus(resourcePath('kafka.strimzi.io', 'v1', 'kafkanodepools', pool.metadata.name, this.namespace), {
      observedGeneration: pool.metadata.generation,
      nodeIds: own.map((n) => n.nodeId),
      roles: pool.spec.roles,
      replicas: own.length,
      labelSelector: Object.entries({ 'strimzi.io/cluster': pool.metadata.labels?.['strimzi.io/cluster'], 'strimzi.io/name': `${pool.metadata.labels?.['strimzi.io/cluster']}-kafka`, 'strimzi.io/kind': 'Kafka', 'strimzi.io/pool-name': pool.metadata.name })
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      clusterId: 'simulated-local-kafka',
    });
    this.events.push(`KafkaNodePool ${pool.metadata.name} reconciled`);
  }

  private async reconcileUser(user: KubeObject, kafkas: readonly KubeObject[]): Promise<void> {
    if (user.metadata.deletionTimestamp || this.isCurrent(user)) return;
    // The User Operator runs in the entity operator, which Strimzi starts once its Kafka is up.
    const kafka = kafkas.find((k) => k.metadata.name === user.metadata.labels?.['strimzi.io/cluster']);
    if (!kafka || !(kafka.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Ready')) return;
    if (!this.lagOver(user, this.userLagMs)) return;
    const name = user.metadata.name;
    const password = await this.passwordOf(user);
    await this.apply('', 'secrets', userSecret(user, password));
    await this.api.patchStatus(resourcePath('kafka.strimzi.io', 'v1', 'kafkausers', name, this.namespace), {
      observedGeneration: user.metadata.generation,
      conditions: [this.condition('Ready')],
      username: name,
      secret: name,
    });
    this.events.push(`KafkaUser ${name} Ready`);
  }

  /** The local cluster's password for its own users; for a user with a password Secret, that password, set on the cluster. */
  private async passwordOf(user: KubeObject): Promise<string> {
    const name = user.metadata.name;
    const ref = user.spec.authentication?.password?.valueFrom?.secretKeyRef as { name: string; key: string } | undefined;
    if (!ref) {
      if (!(LOCAL_SCRAM_USERS as readonly string[]).includes(name)) return this.generatedPassword(user);
      // The local cluster's own user keeps its credential; its ACLs are the KafkaUser's, as the User Operator writes them.
      await this.setUserAcls(name, userAclsOf(user));
      return fs.readFileSync(localUserPasswordFile(name), 'utf8').trim();
    }
    const secret = await this.api.get(resourcePath('', 'v1', 'secrets', ref.name, this.namespace));
    const password = Buffer.from(secret.data[ref.key] as string, 'base64').toString('utf8');
    await this.setKafkaCredential(name, password);
    return password;
  }

  /**
   * A user the local cluster does not have and whose password nobody gave (the lag reader): as
   * the User Operator does, a generated password, its SCRAM credential, and the KafkaUser's own
   * ACLs (never a super user's), removed again with the KafkaUser.
   */
  private async generatedPassword(user: KubeObject): Promise<string> {
    const name = user.metadata.name as string;
    const existing = await this.api.find(resourcePath('', 'v1', 'secrets', name, this.namespace));
    const password = existing?.data?.password ? Buffer.from(existing.data.password as string, 'base64').toString('utf8') : randomBytes(24).toString('base64url');
    await this.setKafkaCredential(name, password, userAclsOf(user));
    return password;
  }

  private async setKafkaCredential(name: string, password: string, acls?: readonly UserAcl[]): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simulated-user-operator-'));
    const file = path.join(dir, 'scram.properties');
    // The password goes to Kafka's tool in a 0600 file, never on a command line.
    fs.writeFileSync(file, `SCRAM-SHA-512=iterations=8192,password=${password}\n`, { mode: 0o600 });
    try {
      const admin = ['--bootstrap-server', localBootstrapServers()];
      await runKafkaTool(KafkaTools.configs, [...admin, '--alter', '--entity-type', 'users', '--entity-name', name, '--add-config-file', file]);
      this.kafkaCredentials.add(name);
      if (acls) {
        await this.setUserAcls(name, acls);
        this.events.push(`SCRAM credential and ${acls.length} ACLs for ${name} set on the local cluster`);
        return;
      }
      // What `superUsers` in the Kafka resource grants, as ACLs (the local brokers' super users are fixed).
      for (const resource of SUPER_USER_RESOURCES) {
        await runKafkaTool(KafkaTools.acls, [...admin, '--add', '--allow-principal', `User:${name}`, '--operation', 'All', ...resource]);
      }
      this.events.push(`SCRAM credential and super-user ACLs for ${name} set on the local cluster`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The KafkaUser's own ACLs on the local cluster, as the User Operator writes them (remembered, to remove with the user). */
  private async setUserAcls(name: string, acls: readonly UserAcl[]): Promise<void> {
    const admin = ['--bootstrap-server', localBootstrapServers()];
    const set: string[][] = [];
    for (const acl of acls) {
      const resource = acl.resource.type === 'cluster' ? ['--cluster'] : [`--${acl.resource.type}`, acl.resource.name!, '--resource-pattern-type', acl.resource.patternType ?? 'literal'];
      for (const operation of acl.operations) {
        await runKafkaTool(KafkaTools.acls, [...admin, '--add', '--allow-principal', `User:${name}`, '--operation', operation, ...resource]);
        set.push(['--operation', operation, ...resource]);
      }
    }
    this.userAcls.set(name, set);
    if (!this.kafkaCredentials.has(name)) this.events.push(`${acls.length} ACLs for ${name} set on the local cluster`);
  }

  /** Removes the ACLs set for a user (without any remembered: the super user's). */
  private async removeAcls(name: string): Promise<void> {
    const admin = ['--bootstrap-server', localBootstrapServers()];
    const granted = this.userAcls.get(name) ?? SUPER_USER_RESOURCES.map((resource) => ['--operation', 'All', ...resource]);
    for (const acl of granted) await runKafkaTool(KafkaTools.acls, [...admin, '--remove', '--force', '--allow-principal', `User:${name}`, ...acl]);
    this.userAcls.delete(name);
  }

  /** Removes the ACLs set for a user whose credential the local cluster keeps (one of its own users). */
  private async removeUserAcls(name: string): Promise<void> {
    await this.removeAcls(name);
    this.events.push(`ACLs of ${name} removed from the local cluster`);
  }

  private async removeKafkaCredential(name: string): Promise<void> {
    const admin = ['--bootstrap-server', localBootstrapServers()];
    await this.removeAcls(name);
    await runKafkaTool(KafkaTools.configs, [...admin, '--alter', '--entity-type', 'users', '--entity-name', name, '--delete-config', 'SCRAM-SHA-512']);
    this.kafkaCredentials.delete(name);
    this.events.push(`SCRAM credential and ACLs of ${name} removed from the local cluster`);
  }
}

/** What `superUsers` in the Kafka resource grants, as the resources of all-operations ACLs. */
const SUPER_USER_RESOURCES = [['--cluster'], ['--topic', '*'], ['--group', '*']];

/** One entry of a KafkaUser's `spec.authorization.acls`. */
interface UserAcl {
  readonly resource: { readonly type: string; readonly name?: string; readonly patternType?: string };
  readonly operations: readonly string[];
}

const userAclsOf = (user: KubeObject): UserAcl[] => (user.spec.authorization?.type === 'simple' ? (user.spec.authorization.acls ?? []) : []) as UserAcl[];

/** The ownerReference the operator puts on what it creates, so deleting the owner deletes them. */
function owner(kind: string, object: KubeObject) {
  return { apiVersion: STRIMZI_API_VERSION, kind, name: object.metadata.name, uid: object.metadata.uid as string, controller: false, blockOwnerDeletion: false };
}
