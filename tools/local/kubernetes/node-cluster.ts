import { execFile, spawn } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { LocalNodeConfig } from '../../../config';
import { HOST, isAlive, Log, readPidFile, sleep, tailFile, waitForExit } from '../process';
import { httpGet } from '../../http';
import { KubeApi, KubeObject, resourcePath } from './api';
import { POD_CIDR, SERVICE_CIDR } from './components';
import { LocalKubernetesLayout } from './layout';
import { LocalNode } from './node';
import { nodeIsReady } from './nodes';
import { bridgeAddress } from './node-config';
import { closeBridgeToServices, openBridgeToServices, removeEnforcerRules } from './node-network';
import { corednsImage } from './node-images';
import { apiServerEndpointSlice, CLUSTER_DNS_IP, clusterDnsObjects, policyEnforcerRbac } from './node-objects';
import { ensureNodePki, renderKubeconfig } from './pki';

const run = promisify(execFile);

/**
 * The real node joined to the local control plane: the kubelet registers (its address is the
 * bridge's), kube-proxy turns Services into iptables rules, kube-router's firewall controller
 * enforces NetworkPolicies with iptables and ipset, CoreDNS runs as a pod on the node, and a
 * socat forward on the bridge address lets pods reach the API server, which listens on
 * 127.0.0.1 only. kube-proxy, kube-router and the forward are host processes (as a
 * DaemonSet's would be with hostNetwork), each with a pid file and a log in the node's folder.
 */

/** The node's host processes beside containerd and the kubelet. */
export const NODE_SERVICES = ['api-forward', 'kube-proxy', 'policy-enforcer'] as const;
export type NodeService = (typeof NODE_SERVICES)[number];

/** The label the real node carries, and the simulated ones carry as `type=kwok`. */
export const REAL_NODE_LABELS = { type: 'real', 'node.kubernetes.io/instance-type': 'local' } as const;

/**
 * A namespace annotated so (PodNodeSelector) puts its pods on the real node; the others go to
 * the simulated nodes by the plugin's cluster default.
 */
export const NODE_SELECTOR_ANNOTATION = 'scheduler.alpha.kubernetes.io/node-selector';
export const onRealNode = (node: LocalNodeConfig) => `kubernetes.io/hostname=${node.name}`;

/** Names the folder of the one joined node this machine runs. */
const REAL_NODE_LOCK = '/run/kafka-platform-real-node';

export interface JoinedNodeStatus {
  readonly processes: Readonly<Record<NodeService, number | undefined>>;
  readonly ready: boolean;
  readonly readyError?: string;
}

export class JoinedNode {
  readonly node: LocalNode;
  readonly nodeIp: string;

  constructor(
    readonly cluster: LocalKubernetesLayout,
    readonly config: LocalNodeConfig,
    dir = path.join(cluster.dir, 'node'),
  ) {
    this.node = new LocalNode(dir, config);
    this.nodeIp = bridgeAddress(config.podSubnet).address;
  }

  private file(kind: 'run' | 'logs' | 'config', name: string): string {
    return path.join(this.node.layout.dir, kind, `${name}.${kind === 'run' ? 'pid' : kind === 'logs' ? 'log' : 'yaml'}`);
  }

  pid(name: NodeService): number | undefined {
    const pid = readPidFile(this.file('run', name));
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  }

