import { ClusterDnsConfig, ContainerResources, EnvironmentConfig, ExternalAccessConfig, KubernetesPlatform, LocalClusterConfig, LocalNodeConfig, StateBackendConfig } from './environments';

/** One `key=value` of a node selector: a label key (optional DNS prefix) and value, as Kubernetes takes them. */
const SELECTOR_PAIR = '([a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?=([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?';
const NODE_SELECTOR = new RegExp(`^${SELECTOR_PAIR}(,${SELECTOR_PAIR})*$`);

/** Undefined when `selector` is a node selector the namespace annotation takes, else the problem. */
export function nodeSelectorProblem(at: string, selector: string): string | undefined {
  return NODE_SELECTOR.test(selector) ? undefined : `${at}="${selector}": expected key=value[,key=value] with Kubernetes label keys and values, e.g. "kubernetes.io/hostname=node-1"`;
}

/**
 * Checks of the fields of an environment that Terraform, Kubernetes or the local cluster would
 * otherwise refuse late (mid-apply) or not at all. Each problem names the field, the value and
 * the expected form; config/index.ts adds them to `environmentProblems`.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const BYTES = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const CPU = /^(\d+(?:\.\d+)?)(m)?$/;
const BYTE_UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const REGISTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const PG_SCHEMA_PREFIX = /^[a-z_][a-z0-9_]*$/;
/** PostgreSQL truncates identifiers at 63 bytes; the longest suffix a stack adds is `_workloads_stack`. */
const PG_MAX_PREFIX = 63 - '_workloads_stack'.length;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const LISTENERS = ['nodeport', 'loadbalancer', 'none'];
const PLATFORMS: readonly KubernetesPlatform[] = ['eks', 'gke', 'generic'];
const EXPOSURES = ['private', 'public'];
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Whether `value` is an IPv4 CIDR such as `10.0.0.0/8` (IPv6 `addr/len` is accepted as written). */
export function isCidr(value: string): boolean {
  const m = IPV4_CIDR.exec(value);
  if (m) return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
  return /^[0-9a-f:]+:[0-9a-f:]*\/\d{1,3}$/i.test(value) && Number(value.split('/')[1]) <= 128;
}

function dnsProblems(at: string, dns: ClusterDnsConfig | undefined): string[] {
  if (!dns) return [`${at} is missing: say where the pods resolve names, e.g. { kubeDnsPods: true, addresses: [] } (NodeLocal DNSCache: addresses ['169.254.20.10/32'])`];
  const problems = dns.addresses
    .filter((a) => !isCidr(a))
    .map((a) => `${at}.addresses has "${a}": expected a CIDR such as "169.254.20.10/32" (NodeLocal DNSCache) or "169.254.169.254/32" (GKE Cloud DNS)`);
  if (!dns.kubeDnsPods && dns.addresses.length === 0) {
    problems.push(`${at} allows no resolver: set kubeDnsPods to true or list the resolver addresses, or every name lookup of the services is dropped`);
  }
  return problems;
}

