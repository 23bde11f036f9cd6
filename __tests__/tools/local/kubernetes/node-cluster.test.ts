import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { KubeApi, KubeObject, resourcePath } from '../../../../tools/local/kubernetes';
import { POD_CIDR, SERVICE_CIDR } from '../../../../tools/local/kubernetes/components';
import { missingHostTool } from '../../../../tools/local/kubernetes/node';
import { NODE_SELECTOR_ANNOTATION, onRealNode, pathOf } from '../../../../tools/local/kubernetes/node-cluster';
import { enforcerChains, guardChain } from '../../../../tools/local/kubernetes/node-network';
import { CLUSTER_DNS_PLUGINS, nodeBinaryPaths } from '../../../../tools/local/kubernetes/node-build';
import { CLUSTER_DNS_IP, COREFILE } from '../../../../tools/local/kubernetes/node-objects';
import { CACHE_DIR } from '../../../../tools/paths';
import { busyboxPod, enforcerDrops, JOIN_NODE_IP, joinNodeConfig, joinTestKubernetes, runPodOnce } from '../../../support/real-node';
import { kubernetesBinariesReady } from '../../../support/kubernetes-build';

/**
 * A real node joined to a control plane of the test's own (ports 300 above the project's, its
 * own bridge and pod range): registration, Services through kube-proxy, names through CoreDNS,
 * and NetworkPolicies enforced by kube-router, each shown by pods that really run on it.
 */
const nodeConfig = joinNodeConfig;
const NODE_IP = JOIN_NODE_IP;
const cluster = joinTestKubernetes;
const NS = 'node-test';
const OTHER_NS = 'kwok-placed';
const quiet = () => undefined;
let api: KubeApi;

const BUILD_WAIT_MS = 75 * 60_000;

