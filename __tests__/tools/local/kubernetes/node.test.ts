import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { shiftedNodeConfig } from '../../../support/real-node';
import { LocalNode, missingHostTool } from '../../../../tools/local/kubernetes/node';
import { KUBELET_SYSCTLS } from '../../../../tools/local/kubernetes/node-config';
import { BUSYBOX_IMAGE } from '../../../../tools/local/kubernetes/node-images';
import { CACHE_DIR } from '../../../../tools/paths';
import { kubernetesBinariesReady } from '../../../support/kubernetes-build';

/** Its own folder and ports (100 above the project's), so `npm run k8s:up`'s node stays untouched. */
const config = shiftedNodeConfig(100, { name: 'test-node', bridge: 'kp-test0', podSubnet: '10.245.1.0/24' });
const dir = path.join(CACHE_DIR, 'test-node');
const quiet = () => undefined;
let node: LocalNode;

/** A first build of the control plane, then containerd and the kubelet, on two busy cores. */
const BUILD_WAIT_MS = 75 * 60_000;

beforeAll(async () => {
  // A machine without them fails here, naming the tool and its package.
  const missing = missingHostTool();
  if (missing) throw new Error(missing);
  await kubernetesBinariesReady((line) => console.log(`[local-kubernetes] ${line}`), BUILD_WAIT_MS, true);
  node = new LocalNode(dir, config);
  chainsBefore = kubeChains();
  sysctlsBefore = sysctls();
  await node.down(quiet);
  fs.rmSync(dir, { recursive: true, force: true });
}, BUILD_WAIT_MS + 120_000);

afterAll(async () => {
  await node?.down(quiet);
}, 120_000);

/** iptables chains named KUBE-* on the host (kube-proxy's and the kubelet's prefix). */
const kubeChains = () =>
  ['iptables-save', 'ip6tables-save'].flatMap((cmd) => {
    const r = spawnSync(cmd, { encoding: 'utf8' });
    if (r.error) throw new Error(`${cmd} is missing: install it with: apt-get install -y iptables`);
    return r.stdout.split('\n').filter((l) => l.includes('KUBE-'));
  });
const natRules = () => spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout.split('\n');
/** The kernel settings the kubelet wants changed (it is shown other values in its namespace), and IP forwarding. */
const sysctls = () => [...Object.keys(KUBELET_SYSCTLS), 'net/ipv4/ip_forward'].map((k) => `${k}=${fs.readFileSync(`/proc/sys/${k}`, 'utf8').trim()}`);
let chainsBefore: string[];
let sysctlsBefore: string[];

const until = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 500));
  }
};

describe('local node (containerd 2.x and a kubelet, static pods)', () => {
  it('runs a static pod whose container writes its log, reported running by the kubelet and containerd', async () => {
    const up = await node.up(quiet);
    console.log(`local node ready in ${(up.readyInMs / 1000).toFixed(1)}s (pause ${up.images.pause}, busybox ${up.images.busybox})`);
    expect(up.images.busybox).toMatch(/^sha256:[0-9a-f]{64}$/);

    node.writeStaticPod(
      'ticker',
      `apiVersion: v1
kind: Pod
metadata:
  name: ticker
  namespace: default
spec:
  hostNetwork: true
  containers:
    - name: ticker
      image: ${BUSYBOX_IMAGE}
      imagePullPolicy: Never
      command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tick $i from $(hostname)"; sleep 1; done']
`,
    );
    const started = Date.now();
    // The container's own output, as the kubelet's CRI logging stored it.
    const log = await until('the ticker container wrote no "tick 3"', 90_000, () => {
      const text = node.containerLog('default', 'ticker-test-node', 'ticker');
      return text?.includes('tick 3') ? text : undefined;
    });
    console.log(`static pod: third log line ${((Date.now() - started) / 1000).toFixed(1)}s after the manifest was written`);
    expect(log).toMatch(/stdout F tick 1 from \S+/);

    const [pod] = (await node.pods()).filter((p) => p.metadata.name === 'ticker-test-node');
    expect(pod.status.phase).toBe('Running');
    expect(pod.status.containerStatuses?.map((c) => [c.name, Object.keys(c.state)])).toEqual([['ticker', ['running']]]);

    const pods = await node.runningPods();
    const ticker = pods.find((p) => p.metadata.name === 'ticker-test-node');
    expect(ticker?.metadata.namespace).toBe('default');
    expect(ticker?.spec.containers.map((c) => c.name)).toEqual(['ticker']);

    // containerd: the sandbox (pause) and the container both run, under runc.
    const tasks = await node.ctr('tasks', 'ls');
    expect(tasks.split('\n').filter((l) => /\bRUNNING\b/.test(l)).length).toBeGreaterThanOrEqual(2);
    const containers = await node.ctr('containers', 'ls');
    expect(containers).toContain(BUSYBOX_IMAGE);
    expect(containers).toContain('io.containerd.runc.v2');
  });

  it('gives a pod an address on the node bridge that this machine reaches, and no route beyond it', async () => {
    node.writeStaticPod(
      'web',
      `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
spec:
  containers:
    - name: web
      image: ${BUSYBOX_IMAGE}
      imagePullPolicy: Never
      command: ['sh', '-c', 'mkdir -p /tmp/www && echo "hello from $(hostname)" > /tmp/www/index.html && ip route && echo routes-end && exec httpd -f -p 8080 -h /tmp/www']
`,
    );
    const pod = await until('the web pod has no pod IP', 90_000, async () => (await node.pods()).find((p) => p.metadata.name === 'web-test-node' && p.status.podIP && p.status.phase === 'Running'));
    expect(pod.status.podIP).toMatch(/^10\.245\.1\.\d+$/);
    expect(pod.status.podIP).not.toBe('10.245.1.1');
    expect(await node.bridgeState()).toEqual({ exists: true, addresses: ['10.245.1.1/24'] });

    // Traffic only to the pod this test made, over the node's bridge.
    const body = await until('the web pod did not answer', 30_000, async () => {
      try {
        const res = await fetch(`http://${pod.status.podIP}:8080/`);
        return res.ok ? await res.text() : undefined;
      } catch {
        return undefined;
      }
    });
    expect(body).toBe('hello from web-test-node\n');

    // The pod's own routing table: its subnet, no default route (nothing outside is reachable).
    const log = await until('the web pod logged no routes', 30_000, () => {
      const text = node.containerLog('default', 'web-test-node', 'web');
      return text?.includes('routes-end') ? text : undefined;
    });
    const routes = log
      .split('\n')
      .map((l) => l.replace(/^\S+ stdout F /, ''))
      .filter((l) => l && l !== 'routes-end');
    expect(routes).toEqual([expect.stringMatching(/^10\.245\.1\.0\/24 dev eth0 scope link\s+src 10\.245\.1\.\d+\s*$/)]);
    // Nothing masquerades the pod subnet.
    expect(natRules().filter((l) => l.includes('10.245.1.'))).toEqual([]);
  });

  it("changes neither the host's firewall nor its kernel settings", async () => {
    expect(kubeChains()).toEqual(chainsBefore);
    expect(sysctls()).toEqual(sysctlsBefore);
  });

  it('leaves no process, mount or cgroup behind when stopped', async () => {
    expect(node.status().shims.length).toBeGreaterThan(0);
    await node.down(quiet);
    const status = node.status();
    expect(status).toEqual({ containerd: undefined, kubelet: undefined, namespace: undefined, shims: [] });
    expect(node.hostMounts()).toEqual([]);
    expect(node.cgroupLeftovers()).toEqual([]);
    expect((await node.bridgeState()).exists).toBe(false);
  });
});
