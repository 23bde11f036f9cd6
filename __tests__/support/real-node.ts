import { spawn } from 'child_process';
import * as path from 'path';
import { KubeApi, KubeObject, resourcePath } from '../../tools/local/kubernetes';
import { pathOf } from '../../tools/local/kubernetes/node-cluster';
import { BUSYBOX_IMAGE } from '../../tools/local/kubernetes/node-images';
import { LocalKubernetes, localKubernetesLayout } from '../../tools/local/kubernetes';
import { CACHE_DIR } from '../../tools/paths';
import { shiftedKubernetesConfig, shiftedNodeConfig } from './deploy';

export { shiftedNodeConfig };

/**
 * The real-node tests' own Kubernetes: a control plane 300 ports above the project's, one
 * simulated node, and a real node on its own bridge and pod range (one joined node per machine:
 * the suites run one after the other).
 */
export const joinNodeConfig = shiftedNodeConfig(300, { name: 'join-node', bridge: 'kp-join0', podSubnet: '10.245.3.0/24' });
/** The node's (and its bridge's) address. */
export const JOIN_NODE_IP = '10.245.3.1';

export const joinTestKubernetes = new LocalKubernetes(
  localKubernetesLayout({ ...shiftedKubernetesConfig(300), nodeLayout: 'single-node', realNode: joinNodeConfig }, path.join(CACHE_DIR, 'join-test', 'kubernetes')),
);

/**
 * The enforcer's own record of what it refused: kube-router sends every packet its pod firewall
 * rejects to NFLOG group 100 before the REJECT (pod.go). tcpdump reads that log on this host
 * while `action` runs; each line is one refused packet (rate-limited by kube-router to 10 a minute).
 */
export async function enforcerDrops<T>(action: () => Promise<T>): Promise<{ result: T; drops: string[] }> {
  const tcpdump = spawn('tcpdump', ['-i', 'nflog:100', '-n', '-l', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  tcpdump.stdout.on('data', (d: Buffer) => (out += d.toString()));
  tcpdump.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!err.includes('listening on')) {
    if (Date.now() > deadline) throw new Error(`tcpdump did not start listening on nflog:100: ${err.trim()} (tcpdump comes with the bootstrap: apt-get install -y tcpdump)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    const result = await action();
    await new Promise((r) => setTimeout(r, 500));
    return { result, drops: out.split('\n').filter((l) => l.includes(' > ')) };
  } finally {
    tcpdump.kill('SIGTERM');
  }
}


/** A busybox pod for the real node that restricted PodSecurity admits: uid 65532, no capabilities, no token. */
export function busyboxPod(namespace: string, name: string, labels: Record<string, string>, command: string[], restartPolicy: 'Always' | 'Never' = 'Always'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      restartPolicy,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'main',
          image: BUSYBOX_IMAGE,
          imagePullPolicy: 'Never',
          command,
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

/** Runs `script` in a one-shot busybox pod (replacing one of that name); its phase and its log, fetched through the API server from the kubelet. */
export async function runPodOnce(api: KubeApi, namespace: string, name: string, labels: Record<string, string>, script: string): Promise<{ phase: string; log: string }> {
  const at = resourcePath('', 'v1', 'pods', name, namespace);
  await api.delete(at).catch(() => undefined);
  await api.waitFor(`old pod ${name} gone`, async () => ((await api.find(at)) ? undefined : true), 60_000);
  const pod = busyboxPod(namespace, name, labels, ['sh', '-c', script], 'Never');
  await api.apply(pathOf(pod), pod);
  const phase = await api.waitFor(
    `pod ${name} finished`,
    async () => {
      const p = (await api.get(at)).status?.phase as string | undefined;
      return p === 'Succeeded' || p === 'Failed' ? p : undefined;
    },
    120_000,
  );
  const log = await api.request<string>('GET', `${at}/log`);
  return { phase, log: typeof log === 'string' ? log : JSON.stringify(log) };
}