beforeAll(async () => {
  const missing = missingHostTool();
  if (missing) throw new Error(missing);
  await kubernetesBinariesReady((line) => console.log(`[local-kubernetes] ${line}`), BUILD_WAIT_MS, true);
  await cluster.down({ purge: true, log: quiet });
  fs.rmSync(path.join(CACHE_DIR, 'join-test', 'kubernetes', 'node'), { recursive: true, force: true });
  const started = Date.now();
  await cluster.up({ log: (l) => console.log(`[join-test] ${l}`), timeoutMs: 300_000 });
  console.log(`[join-test] control plane and real node ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  api = cluster.api();
  for (const [name, annotations] of [
    [NS, { [NODE_SELECTOR_ANNOTATION]: onRealNode(nodeConfig) }],
    [OTHER_NS, {}],
  ] as const) {
    await api.apply(resourcePath('', 'v1', 'namespaces', name), { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } });
  }
  await api.waitFor('the default ServiceAccount of the test namespace', () => api.find(resourcePath('', 'v1', 'serviceaccounts', 'default', NS)), 60_000);
  // The server: busybox httpd on 8080 behind a Service on port 80.
  await apply(pod('web', { app: 'web' }, ['sh', '-c', 'mkdir -p /tmp/www && echo served-by-web > /tmp/www/index.html && exec httpd -f -v -p 8080 -h /tmp/www']));
  await apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: NS },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
  });
  await api.waitFor('pod web Running', async () => ((await getPod('web')).status?.phase === 'Running' ? true : undefined), 120_000);
}, BUILD_WAIT_MS + 600_000);

afterAll(async () => {
  api?.close();
  await cluster.down({ log: quiet });
}, 180_000);

const apply = (o: KubeObject) => api.apply(pathOf(o), o);
const pod = (name: string, labels: Record<string, string>, command: string[], restartPolicy: 'Always' | 'Never' = 'Always') => busyboxPod(NS, name, labels, command, restartPolicy);
const runOnce = (name: string, labels: Record<string, string>, script: string) => runPodOnce(api, NS, name, labels, script);
const getPod = (name: string, ns = NS) => api.get(resourcePath('', 'v1', 'pods', name, ns));

/** Each pod waits until the enforcer has programmed its chain: it syncs on the pod's start, so its first packets could pass unfiltered. */
const SETTLE = 'sleep 5';
const OWN_IP = "echo OWN-IP $(ip -4 addr show eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/\\1/p')";

// busybox's own timeout: Debian's busybox-static wget crashes on its -T option.
const FETCH = `timeout 5 wget -q -O - http://web.${NS}.svc.cluster.local/ && echo FETCH-OK || echo FETCH-FAILED`;
const LOOKUP = `nslookup web.${NS}.svc.cluster.local ${CLUSTER_DNS_IP} && echo LOOKUP-OK || echo LOOKUP-FAILED`;

describe('a real node joined to the local Kubernetes', () => {
  it('registers Ready at its bridge address, beside the simulated node, and the kubelet serves logs through the API server', async () => {
    const nodes = (await api.get<{ items: KubeObject[] }>(resourcePath('', 'v1', 'nodes'))).items;
    const real = nodes.find((n) => n.metadata.name === nodeConfig.name)!;
    expect(real).toBeDefined();
    expect(real.status.addresses).toEqual(expect.arrayContaining([{ type: 'InternalIP', address: NODE_IP }]));
    expect(real.status.nodeInfo.kubeletVersion).toMatch(/^v1\.37\./);
    expect(real.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./);
    expect(real.metadata.labels.type).toBe('real');
    expect(nodes.filter((n) => n.metadata.labels?.type === 'kwok')).toHaveLength(1);
    const web = await getPod('web');
    expect(web.spec.nodeName).toBe(nodeConfig.name);
    expect(web.status.podIP).toMatch(/^10\.245\.3\./);
  });

  it('puts pods of an unannotated namespace on the simulated nodes (PodNodeSelector default) and CoreDNS on the real one', async () => {
    await api.apply(resourcePath('', 'v1', 'pods', 'placed', OTHER_NS), { ...pod('placed', {}, ['sleep', '3600']), metadata: { name: 'placed', namespace: OTHER_NS } });
    const placed = await api.waitFor('pod placed scheduled', async () => (await getPod('placed', OTHER_NS)).spec.nodeName as string | undefined, 60_000);
    expect(placed).toMatch(/^kwok-node-/);
    expect((await getPod('placed', OTHER_NS)).spec.nodeSelector).toEqual({ type: 'kwok' });
    const dns = (await api.get<{ items: KubeObject[] }>(`${resourcePath('', 'v1', 'pods', undefined, 'kube-system')}?labelSelector=k8s-app%3Dkube-dns`)).items;
    expect(dns.map((p) => p.spec.nodeName)).toEqual([nodeConfig.name]);
  });

  it('resolves Service names through CoreDNS and reaches the pod behind a Service through kube-proxy', async () => {
    const r = await runOnce('client', { role: 'client' }, `${LOOKUP}; ${FETCH}; cat /etc/resolv.conf`);
    expect(r.log).toContain('LOOKUP-OK');
    expect(r.log).toContain('served-by-web');
    expect(r.log).toContain('FETCH-OK');
    expect(r.log).toContain(`nameserver ${CLUSTER_DNS_IP}`);
    expect(r.log).toMatch(/search node-test\.svc\.cluster\.local svc\.cluster\.local cluster\.local\s*$/m);
  });

  it('runs a CoreDNS compiled with the plugins its Corefile uses and what they import, none of the cloud ones', () => {
    const directives = [...COREFILE.matchAll(/^ {4}([a-z0-9_]+)\b/gm)].map((m) => m[1]);
    expect(directives.sort()).toEqual([...CLUSTER_DNS_PLUGINS].sort());
    const listed = spawnSync(nodeBinaryPaths().coredns, ['-plugins'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    // metadata, prometheus and transfer come along as packages the kubernetes plugin imports.
    expect(listed).toEqual(expect.arrayContaining([...CLUSTER_DNS_PLUGINS]));
    expect(listed.filter((p) => !(CLUSTER_DNS_PLUGINS as readonly string[]).includes(p)).sort()).toEqual(['metadata', 'prometheus', 'transfer']);
  });

  it('answers no name outside the cluster: CoreDNS has no upstream', async () => {
    expect(COREFILE).not.toMatch(/\bforward\b|\bproxy\b/);
    const r = await runOnce('outside-name', {}, 'nslookup kafka-platform.invalid && echo RESOLVED || echo NOT-RESOLVED');
    expect(r.log).toContain('NOT-RESOLVED');
  });

  it('enforces a default-deny ingress policy: the connection is refused by kube-router, whose drop log shows the packet', async () => {
    await apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web-ingress', namespace: NS },
      spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080, protocol: 'TCP' }] }] },
    });
    // The enforcer syncs on the policy's event; give it a moment, then prove both sides.
    await new Promise((r) => setTimeout(r, 3000));
    const { result: stranger, drops } = await enforcerDrops(() => runOnce('stranger', { role: 'stranger' }, `${SETTLE}; ${OWN_IP}; ${FETCH}`));
    expect(stranger.log).toContain('FETCH-FAILED');
    // Refused, not timed out: the REJECT's ICMP answer, with the web pod listening.
    expect(stranger.log).toMatch(/Connection refused/);
    const strangerIp = /OWN-IP (\S+)/.exec(stranger.log)![1];
    const webIp = (await getPod('web')).status.podIP as string;
    expect(drops.some((l) => l.includes(`${strangerIp}.`) && l.includes(`> ${webIp}.8080`))).toBe(true);
    const client = await runOnce('client', { role: 'client' }, `${SETTLE}; ${FETCH}`);
    expect(client.log).toContain('FETCH-OK');
  });

  it('enforces egress: without a DNS rule resolution fails, with an allow-dns rule it works', async () => {
    const egress = (extra: object[]) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'client-egress', namespace: NS },
      spec: { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 8080, protocol: 'TCP' }] }, ...extra] },
    });
    await apply(egress([]));
    await new Promise((r) => setTimeout(r, 3000));
    const { result: denied, drops } = await enforcerDrops(() => runOnce('client', { role: 'client' }, `${SETTLE}; ${OWN_IP}; nslookup web.${NS}.svc.cluster.local && echo LOOKUP-OK || echo LOOKUP-FAILED`));
    expect(denied.log).toContain('LOOKUP-FAILED');
    const clientIp = /OWN-IP (\S+)/.exec(denied.log)![1];
    const dnsIp = (await api.get<{ items: KubeObject[] }>(`${resourcePath('', 'v1', 'pods', undefined, 'kube-system')}?labelSelector=k8s-app%3Dkube-dns`)).items[0].status.podIP as string;
    // The query reached the enforcer already turned into CoreDNS's pod address by kube-proxy.
    expect(drops.some((l) => l.includes(`${clientIp}.`) && l.includes(`> ${dnsIp}.53`))).toBe(true);
    // allow-dns as workloads-stack writes it: kube-dns pods in kube-system, port 53.
    await apply(
      egress([
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
      ]),
    );
    await new Promise((r) => setTimeout(r, 3000));
    const allowed = await runOnce('client', { role: 'client' }, `${SETTLE}; nslookup web.${NS}.svc.cluster.local && echo LOOKUP-OK || echo LOOKUP-FAILED; ${FETCH}`);
    expect(allowed.log).toContain('LOOKUP-OK');
    expect(allowed.log).toContain('FETCH-OK');
  });

  it('keeps the pod network on this machine: pod routes, no host-wide forwarding, and a guard against forwarding off the bridge', async () => {
    const r = await runOnce('routes', {}, 'ip route; ip -4 addr show eth0');
    const routes = r.log
      .split('\n')
      .filter((l) => /^\S+ (via|dev)/.test(l))
      .map((l) => l.trim().replace(/\s+/g, ' '));
    const podIp = /inet (10\.245\.3\.\d+)/.exec(r.log)![1];
    // The simulated nodes' pod range too: this machine answers for broker pods it stands in for.
    expect(routes.sort()).toEqual([`10.245.3.0/24 dev eth0 scope link src ${podIp}`, `${SERVICE_CIDR} via ${NODE_IP} dev eth0`, `${POD_CIDR} via ${NODE_IP} dev eth0`].sort());
    expect(r.log).not.toMatch(/^default/m);
    expect(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('0');
    expect(fs.readFileSync(`/proc/sys/net/ipv4/conf/${nodeConfig.bridge}/forwarding`, 'utf8').trim()).toBe('1');
    const guard = spawnSync('iptables', ['-S', guardChain(nodeConfig.bridge)], { encoding: 'utf8' }).stdout;
    expect(guard).toContain(`-A ${guardChain(nodeConfig.bridge)} -i ${nodeConfig.bridge} ! -o ${nodeConfig.bridge}`);
    expect(guard).toContain(`-A ${guardChain(nodeConfig.bridge)} ! -i ${nodeConfig.bridge} -o ${nodeConfig.bridge}`);
    expect(spawnSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' }).stdout).toContain(`-A FORWARD -j ${guardChain(nodeConfig.bridge)}`);
    // No source NAT of pod traffic to any interface: kube-proxy's one MASQUERADE is for marked Service hairpin traffic.
    const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout.split('\n');
    const masquerades = nat.filter((l) => l.includes('MASQUERADE') && l.startsWith('-A'));
    for (const m of masquerades) expect(m).toMatch(/--mark 0x4000\/0x4000|KUBE-POSTROUTING/);
    expect(masquerades.filter((l) => l.includes('10.245.3.0/24'))).toEqual([]);
    // NodePorts are bound to the bridge address only.
    expect(nat.filter((l) => l.includes('KUBE-NODEPORTS') && l.startsWith('-A KUBE-SERVICES')).join('\n')).toContain(`-d ${NODE_IP}/32`);
  });

  it('leaves the host as it was once down: no rules, address sets, bridge or processes of the node', async () => {
    const dir = cluster.realNode!.node.layout.dir;
    await cluster.down({ log: quiet });
    expect(await enforcerChains()).toEqual([]);
    expect(spawnSync('ipset', ['list', '-n'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /^KUBE-(SRC|DST)-/.test(l))).toEqual([]);
    expect(spawnSync('iptables-save', { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('KUBE-'))).toEqual([]);
    expect(spawnSync('iptables', ['-S', guardChain(nodeConfig.bridge)], { encoding: 'utf8' }).status).not.toBe(0);
    expect((await cluster.realNode!.node.bridgeState()).exists).toBe(false);
    expect(cluster.realNode!.node.status()).toEqual({ containerd: undefined, kubelet: undefined, namespace: undefined, shims: [] });
    expect(Object.values((await cluster.realNode!.status()).processes)).toEqual([undefined, undefined, undefined]);
    expect(cluster.realNode!.node.hostMounts()).toEqual([]);
    expect(fs.existsSync(dir)).toBe(true);
  });
});