function externalAccessProblems(at: string, listener: string, access: ExternalAccessConfig | undefined, platform: KubernetesPlatform | undefined): string[] {
  if (!access) {
    return listener === 'loadbalancer'
      ? [`${at} is missing: a loadbalancer listener needs { exposure: 'private', sourceRanges: [...], peers: [...] } (docs/kafka.md, "The external listener")`]
      : [];
  }
  const problems: string[] = [];
  if (!EXPOSURES.includes(access.exposure)) problems.push(`${at}.exposure is "${access.exposure}": expected private or public`);
  for (const range of access.sourceRanges) {
    if (!isCidr(range)) problems.push(`${at}.sourceRanges has "${range}": expected a CIDR such as "10.0.0.0/8"`);
  }
  for (const peer of access.peers) {
    if ('cidr' in peer && !isCidr(peer.cidr)) problems.push(`${at}.peers has cidr "${peer.cidr}": expected a CIDR such as "10.0.0.0/8"`);
    if ('namespace' in peer && !DNS_LABEL.test(peer.namespace)) problems.push(`${at}.peers has namespace "${peer.namespace}": expected a Kubernetes namespace name`);
  }
  if (listener === 'loadbalancer') {
    if (access.sourceRanges.length === 0) {
      problems.push(`${at}.sourceRanges is empty: a load balancer then admits every address; list the networks of the clients and of Terraform, e.g. ["10.0.0.0/8"]`);
    }
    if (access.peers.length === 0) {
      problems.push(`${at}.peers is empty: Strimzi then lets every source reach the listener; list the clients' and Terraform's networks, e.g. [{ cidr: "10.0.0.0/8" }]`);
    }
    if (access.exposure === 'private' && platform === 'generic') {
      problems.push(`${at}.exposure is private, but kubernetes.platform is "generic", which has no internal load balancer this project knows: set kubernetes.platform to "eks" or "gke", or choose exposure "public" with narrow sourceRanges`);
    }
  }
  return problems;
}
/** A DNS name or an IPv4 address (what a broker may advertise and its certificate name). */
export const ADVERTISED_HOST = /^((25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*)$/;
/** Kubernetes' default NodePort range (`--service-node-port-range`). */
export const NODE_PORT_RANGE = { from: 30000, to: 32767 } as const;

/** Bytes of a Kubernetes memory or storage quantity (`1536Mi`, `10Gi`), undefined when malformed. */
export function bytesOf(quantity: string): number | undefined {
  const m = BYTES.exec(quantity);
  return m ? Number(m[1]) * BYTE_UNITS[m[2] ?? ''] : undefined;
}

/** Cores of a Kubernetes CPU quantity (`250m`, `2`), undefined when malformed. */
export function coresOf(quantity: string): number | undefined {
  const m = CPU.exec(quantity);
  return m ? Number(m[1]) / (m[2] ? 1000 : 1) : undefined;
}

function resourceProblems(at: string, r: ContainerResources): string[] {
  const problems: string[] = [];
  for (const [kind, parse, example] of [['cpu', coresOf, '"250m" or "2"'], ['memory', bytesOf, '"1536Mi" or "2Gi"']] as const) {
    const request = parse(r.requests[kind]);
    const limit = parse(r.limits[kind]);
    if (request === undefined) problems.push(`${at}.requests.${kind} is "${r.requests[kind]}": expected a Kubernetes quantity such as ${example}`);
    if (limit === undefined) problems.push(`${at}.limits.${kind} is "${r.limits[kind]}": expected a Kubernetes quantity such as ${example}`);
    if (request !== undefined && limit !== undefined && request > limit) {
      problems.push(`${at}.requests.${kind} ${r.requests[kind]} is above its limit ${r.limits[kind]}: Kubernetes refuses the pod; lower the request or raise the limit`);
    }
  }
  return problems;
}

function backendProblems(at: string, b: StateBackendConfig): string[] {
  switch (b.type) {
    case 'local':
      return b.directory === '' || b.directory.startsWith('/') || b.directory.split(/[\\/]/).includes('..')
        ? [`${at}.directory is "${b.directory}": expected a directory inside the project, e.g. "state/dev" (state files must stay git-ignored)`]
        : [];
    case 'pg':
      if (!PG_SCHEMA_PREFIX.test(b.schemaPrefix)) return [`${at}.schemaPrefix is "${b.schemaPrefix}": expected lower-case letters, digits and '_' (a PostgreSQL schema name), e.g. "kafka_platform_prod"`];
      if (b.schemaPrefix.length > PG_MAX_PREFIX) return [`${at}.schemaPrefix is ${b.schemaPrefix.length} characters: at most ${PG_MAX_PREFIX}, or PostgreSQL truncates the stack schema names and states would mix`];
      return [];
    case 's3': {
      const problems: string[] = [];
      if (!S3_BUCKET.test(b.bucket)) problems.push(`${at}.bucket is "${b.bucket}": expected an S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit)`);
      if (b.keyPrefix.startsWith('/') || b.keyPrefix.endsWith('/')) problems.push(`${at}.keyPrefix is "${b.keyPrefix}": drop the leading and trailing '/', e.g. "kafka-platform/prod"`);
      return problems;
    }
    case 'kubernetes': {
      const problems: string[] = [];
      if (!DNS_LABEL.test(b.namespace)) problems.push(`${at}.namespace is "${b.namespace}": expected a Kubernetes namespace name (lower-case letters, digits, '-', at most 63)`);
      if (!DNS_LABEL.test(b.secretSuffixPrefix)) problems.push(`${at}.secretSuffixPrefix is "${b.secretSuffixPrefix}": expected lower-case letters, digits and '-' (part of a Secret name)`);
      return problems;
    }
    default:
      return [`${at}.type is "${(b as { type: string }).type}": expected local, pg, s3 or kubernetes`];
  }
}

function localClusterProblems(at: string, c: LocalClusterConfig): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(c.nodes) || c.nodes < 3) {
    problems.push(`${at}.nodes is ${c.nodes}: at least 3 nodes are needed for the platform topics' replication factor 3`);
    return problems;
  }
  const ranges = (['clientBasePort', 'controllerBasePort', 'saslBasePort', 'externalBasePort', 'podNetworkBasePort'] as const).map((key) => ({ key, from: c[key], to: c[key] + c.nodes - 1 }));
  for (const r of ranges) {
    if (!Number.isInteger(r.from) || r.from < 1024 || r.to > 65535) problems.push(`${at}.${r.key} is ${r.from}: expected a port from 1024 to ${65535 - c.nodes + 1} (node N listens on base + N - 1)`);
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [a, b] = [ranges[i], ranges[j]];
      if (a.from <= b.to && b.from <= a.to) {
        problems.push(`${at}.${a.key} (${a.from}-${a.to}) overlaps ${b.key} (${b.from}-${b.to}): move one so the ${c.nodes} nodes' ports do not collide`);
      }
    }
  }
  return problems;
}

