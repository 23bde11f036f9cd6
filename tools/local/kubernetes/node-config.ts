import * as path from 'path';
import { LocalNodeConfig } from '../../../config';
import { HOST } from '../process';
import { PAUSE_IMAGE } from './node-images';

/**
 * Where a real node (containerd and a kubelet) keeps everything, and its config files,
 * rendered from config/environments.ts `localNode`: every path below the node's folder, every
 * port on 127.0.0.1, nothing written to the host's /var/lib, /etc or /run/containerd.
 */

export interface NodeLayout {
  readonly config: LocalNodeConfig;
  readonly dir: string;
  /** Links by plain name (containerd-shim-runc-v2, runc) that containerd finds on its PATH. */
  readonly binDir: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly containerdConfig: string;
  readonly runcRoot: string;
  readonly cniConfDir: string;
  /** host-local's address reservations (cleared on every start: no pod outlives the node). */
  readonly ipamDir: string;
  readonly kubeletRoot: string;
  readonly kubeletConfig: string;
  /** Static pod manifests the kubelet runs without an API server. */
  readonly staticPodDir: string;
  readonly podLogsDir: string;
  /** Mounted over /var/log and /run/containerd inside the node's mount namespace. */
  readonly varLogDir: string;
  readonly shimSocketDir: string;
  /** Files holding the kernel settings the kubelet expects, shown to it in place of the host's. */
  readonly sysctlDir: string;
  readonly imagesDir: string;
  /** containerd's registry hosts folder (`<host:port>/hosts.toml`). */
  readonly registryHostsDir: string;
  /** cgroup (v1, cgroupfs driver) below which the kubelet puts `kubepods`. */
  readonly cgroupRoot: string;
  readonly logs: { readonly containerd: string; readonly kubelet: string };
  readonly pids: { readonly namespace: string; readonly containerd: string; readonly kubelet: string };
}

export function nodeLayout(config: LocalNodeConfig, dir: string): NodeLayout {
  return {
    config,
    dir,
    binDir: path.join(dir, 'bin'),
    containerdRoot: path.join(dir, 'containerd', 'root'),
    containerdState: path.join(dir, 'containerd', 'state'),
    containerdSocket: path.join(dir, 'containerd', 'containerd.sock'),
    containerdConfig: path.join(dir, 'config', 'containerd.toml'),
    runcRoot: path.join(dir, 'containerd', 'runc'),
    cniConfDir: path.join(dir, 'config', 'cni'),
    ipamDir: path.join(dir, 'cni-ipam'),
    kubeletRoot: path.join(dir, 'kubelet'),
    kubeletConfig: path.join(dir, 'config', 'kubelet.yaml'),
    staticPodDir: path.join(dir, 'manifests'),
    podLogsDir: path.join(dir, 'pod-logs'),
    varLogDir: path.join(dir, 'var-log'),
    shimSocketDir: path.join(dir, 'containerd', 'shim-sockets'),
    sysctlDir: path.join(dir, 'sysctl'),
    imagesDir: path.join(dir, 'images'),
    registryHostsDir: path.join(dir, 'config', 'registry-hosts'),
    // One per node folder name, so two nodes (or a test's) never share one.
    cgroupRoot: `/kafka-platform-${path.basename(dir)}`,
    logs: { containerd: path.join(dir, 'logs', 'containerd.log'), kubelet: path.join(dir, 'logs', 'kubelet.log') },
    pids: { namespace: path.join(dir, 'run', 'namespace.pid'), containerd: path.join(dir, 'run', 'containerd.pid'), kubelet: path.join(dir, 'run', 'kubelet.pid') },
  };
}

const q = (s: string) => `'${s}'`;

/**
 * containerd 2.x (config version 3, the documented one; 2.4 migrates it in memory with a
 * warning: this same file as version 4 left it serving on /run/containerd/containerd.sock):
 * own paths, runc with cgroupfs, the local pause image pinned.
 */
export function renderContainerdConfig(layout: NodeLayout, runc: string): string {
  return `version = 3
root = ${q(layout.containerdRoot)}
state = ${q(layout.containerdState)}
# NRI would open a socket under /var/run/nri; tracing has no collector here.
disabled_plugins = ['io.containerd.nri.v1.nri']

[grpc]
  address = ${q(layout.containerdSocket)}

[ttrpc]
  address = ${q(`${layout.containerdSocket}.ttrpc`)}

[debug]
  address = ''

[metrics]
  address = ''

[plugins.'io.containerd.internal.v1.opt']
  path = ${q(path.join(layout.dir, 'containerd', 'opt'))}

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'

  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ${q(PAUSE_IMAGE)}

  # One folder per registry host (hosts.toml): the project's local registry speaks plain HTTP.
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = ${q(layout.registryHostsDir)}

[plugins.'io.containerd.cri.v1.runtime']
  # The host's oom_score_adj cannot go below 0 (no CAP_SYS_RESOURCE): runc fails otherwise.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false

  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'

    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'

      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = ${q(runc)}
        Root = ${q(layout.runcRoot)}
        SystemdCgroup = false

  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['/usr/lib/cni']
    conf_dir = ${q(layout.cniConfDir)}

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = ${q(HOST)}
  stream_server_port = ${q(String(layout.config.containerdStreamPort))}
`;
}

