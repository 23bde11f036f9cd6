/**
 * The binaries of a real node (kubelet, containerd, its runc shim and `ctr`), built from the
 * Go module proxy into the per-machine cache, keyed by version like the control plane's, and
 * runc, built the same way (with cgo, against Debian's libseccomp). The CNI plugins come from
 * Debian (tools/system-packages.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { versions } from '../../../config';
import { goBinaries, goEnv, GoSource } from '../../go-build';
import { runLogged } from '../../progress';
import { paths, toolBinary } from '../../paths';
import { kubernetesLdflags, kubernetesSource } from './build';
import { ensurePause } from './node-images';

const pins = versions.localKubernetes;

/**
 * The CoreDNS plugins the node's Corefile uses (node-objects.ts COREFILE), in CoreDNS's own order:
 * the build compiles these alone. The full plugin set brings the AWS, Azure and Google SDKs of
 * route53, azure and clouddns, which the local cluster never runs, and was the longest single
 * build of a fresh machine.
 */
export const CLUSTER_DNS_PLUGINS = ['reload', 'ready', 'health', 'errors', 'cache', 'kubernetes', 'loop'] as const;
/** Part of the binary's cache key: a different plugin set is a different build. */
const CLUSTER_DNS_BUILD = `plugins-${CLUSTER_DNS_PLUGINS.length}`;

/**
 * Keeps only CLUSTER_DNS_PLUGINS in the module's plugin.cfg and regenerates the plugin imports
 * and directive order from it, with CoreDNS's own generator (what its docs prescribe for a
 * build with fewer plugins).
 */
async function keepClusterDnsPlugins(dir: string, go: string): Promise<void> {
  const cfg = path.join(dir, 'plugin.cfg');
  // `name:package` lines; comments and blank lines stay as they are.
  const pluginOf = (line: string) => /^([a-z0-9_]+):/.exec(line)?.[1];
  const kept = fs.readFileSync(cfg, 'utf8').split('\n').filter((l) => {
    const name = pluginOf(l);
    return name === undefined || (CLUSTER_DNS_PLUGINS as readonly string[]).includes(name);
  });
  const names = kept.map(pluginOf).filter((n) => n !== undefined);
  const missing = CLUSTER_DNS_PLUGINS.filter((p) => !names.includes(p));
  if (missing.length > 0) throw new Error(`CoreDNS ${pins.coredns.version} has no plugin ${missing.join(', ')} in its plugin.cfg: update CLUSTER_DNS_PLUGINS (tools/local/kubernetes/node-build.ts) to the Corefile's plugins`);
  fs.writeFileSync(cfg, kept.join('\n'));
  await runLogged(go, ['run', 'directives_generate.go'], { cwd: dir, env: { ...goEnv(), GOFLAGS: '-mod=mod' }, logFile: path.join(paths.logs, 'coredns-generate.log'), activity: 'generating the CoreDNS plugin list' });
}

/** Paths of the node's binaries. */
export interface NodeBinaries {
  readonly kubelet: string;
  readonly containerd: string;
  readonly containerdShim: string;
  readonly ctr: string;
  readonly runc: string;
  /** The pod sandbox's binary, compiled from the Kubernetes module's pause.c. */
  readonly pause: string;
  /** Services on the node: iptables mode. */
  readonly kubeProxy: string;
  /** The cluster DNS server, run as a pod from an image of this binary. */
  readonly coredns: string;
  /** The NetworkPolicy enforcer (its firewall controller). */
  readonly kubeRouter: string;
}

/** Where each binary lives once built (whether or not it is there yet). */
export function nodeBinaryPaths(): NodeBinaries {
  const c = pins.containerd.version;
  return {
    kubelet: toolBinary('kubelet', `v${pins.kubernetes.version}`),
    containerd: toolBinary('containerd', c),
    containerdShim: toolBinary('containerd-shim-runc-v2', c),
    ctr: toolBinary('ctr', c),
    runc: toolBinary('runc', pins.runc.version),
    pause: toolBinary('pause', `v${pins.kubernetes.version}`),
    kubeProxy: toolBinary('kube-proxy', `v${pins.kubernetes.version}`),
    coredns: toolBinary('coredns', `${pins.coredns.version}-${CLUSTER_DNS_BUILD}`),
    kubeRouter: toolBinary('kube-router', pins.kubeRouter.version),
  };
}

/** Builds whatever is missing: containerd's three binaries first (minutes), then the kubelet, kube-proxy, pause, CoreDNS and kube-router. */
export async function ensureNodeBinaries(): Promise<NodeBinaries> {
  const modMode = { GOFLAGS: '-mod=mod -modcacherw' };
  const c = pins.containerd;
  const containerdSource: GoSource = { module: c.goModule, version: c.version, label: 'containerd' };
  // As containerd's Makefile stamps its releases; no_btrfs because btrfs needs cgo headers.
  const stamp = [`-X ${c.goModule}/version.Version=${c.version}`, `-X ${c.goModule}/version.Package=${c.goModule}`].join(' ');
  const containerd = (name: string) => ({ name, version: c.version, package: `./cmd/${name}`, tags: 'no_btrfs', ldflags: stamp });
  await goBinaries(containerdSource, [containerd('containerd-shim-runc-v2'), containerd('ctr'), containerd('containerd')]);

  const r = pins.runc;
  // runc's Makefile tags without libpathrs (a Rust library Debian bookworm lacks); its nsenter is C, so cgo.
  await goBinaries({ module: r.goModule, version: r.version, label: 'runc' }, [
    { name: 'runc', version: r.version, package: '.', tags: 'seccomp,urfave_cli_no_docs', env: { CGO_ENABLED: '1' } },
  ]);

  const kubeVersion = `v${pins.kubernetes.version}`;
  await goBinaries(kubernetesSource(), [
    { name: 'kubelet', version: kubeVersion, package: './cmd/kubelet', tags: 'selinux,notest,grpcnotrace', ldflags: kubernetesLdflags(), env: modMode },
    { name: 'kube-proxy', version: kubeVersion, package: './cmd/kube-proxy', tags: 'selinux,notest,grpcnotrace', ldflags: kubernetesLdflags(), env: modMode },
  ]);
  await buildClusterDns();
  const kr = pins.kubeRouter;
  await goBinaries({ module: kr.goModule, version: kr.version, label: 'kube-router' }, [
    { name: 'kube-router', version: kr.version, package: './cmd/kube-router', env: { CGO_ENABLED: '0' }, ldflags: `-X ${kr.goModule}/pkg/version.Version=${kr.version}` },
  ]);
  // pause.c comes with the module the kubelet was built from (in the Go module cache by now).
  ensurePause();
  return nodeBinaryPaths();
}

/** CoreDNS with the Corefile's plugins only (CLUSTER_DNS_PLUGINS); returns the binary. */
export async function buildClusterDns(): Promise<string> {
  const dns = pins.coredns;
  // Static (no cgo): the binary is the whole of its image.
  const built = await goBinaries({ module: dns.goModule, version: dns.version, label: 'coredns', prepare: keepClusterDnsPlugins }, [
    { name: 'coredns', version: `${dns.version}-${CLUSTER_DNS_BUILD}`, package: '.', env: { CGO_ENABLED: '0' }, ldflags: `-X github.com/coredns/coredns/coremain.GitCommit=${dns.version}` },
  ]);
  return built.coredns;
}

if (require.main === module) {
  ensureNodeBinaries().then(
    (bins) => console.log(Object.values(bins).join('\n')),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