function nodePortProblems(at: string, listener: string, nodePort: EnvironmentConfig['kafka']['nodePort'], brokers: number): string[] {
  if (!LISTENERS.includes(listener)) return [];
  if (listener !== 'nodeport') {
    return nodePort ? [`${at}.nodePort is set, but externalListener is "${listener}": remove nodePort, or set externalListener to "nodeport"`] : [];
  }
  if (!nodePort) {
    return [
      `${at}.nodePort is missing: a NodePort listener's broker certificates name no node address, so the Kafka provider's host-name verification fails; ` +
        `set nodePort.advertisedHost to the address clients reach the nodes at (127.0.0.1 with kind's port mappings) and nodePort.bootstrapNodePort (docs/kafka.md, "Reaching the brokers")`,
    ];
  }
  const problems: string[] = [];
  if (!ADVERTISED_HOST.test(nodePort.advertisedHost)) {
    problems.push(`${at}.nodePort.advertisedHost is "${nodePort.advertisedHost}": expected a DNS name or an IPv4 address in lower case, without a port or a scheme, e.g. "127.0.0.1" or "kafka.dev.example.com"`);
  }
  const last = NODE_PORT_RANGE.to - brokers;
  if (!Number.isInteger(nodePort.bootstrapNodePort) || nodePort.bootstrapNodePort < NODE_PORT_RANGE.from || nodePort.bootstrapNodePort > last) {
    problems.push(`${at}.nodePort.bootstrapNodePort is ${nodePort.bootstrapNodePort}: expected a port from ${NODE_PORT_RANGE.from} to ${last} (Kubernetes' NodePort range; the ${brokers} brokers take the next ports)`);
  }
  return problems;
}