  /** Joins the node: certificates, the kubelet, the forward, kube-proxy, the enforcer, then CoreDNS. */
  async up(api: KubeApi, log: Log, timeoutMs: number): Promise<void> {
    const c = this.config;
    this.claimHost();
    const pki = ensureNodePki(this.cluster, c.name, this.nodeIp, log);
    const configDir = path.join(this.node.layout.dir, 'config');
    fs.mkdirSync(configDir, { recursive: true, mode: 0o700 });
    const kubeconfig = (name: string, identity: Parameters<typeof renderKubeconfig>[1]) => {
      const file = path.join(configDir, `${name}.kubeconfig`);
      fs.writeFileSync(file, renderKubeconfig(this.cluster, identity, `https://${HOST}:${this.cluster.config.apiServerPort}`), { mode: 0o600 });
      return file;
    };
    const kubeletKubeconfig = kubeconfig('kubelet', pki.kubelet);

    for (const o of policyEnforcerRbac(pki.policyEnforcer.commonName)) await api.apply(pathOf(o), o);
    // Pods of kube-system (CoreDNS) are placed by their own selectors, not the cluster default.
    await api.request('PATCH', resourcePath('', 'v1', 'namespaces', 'kube-system'), { metadata: { annotations: { [NODE_SELECTOR_ANNOTATION]: '' } } }, 'application/merge-patch+json');

    if (!this.node.running()) {
      await this.node.up(log, timeoutMs, {
        registration: {
          kubeconfig: kubeletKubeconfig,
          nodeIp: this.nodeIp,
          servingCert: pki.servingCert,
          servingKey: pki.servingKey,
          clientCaFile: path.join(this.cluster.pkiDir, 'ca.crt'),
          clusterDns: CLUSTER_DNS_IP,
          labels: REAL_NODE_LABELS,
        },
        serviceCidr: SERVICE_CIDR,
        simulatedPodCidrs: [POD_CIDR],
        images: [corednsImage(this.node.layout.imagesDir, this.node.bin.coredns)],
        prepareNetwork: () => openBridgeToServices(c.bridge),
      });
    }
    await api.waitFor(`node ${c.name} Ready`, async () => ((await nodeReady(api, c.name)) ? true : undefined), timeoutMs);

    const apiPort = this.cluster.config.apiServerPort;
    if (!this.pid('api-forward')) {
      log(`Forwarding ${this.nodeIp}:${apiPort} to the API server (pods reach it as the kubernetes Service)`);
      this.spawn('api-forward', ['socat', `TCP-LISTEN:${apiPort},bind=${this.nodeIp},reuseaddr,fork`, `TCP:${HOST}:${apiPort}`]);
    }
    const endpoint = apiServerEndpointSlice(this.nodeIp, apiPort);
    await api.apply(pathOf(endpoint), endpoint);

    if (!this.pid('kube-proxy')) {
      const file = this.file('config', 'kube-proxy');
      fs.writeFileSync(file, this.renderKubeProxyConfig(kubeconfig('kube-proxy', pki.kubeProxy)));
      log(`Starting kube-proxy, iptables mode (log: ${this.file('logs', 'kube-proxy')})`);
      this.spawn('kube-proxy', [this.node.bin.kubeProxy, `--config=${file}`, '--v=1']);
    }
    await this.waitHttp('kube-proxy', `http://${HOST}:${c.kubeProxyHealthzPort}/healthz`, timeoutMs);

    if (!this.pid('policy-enforcer')) {
      log(`Starting the NetworkPolicy enforcer, kube-router's firewall (log: ${this.file('logs', 'policy-enforcer')})`);
      this.spawn('policy-enforcer', [
        this.node.bin.kubeRouter,
        `--kubeconfig=${kubeconfig('policy-enforcer', pki.policyEnforcer)}`,
        `--hostname-override=${c.name}`,
        '--run-firewall=true',
        '--run-router=false',
        '--run-service-proxy=false',
        '--run-loadbalancer=false',
        '--enable-cni=false',
        '--enable-ipv6=false',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        // Its health port would listen on every address: off; /metrics on 127.0.0.1 instead.
        '--health-port=0',
        `--metrics-addr=${HOST}`,
        `--metrics-port=${c.policyEnforcerMetricsPort}`,
        '--v=1',
      ]);
    }
    await this.waitHttp('policy-enforcer', `http://${HOST}:${c.policyEnforcerMetricsPort}/metrics`, timeoutMs);

    for (const o of clusterDnsObjects(c.name)) await api.apply(pathOf(o), o);
    await api.waitFor(
      'CoreDNS ready on the real node',
      async () => {
        const d = await api.get(resourcePath('apps', 'v1', 'deployments', 'coredns', 'kube-system'));
        return (d.status?.readyReplicas ?? 0) >= 1 ? true : undefined;
      },
      timeoutMs,
    );
    log(`Node ${c.name} joined at ${this.nodeIp}: kubelet, kube-proxy, NetworkPolicy enforcer and CoreDNS (${CLUSTER_DNS_IP}) ready`);
  }