/** What a kubelet needs to join a control plane (tools/local/kubernetes/node-cluster.ts). */
export interface NodeRegistration {
  /** A `system:node:<name>` client of the API server. */
  readonly kubeconfig: string;
  /** The node's address: the bridge's, the one non-loopback address only this machine has. */
  readonly nodeIp: string;
  /** The kubelet's serving certificate (SAN: `nodeIp`) and key, signed by the cluster CA. */
  readonly servingCert: string;
  readonly servingKey: string;
  /** CA of the clients the kubelet accepts (the API server's kubelet client). */
  readonly clientCaFile: string;
  /** The cluster DNS Service's address. */
  readonly clusterDns: string;
  /** Labels the node registers with. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The kubelet on cgroup v1 with the cgroupfs driver, no kernel settings changed on the host.
 * Standalone (no `registration`): static pods only, every port on 127.0.0.1, anonymous
 * requests allowed. Registered: its API port on the node address, where pods can reach it
 * too, so only clients with a certificate of the cluster CA get in, each request authorized
 * by the API server.
 */
export function renderKubeletConfig(layout: NodeLayout, registration?: NodeRegistration): string {
  const c = layout.config;
  const access = registration
    ? `authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: ${registration.clientCaFile}
authorization:
  mode: Webhook
tlsCertFile: ${registration.servingCert}
tlsPrivateKeyFile: ${registration.servingKey}
clusterDNS:
- ${registration.clusterDns}
clusterDomain: cluster.local
# Pods' /etc/resolv.conf gets only the cluster DNS: no search domain or server of the host's.
resolvConf: ""`
    : `authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow`;
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${registration ? registration.nodeIp : HOST}
port: ${c.kubeletPort}
readOnlyPort: ${c.kubeletReadOnlyPort}
healthzBindAddress: ${HOST}
healthzPort: ${c.kubeletHealthzPort}
containerRuntimeEndpoint: unix://${layout.containerdSocket}
staticPodPath: ${layout.staticPodDir}
fileCheckFrequency: 2s
podLogsDir: ${layout.podLogsDir}
# The host has cgroup v1 only; 1.35+ refuses it unless told otherwise.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: ${layout.cgroupRoot}
# Fail rather than change the shared host's vm.overcommit_memory and kernel.panic*: the node's
# mount namespace shows the kubelet the values it wants (tools/local/kubernetes/node.ts).
protectKernelDefaults: true
failSwapOn: false
# Its KUBE-FIREWALL and canary chains serve kube-proxy, which makes its own: the host's
# firewall stays as it is.
makeIPTablesUtilChains: false
${access}
# The shared disk is well used: absolute thresholds, and no image garbage collection of the
# images imported here (no registry could bring them back).
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1Gi
  imagefs.available: 1Gi
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`;
}

/** Kernel settings the kubelet checks (pkg/kubelet/cm setupKernelTunables) and the values it wants. */
export const KUBELET_SYSCTLS: Readonly<Record<string, string>> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

/** The first address of an IPv4 CIDR's network (the bridge's) and the prefix length. */
export function bridgeAddress(cidr: string): { address: string; prefix: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) throw new Error(`localNode.podSubnet ${JSON.stringify(cidr)} is not an IPv4 CIDR such as 10.245.0.0/24: fix it in config/environments.ts`);
  const prefix = Number(m[5]);
  const ip = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
  const network = prefix === 0 ? 0 : ip - (ip % 2 ** (32 - prefix));
  const first = network + 1;
  return { address: [24, 16, 8, 0].map((s) => Math.floor(first / 2 ** s) % 256).join('.'), prefix };
}

/**
 * The pod network: Debian's bridge and host-local plugins on the node's own bridge. No
 * `isGateway` (the bridge plugin would switch on the host's IP forwarding), no `ipMasq`, and
 * routes only to the pod subnet itself and, on a registered node, to `routed` (the Service range,
 * the simulated nodes' pod range) through the bridge's address (where kube-proxy's rules turn a
 * Service address into a pod's): a pod can reach this machine, other pods and Services, nothing else.
 */
export function renderCniConfig(layout: NodeLayout, routed: readonly string[] = []): string {
  const c = layout.config;
  const gateway = bridgeAddress(c.podSubnet).address;
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'kafka-platform-node',
      plugins: [
        {
          type: 'bridge',
          bridge: c.bridge,
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: c.podSubnet, gateway }]],
            ...(routed.length > 0 ? { routes: routed.map((dst) => ({ dst, gw: gateway })) } : {}),
            dataDir: layout.ipamDir,
          },
        },
      ],
    },
    null,
    2,
  );
}

/**
 * containerd's hosts.toml for a registry on this machine (`127.0.0.1:<port>`): plain HTTP,
 * pull and resolve only. The kubelet pulls the platform's images from it by digest.
 */
export function renderRegistryHosts(host: string): string {
  return `server = "http://${host}"

[host."http://${host}"]
  capabilities = ["pull", "resolve"]
`;
}
