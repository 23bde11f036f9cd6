import * as fs from 'fs';
import * as path from 'path';
import { HOST } from '../process';
import { KubernetesBinaries, kwokStageFiles } from './build';
import { apiServerUrl, ComponentName, LocalKubernetesLayout } from './layout';
import { CLIENTS, pkiFile } from './pki';

/** The command lines of the control plane, rendered from the layout; nothing here starts anything. */

/** Service addresses; pods get theirs from kwok's `--cidr`. */
export const SERVICE_CIDR = '10.96.0.0/16';
export const POD_CIDR = '10.244.0.0/16';
/** The annotation kwok manages nodes by. */
export const KWOK_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

/** kubeconfig of one client in the config folder. */
export const clientKubeconfig = (layout: LocalKubernetesLayout, file: string) => path.join(layout.configDir, `${file}.kubeconfig`);

/** kwok's config: only its stage definitions (a settings block would replace all its defaults). */
export function kwokConfigFile(layout: LocalKubernetesLayout): string {
  return path.join(layout.configDir, 'kwok.yaml');
}

export function renderKwokConfig(): string {
  return kwokStageFiles()
    .map((file) => `# from ${path.basename(path.dirname(path.dirname(file)))}/${path.basename(path.dirname(file))}/${path.basename(file)}\n${fs.readFileSync(file, 'utf8').trim()}\n`)
    .join('---\n');
}

/** The API server's admission configuration (with a real node only). */
export const admissionConfigFile = (layout: LocalKubernetesLayout) => path.join(layout.configDir, 'admission.yaml');

/** The cluster default of PodNodeSelector: the simulated nodes, where upstream images need no pull. */
export const SIMULATED_NODE_SELECTOR = 'type=kwok';

export function renderAdmissionConfig(): string {
  return `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodNodeSelector
  configuration:
    podNodeSelectorPluginConfig:
      clusterDefaultNodeSelector: ${SIMULATED_NODE_SELECTOR}
`;
}

/** The binary and arguments of every component. */
export function componentCommands(layout: LocalKubernetesLayout, bin: KubernetesBinaries): Record<ComponentName, readonly string[]> {
  const c = layout.config;
  const pki = (name: string, ext: 'crt' | 'key' | 'pub') => pkiFile(layout, name, ext);
  const etcdUrl = `http://${HOST}:${c.etcdClientPort}`;
  const peerUrl = `http://${HOST}:${c.etcdPeerPort}`;
  const cm = clientKubeconfig(layout, CLIENTS.controllerManager.file);
  const scheduler = clientKubeconfig(layout, CLIENTS.scheduler.file);
  return {
    etcd: [
      bin.etcd,
      '--name=local',
      `--data-dir=${layout.etcdDataDir}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=local=${peerUrl}`,
      '--initial-cluster-state=new',
      '--log-level=warn',
    ],
    'kube-apiserver': [
      bin.kubeApiserver,
      `--bind-address=${HOST}`,
      `--advertise-address=${HOST}`,
      `--secure-port=${c.apiServerPort}`,
      `--etcd-servers=${etcdUrl}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--client-ca-file=${pki('ca', 'crt')}`,
      `--tls-cert-file=${pki('kube-apiserver', 'crt')}`,
      `--tls-private-key-file=${pki('kube-apiserver', 'key')}`,
      `--kubelet-client-certificate=${pki('kube-apiserver-kubelet-client', 'crt')}`,
      `--kubelet-client-key=${pki('kube-apiserver-kubelet-client', 'key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki('service-account', 'pub')}`,
      `--service-account-signing-key-file=${pki('service-account', 'key')}`,
      `--requestheader-client-ca-file=${pki('front-proxy-ca', 'crt')}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki('front-proxy-client', 'crt')}`,
      `--proxy-client-key-file=${pki('front-proxy-client', 'key')}`,
      '--authorization-mode=Node,RBAC',
      // As kubeadm and managed clusters do: privileged pods are for PodSecurity to judge per namespace.
      '--allow-privileged=true',
      // Added to the defaults, which include PodSecurity. With a real node, PodNodeSelector
      // keeps pods on the simulated nodes unless their namespace says otherwise.
      ...(c.realNode
        ? [
            '--enable-admission-plugins=NodeRestriction,PodNodeSelector',
            `--admission-control-config-file=${admissionConfigFile(layout)}`,
            // The node's name resolves nowhere: logs and exec go to its address.
            '--kubelet-preferred-address-types=InternalIP',
          ]
        : ['--enable-admission-plugins=NodeRestriction']),
      // The apiserver refuses to advertise a loopback address as the `kubernetes` Service's endpoint.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ],
    'kube-controller-manager': [
      bin.kubeControllerManager,
      `--bind-address=${HOST}`,
      `--secure-port=${c.controllerManagerPort}`,
      `--cert-dir=${path.join(layout.certDir, 'kube-controller-manager')}`,
      `--kubeconfig=${cm}`,
      `--authentication-kubeconfig=${cm}`,
      `--authorization-kubeconfig=${cm}`,
      '--use-service-account-credentials',
      `--root-ca-file=${pki('ca', 'crt')}`,
      `--service-account-private-key-file=${pki('service-account', 'key')}`,
      `--cluster-signing-cert-file=${pki('ca', 'crt')}`,
      `--cluster-signing-key-file=${pki('ca', 'key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--leader-elect=false',
      '--profiling=false',
    ],
    'kube-scheduler': [
      bin.kubeScheduler,
      `--bind-address=${HOST}`,
      `--secure-port=${c.schedulerPort}`,
      `--cert-dir=${path.join(layout.certDir, 'kube-scheduler')}`,
      `--kubeconfig=${scheduler}`,
      `--authentication-kubeconfig=${scheduler}`,
      `--authorization-kubeconfig=${scheduler}`,
      '--leader-elect=false',
      '--profiling=false',
    ],
    kwok: [
      bin.kwok,
      `--kubeconfig=${clientKubeconfig(layout, CLIENTS.kwok.file)}`,
      `--config=${kwokConfigFile(layout)}`,
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
      `--cidr=${POD_CIDR}`,
      `--node-ip=${HOST}`,
      // Without node leases the nodes flap NotReady and their pods stay unready.
      '--node-lease-duration-seconds=40',
      `--server-address=${HOST}:${c.kwokPort}`,
    ],
  };
}

/** Where each component answers "healthy": path on its port, and whether it speaks HTTPS. */
export const HEALTH: Readonly<Record<ComponentName, { readonly path: string; readonly https: boolean }>> = {
  etcd: { path: '/health', https: false },
  'kube-apiserver': { path: '/readyz', https: true },
  'kube-controller-manager': { path: '/healthz', https: true },
  'kube-scheduler': { path: '/healthz', https: true },
  kwok: { path: '/healthz', https: false },
};

/** The API server URL, for messages. */
export { apiServerUrl };
