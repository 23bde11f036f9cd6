/**
 * The local Kubernetes binaries (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, kwok, and kubectl for the stacks' CRD installer) built from the Go module
 * proxy into the per-machine cache, keyed by version. A cold build takes up to an hour on two
 * busy cores (docs/local-kubernetes.md); afterwards it is a lookup.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { versions } from '../../../config';
import { goBinaries, GoSource } from '../../go-build';
import { paths, toolBinary } from '../../paths';

const pins = versions.localKubernetes;

/** Paths of the binaries `npm run k8s:up` starts. */
export interface KubernetesBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kwok: string;
  readonly kubectl: string;
}

/** Where each binary lives once built (whether or not it is there yet). */
export function kubernetesBinaryPaths(): KubernetesBinaries {
  const k = `v${pins.kubernetes.version}`;
  return {
    etcd: toolBinary('etcd', pins.etcd.version),
    kubeApiserver: toolBinary('kube-apiserver', k),
    kubeControllerManager: toolBinary('kube-controller-manager', k),
    kubeScheduler: toolBinary('kube-scheduler', k),
    kwok: toolBinary('kwok', pins.kwok.version),
    kubectl: toolBinary('kubectl', k),
  };
}

/**
 * Turns `replace X => ./local/dir` lines into requirements of the published module at
 * `version`: the module zip carries no nested modules, so local replaces cannot resolve.
 */
export function dropLocalReplaces(dir: string, go: string, modulePrefix: string, version: string): void {
  const goMod = fs.readFileSync(path.join(dir, 'go.mod'), 'utf8');
  const edits: string[] = [];
  for (const m of goMod.matchAll(/^\s*(\S+)\s*=>\s*\.\.?\/\S+\s*$/gm)) {
    const mod = m[1];
    if (!mod.startsWith(modulePrefix)) continue;
    edits.push(`-dropreplace=${mod}`);
    // Required at a placeholder version (v0.0.0) or at the release itself: pin the release.
    if (new RegExp(`^\\s*${mod.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+v`, 'm').test(goMod)) edits.push(`-require=${mod}@${version}`);
  }
  if (edits.length === 0) throw new Error(`no local replace directives for ${modulePrefix} in ${dir}/go.mod: the build recipe needs review`);
  execFileSync(go, ['mod', 'edit', ...edits], { cwd: dir });
  fs.rmSync(path.join(dir, 'go.work'), { force: true });
  fs.rmSync(path.join(dir, 'go.work.sum'), { force: true });
}

/** Version strings compiled in, so clients and Helm's kubeVersion checks see the release. */
export function kubernetesLdflags(v: string = pins.kubernetes.version): string {
  const [major, minor] = v.split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
    .flatMap((pkg) => [`-X ${pkg}.gitVersion=v${v}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`])
    .join(' ');
}

/** Builds whatever is missing, smallest first, one at a time (kube-apiserver peaks at 2.5 GiB). */
export async function ensureKubernetesBinaries(): Promise<KubernetesBinaries> {
  const modMode = { GOFLAGS: '-mod=mod -modcacherw' };
  const etcdSource: GoSource = {
    module: pins.etcd.goModule,
    version: pins.etcd.version,
    label: 'etcd',
    prepare: (dir, go) => dropLocalReplaces(dir, go, 'go.etcd.io/etcd/', pins.etcd.version),
  };
  await goBinaries(etcdSource, [{ name: 'etcd', version: pins.etcd.version, package: '.', env: modMode }]);

  const kubeVersion = `v${pins.kubernetes.version}`;
  const kubeSource = kubernetesSource();
  const kube = (name: string) => ({
    name,
    version: kubeVersion,
    package: `./cmd/${name}`,
    tags: 'selinux,notest,grpcnotrace',
    ldflags: kubernetesLdflags(),
    env: modMode,
  });
  await goBinaries(kubeSource, [kube('kube-scheduler'), kube('kube-controller-manager'), kube('kube-apiserver'), kube('kubectl')]);

  const kwokSource: GoSource = { module: pins.kwok.goModule, version: pins.kwok.version, label: 'kwok' };
  await goBinaries(kwokSource, [{ name: 'kwok', version: pins.kwok.version, package: './cmd/kwok' }]);
  return kubernetesBinaryPaths();
}

/** A directory of kwok's own stage definitions in its module (Go module cache). */
function kwokStageDir(sub: string): string {
  const dir = path.join(paths.goModCache, `${pins.kwok.goModule}@${pins.kwok.version}`, 'kustomize', 'stage', sub);
  if (!fs.existsSync(dir)) throw new Error(`kwok stages missing at ${dir}: run \`npm run bootstrap -- --with-kubernetes\``);
  return dir;
}

/**
 * kwok's "fast" stages, read from its module: nodes turn Ready, pods Running and Ready (Job
 * pods complete), and claims of the `kwok-volume` class are bound to simulated volumes.
 */
export function kwokStageFiles(): string[] {
  return ['node/fast', 'pod/fast', 'volume/fast'].flatMap((sub) => {
    const dir = kwokStageDir(sub);
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') && !['kustomization.yaml', 'storage-class.yaml'].includes(f))
      .map((f) => path.join(dir, f));
  });
}

/** kwok's default StorageClass (`kwok-volume`), whose claims its volume stages bind. */
export function kwokStorageClassFile(): string {
  return path.join(kwokStageDir('volume/fast'), 'storage-class.yaml');
}

/** The Kubernetes module at the pinned release, its local replaces dropped (the control plane's and the node's builds share it). */
export function kubernetesSource(): GoSource {
  return {
    module: pins.kubernetes.goModule,
    version: `v${pins.kubernetes.version}`,
    label: 'kubernetes',
    prepare: (dir, go) => dropLocalReplaces(dir, go, 'k8s.io/', pins.kubernetes.stagingVersion),
  };
}