  /** Stops the host processes, then the node; the host's rules for the bridge go last. */
  async down(log: Log): Promise<void> {
    for (const name of [...NODE_SERVICES].reverse()) {
      const pid = this.pid(name);
      if (pid === undefined) continue;
      log(`Stopping ${name} (pid ${pid})`);
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(pid, 15_000))) {
        process.kill(pid, 'SIGKILL');
        await waitForExit(pid, 5000);
      }
      fs.rmSync(this.file('run', name), { force: true });
    }
    // Neither removes its rules when it stops: kube-proxy's clean-up mode does, the enforcer's is done here.
    if (fs.existsSync(this.node.bin.kubeProxy)) {
      await run(this.node.bin.kubeProxy, ['--cleanup', '--v=0'], { timeout: 60_000 }).catch((err: Error) => log(`kube-proxy --cleanup: ${err.message.split('\n')[0]}`));
    }
    await removeEnforcerRules();
    await this.node.down(log);
    await closeBridgeToServices(this.config.bridge);
    fs.rmSync(REAL_NODE_LOCK, { force: true });
  }

  async status(api?: KubeApi): Promise<JoinedNodeStatus> {
    const processes = Object.fromEntries(NODE_SERVICES.map((n) => [n, this.pid(n)])) as Record<NodeService, number | undefined>;
    let ready = false;
    let readyError: string | undefined;
    try {
      ready = api ? await nodeReady(api, this.config.name) : false;
    } catch (err) {
      readyError = (err as Error).message;
    }
    return { processes, ready: ready && this.node.running() && Object.values(processes).every((p) => p !== undefined), readyError };
  }

  /**
   * One joined node per machine: kube-proxy and the enforcer each own chains of the host's
   * firewall (KUBE-SERVICES, KUBE-ROUTER-*) that a second one would rewrite.
   */
  private claimHost(): void {
    const mine = this.node.layout.dir;
    if (fs.existsSync(REAL_NODE_LOCK)) {
      const other = fs.readFileSync(REAL_NODE_LOCK, 'utf8').trim();
      const otherKubelet = readPidFile(path.join(other, 'run', 'kubelet.pid'));
      if (other !== mine && otherKubelet !== undefined && isAlive(otherKubelet)) {
        throw new Error(`another real node runs on this machine (${other}): one at a time, since kube-proxy and the NetworkPolicy enforcer own the host's firewall chains; stop it first (npm run k8s:down, or the test that started it)`);
      }
    }
    fs.writeFileSync(REAL_NODE_LOCK, `${mine}\n`);
  }

  /**
   * iptables mode; NodePorts only on the bridge address (never on an outside interface), no
   * localhost NodePorts (they need route_localnet on every interface), and the host's
   * conntrack limits and timeouts left as they are.
   */
  renderKubeProxyConfig(kubeconfig: string): string {
    const c = this.config;
    return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${kubeconfig}
hostnameOverride: ${c.name}
mode: iptables
clusterCIDR: ${c.podSubnet}
healthzBindAddress: ${HOST}:${c.kubeProxyHealthzPort}
metricsBindAddress: ${HOST}:${c.kubeProxyMetricsPort}
nodePortAddresses:
- ${this.nodeIp}/32
iptables:
  localhostNodePorts: false
  masqueradeAll: false
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
oomScoreAdj: 0
`;
  }

  private spawn(name: NodeService, command: readonly string[]): void {
    const logFile = this.file('logs', name);
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.mkdirSync(path.dirname(this.file('run', name)), { recursive: true });
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `\n--- ${new Date().toISOString()} ${command.join(' ')}\n`);
    const [binary, ...args] = command;
    const child = spawn(binary, args, { cwd: this.node.layout.dir, detached: true, stdio: ['ignore', out, out], env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin` } });
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${binary})`);
    child.unref();
    fs.writeFileSync(this.file('run', name), `${child.pid}\n`);
  }

  private async waitHttp(name: NodeService, url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.pid(name) === undefined) throw new Error(`${name} exited during start-up. Last lines of ${this.file('logs', name)}:\n${tailFile(this.file('logs', name), 30)}`);
      try {
        const res = await httpGet(url, 2000);
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(300);
    }
    throw new Error(`${name} did not answer ${url} in ${timeoutMs / 1000}s (${last}). Last lines of ${this.file('logs', name)}:\n${tailFile(this.file('logs', name), 30)}`);
  }
}

async function nodeReady(api: KubeApi, name: string): Promise<boolean> {
  const node = await api.find(resourcePath('', 'v1', 'nodes', name));
  return node !== undefined && nodeIsReady(node);
}

/** The REST path of an object by its apiVersion and kind (the few kinds applied here). */
export function pathOf(o: KubeObject): string {
  const [group, version] = o.apiVersion!.includes('/') ? o.apiVersion!.split('/') : ['', o.apiVersion!];
  const plural: Record<string, string> = {
    ServiceAccount: 'serviceaccounts',
    ClusterRole: 'clusterroles',
    ClusterRoleBinding: 'clusterrolebindings',
    ConfigMap: 'configmaps',
    Deployment: 'deployments',
    Service: 'services',
    EndpointSlice: 'endpointslices',
    Namespace: 'namespaces',
    Pod: 'pods',
    NetworkPolicy: 'networkpolicies',
    Secret: 'secrets',
    Job: 'jobs',
  };
  const p = plural[o.kind!];
  if (!p) throw new Error(`pathOf: no plural for kind ${o.kind}`);
  return resourcePath(group, version, p, o.metadata.name, o.metadata.namespace);
}