/** Every problem with the fields of `env` beyond Kafka versions and sizes. */
export function environmentFieldProblems(env: EnvironmentConfig): string[] {
  const at = `environments.${env.name}`;
  const problems: string[] = [];
  for (const [layer, ns] of Object.entries(env.namespaces)) {
    if (!DNS_LABEL.test(ns)) problems.push(`${at}.namespaces.${layer} is "${ns}": expected a Kubernetes namespace name (lower-case letters, digits, '-', at most 63)`);
  }
  const k = env.kafka;
  for (const [key, size] of [['storageSize', k.storageSize], ['controllerStorageSize', k.controllerStorageSize]] as const) {
    if (size !== undefined && bytesOf(size) === undefined) problems.push(`${at}.kafka.${key} is "${size}": expected a Kubernetes quantity such as "100Gi"`);
  }
  if (!LISTENERS.includes(k.externalListener)) problems.push(`${at}.kafka.externalListener is "${k.externalListener}": expected one of ${LISTENERS.join(', ')}`);
  problems.push(...nodePortProblems(`${at}.kafka`, k.externalListener, k.nodePort, k.brokers));
  for (const [pod, r] of Object.entries(k.resources)) problems.push(...resourceProblems(`${at}.kafka.resources.${pod}`, r));
  problems.push(...resourceProblems(`${at}.services.resources`, env.services.resources));
  const lag = env.services.autoscaling?.lagThreshold;
  if (!Number.isInteger(lag) || (lag as number) < 1) {
    problems.push(`${at}.services.autoscaling.lagThreshold is ${JSON.stringify(lag)}: expected a whole number of messages of lag per consumer replica, at least 1, e.g. 5000`);
  }
  if (env.services.namespaceNodeSelector !== undefined) {
    const problem = nodeSelectorProblem(`${at}.services.namespaceNodeSelector`, env.services.namespaceNodeSelector);
    if (problem) problems.push(problem);
  }
  const ratio = env.services.traceSampleRatio;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    problems.push(`${at}.services.traceSampleRatio is ${ratio}: expected the share of traces to keep, a number from 0 to 1, e.g. 0.1`);
  }
  if (env.kubernetes && env.kubernetes.configPath.trim() === '') problems.push(`${at}.kubernetes.configPath is empty: expected a kubeconfig path such as "~/.kube/config"`);
  if (env.kubernetes) {
    const kube = env.kubernetes;
    if (!PLATFORMS.includes(kube.platform)) problems.push(`${at}.kubernetes.platform is "${kube.platform}": expected one of ${PLATFORMS.join(', ')} (generic: any other conformant cluster)`);
    if (typeof kube.managedControlPlane !== 'boolean') {
      problems.push(`${at}.kubernetes.managedControlPlane is ${JSON.stringify(kube.managedControlPlane)}: expected true (EKS, GKE: the control plane is not scraped) or false`);
    }
    problems.push(...dnsProblems(`${at}.kubernetes.dns`, kube.dns));
    if (typeof kube.zonalStorage !== 'boolean') {
      problems.push(`${at}.kubernetes.zonalStorage is ${JSON.stringify(kube.zonalStorage)}: expected true (nodes in several zones, zonal volumes such as EBS or PD) or false`);
    }
  }
  problems.push(...externalAccessProblems(`${at}.kafka.externalAccess`, k.externalListener, k.externalAccess, env.kubernetes?.platform));
  if (k.storageClass !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(k.storageClass)) {
    problems.push(`${at}.kafka.storageClass is "${k.storageClass}": expected a StorageClass name (lower-case letters, digits, '-', '.'), or leave it out for the cluster's default class`);
  }
  problems.push(...backendProblems(`${at}.backend`, env.backend));
  problems.push(...localClusterProblems(`${at}.localCluster`, env.localCluster));
  if (!REGISTRY.test(env.imageRegistry)) {
    problems.push(`${at}.imageRegistry is "${env.imageRegistry}": expected host[:port][/path] in lower case, without a scheme or a trailing '/', e.g. "registry.example.com/kafka-platform"`);
  }
  return problems;
}

/**
 * Problems of the local real node's settings (config/environments.ts `localNode`), found
 * before it starts: a bridge name Linux refuses, a pod subnet that is not private IPv4 or
 * too small, ports that collide.
 */
export function localNodeProblems(node: LocalNodeConfig): string[] {
  const problems: string[] = [];
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(node.bridge)) {
    problems.push(`localNode.bridge is "${node.bridge}": expected a Linux interface name of at most 15 letters, digits, '-', '_' or '.', e.g. "kp-node0"`);
  }
  const m = IPV4_CIDR.exec(node.podSubnet);
  if (!m || !isCidr(node.podSubnet)) {
    problems.push(`localNode.podSubnet is "${node.podSubnet}": expected an IPv4 CIDR such as "10.245.0.0/24"`);
  } else {
    const [a, b] = [Number(m[1]), Number(m[2])];
    const prefix = Number(m[5]);
    const privateRange = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
    if (!privateRange) problems.push(`localNode.podSubnet ${node.podSubnet} is not a private range: pods must stay on this machine; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`);
    if (prefix < 8 || prefix > 28) problems.push(`localNode.podSubnet ${node.podSubnet} has prefix /${prefix}: expected /8 to /28 (the bridge takes the first address, pods the rest)`);
  }
  const ports: Array<[string, number]> = [
    ['kubeletPort', node.kubeletPort],
    ['kubeletReadOnlyPort', node.kubeletReadOnlyPort],
    ['kubeletHealthzPort', node.kubeletHealthzPort],
    ['containerdStreamPort', node.containerdStreamPort],
    ['kubeProxyHealthzPort', node.kubeProxyHealthzPort],
    ['kubeProxyMetricsPort', node.kubeProxyMetricsPort],
    ['policyEnforcerMetricsPort', node.policyEnforcerMetricsPort],
  ];
  for (const [key, port] of ports) {
    if (!Number.isInteger(port) || port < 1024 || port > 65535) problems.push(`localNode.${key} is ${port}: expected a port from 1024 to 65535`);
  }
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      if (ports[i][1] === ports[j][1]) problems.push(`localNode.${ports[j][0]} is ${ports[j][1]}, the same as localNode.${ports[i][0]}: give each its own port`);
    }
  }
  return problems;
}
