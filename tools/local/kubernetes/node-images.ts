/**
 * The two images a node needs before any registry is reachable: the pod sandbox ("pause",
 * compiled from the Kubernetes module's own pause.c) and a busybox image from Debian's
 * busybox-static, for test pods. Each is written as an OCI image layout in a tar archive,
 * which `ctr images import` loads into containerd.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { versions } from '../../../config';
import { ToolchainError, which } from '../../go-build';
import { paths, toolBinary } from '../../paths';

const kube = versions.localKubernetes.kubernetes;

/** An image archive and the name containerd stores it under. */
export interface NodeImage {
  readonly name: string;
  readonly archive: string;
}

/** Debian's statically linked busybox (package busybox-static). */
export const BUSYBOX = '/bin/busybox';
/** Name of the sandbox image, the one the CRI plugin pins. */
export const PAUSE_IMAGE = `localhost/kafka-platform/pause:v${kube.version}`;
export const BUSYBOX_IMAGE = 'localhost/kafka-platform/busybox:local';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The pause binary, compiled once per Kubernetes version with the flags of its Makefile. */
export function ensurePause(): string {
  const target = toolBinary('pause', `v${kube.version}`);
  if (fs.existsSync(target)) return target;
  const source = path.join(paths.goModCache, `${kube.goModule}@v${kube.version}`, 'build', 'pause', 'linux', 'pause.c');
  if (!fs.existsSync(source)) throw new ToolchainError(`pause.c missing at ${source}: build the kubelet first (npm run bootstrap -- --with-node)`);
  if (!which('gcc')) throw new ToolchainError('gcc is missing: it compiles the pod sandbox (pause); install it with: apt-get install -y gcc libc6-dev');
  const partial = `${target}.partial-${process.pid}`;
  execFileSync('nice', ['-n', '19', 'gcc', '-Os', '-Wall', '-Werror', '-static', `-DVERSION=v${kube.version}`, '-o', partial, source], { stdio: 'inherit' });
  fs.renameSync(partial, target);
  return target;
}

/**
 * Writes `name` as a one-layer OCI image archive at `archive`, the layer being `rootfs`
 * (a directory) as it is. Returns the manifest digest.
 */
export function writeOciArchive(rootfs: string, name: string, config: { Entrypoint?: string[]; Cmd?: string[] }, archive: string): string {
  const work = `${archive}.d`;
  fs.rmSync(work, { recursive: true, force: true });
  const blobs = path.join(work, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer) => {
    const digest = sha256(data);
    fs.writeFileSync(path.join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  // Fixed owner and mtime: the same rootfs gives the same digest on every machine.
  const layer = execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name', '-C', rootfs, '-cf', '-', '.'], { maxBuffer: 512 << 20 });
  const layerRef = blob(layer);
  const imageConfig = blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/bin'], ...config },
        rootfs: { type: 'layers', diff_ids: [layerRef.digest] },
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...imageConfig },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerRef }],
      }),
    ),
  );
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...manifest,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
      },
    ],
  };
  fs.writeFileSync(path.join(work, 'index.json'), JSON.stringify(index));
  fs.writeFileSync(path.join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  execFileSync('tar', ['-C', work, '-cf', archive, 'oci-layout', 'index.json', 'blobs']);
  fs.rmSync(work, { recursive: true, force: true });
  return manifest.digest;
}

/** The pause and busybox image archives, written under `dir`. */
export function nodeImages(dir: string): { pause: NodeImage; busybox: NodeImage } {
  if (!fs.existsSync(BUSYBOX)) throw new ToolchainError(`${BUSYBOX} is missing: the node's test image is made from it; install it with: apt-get install -y busybox-static`);
  fs.mkdirSync(dir, { recursive: true });

  const pauseRoot = path.join(dir, 'pause-rootfs');
  fs.rmSync(pauseRoot, { recursive: true, force: true });
  fs.mkdirSync(pauseRoot);
  fs.copyFileSync(ensurePause(), path.join(pauseRoot, 'pause'));
  fs.chmodSync(path.join(pauseRoot, 'pause'), 0o755);
  const pause = { name: PAUSE_IMAGE, archive: path.join(dir, 'pause.tar') };
  writeOciArchive(pauseRoot, pause.name, { Entrypoint: ['/pause'] }, pause.archive);

  const boxRoot = path.join(dir, 'busybox-rootfs');
  fs.rmSync(boxRoot, { recursive: true, force: true });
  for (const d of ['bin', 'tmp', 'etc']) fs.mkdirSync(path.join(boxRoot, d), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(boxRoot, 'bin', 'busybox'));
  fs.chmodSync(path.join(boxRoot, 'bin', 'busybox'), 0o755);
  fs.chmodSync(path.join(boxRoot, 'tmp'), 0o1777);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
  for (const applet of applets) fs.symlinkSync('busybox', path.join(boxRoot, 'bin', applet));
  const busybox = { name: BUSYBOX_IMAGE, archive: path.join(dir, 'busybox.tar') };
  writeOciArchive(boxRoot, busybox.name, { Cmd: ['sh'] }, busybox.archive);
  fs.rmSync(pauseRoot, { recursive: true, force: true });
  fs.rmSync(boxRoot, { recursive: true, force: true });
  return { pause, busybox };
}

/** Name of the cluster DNS image made from the CoreDNS binary built here. */
export const COREDNS_IMAGE = `localhost/kafka-platform/coredns:${versions.localKubernetes.coredns.version}`;

/** The CoreDNS image archive: its static binary alone, as the upstream image is (no shell). */
export function corednsImage(dir: string, binary: string): NodeImage {
  const root = path.join(dir, 'coredns-rootfs');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  fs.copyFileSync(binary, path.join(root, 'coredns'));
  fs.chmodSync(path.join(root, 'coredns'), 0o755);
  const image = { name: COREDNS_IMAGE, archive: path.join(dir, 'coredns.tar') };
  writeOciArchive(root, image.name, { Entrypoint: ['/coredns'] }, image.archive);
  fs.rmSync(root, { recursive: true, force: true });
  return image;
}
