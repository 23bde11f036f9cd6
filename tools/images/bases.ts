/**
 * Base images made on this machine, for where no container registry is reachable: Debian
 * from debootstrap, then from it (docker/bases/) a build base with the pinned Node.js and npm,
 * and a distroless-like runtime base. Cached: the Debian image is made once per machine and
 * suite, the two bases are rebuilt from podman's layer cache (seconds) unless `refresh`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { versions } from '../../config';
import { which } from '../go-build';
import { paths, PROJECT_ROOT } from '../paths';
import { runLogged, step } from '../progress';
import { BASES_DIR, imagePaths } from './layout';
import { imageDigest, imageExists, podman, podmanLogged } from './podman';

/** The two bases a service image build takes, each by digest. */
export interface BaseImages {
  /** Build stages: Node.js and npm on Debian. */
  readonly build: string;
  /** Runtime stage: Node.js, its libraries, CA certificates, a nonroot user. */
  readonly runtime: string;
}

export interface LocalBaseOptions {
  /** Make Debian again and rebuild both bases without the layer cache (to take in security updates). */
  readonly refresh?: boolean;
}

/** Debian archive and security archive; KAFKA_PLATFORM_DEBIAN_MIRROR / _SECURITY_MIRROR override them. */
const debianMirror = () => process.env.KAFKA_PLATFORM_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const debianSecurityMirror = () => process.env.KAFKA_PLATFORM_DEBIAN_SECURITY_MIRROR ?? 'http://deb.debian.org/debian-security';

const suite = versions.imageTools.debianSuite;
export const LOCAL_BASE_TAGS = {
  debian: `localhost/kafka-platform/debian:${suite}`,
  build: `localhost/kafka-platform/node-build:${versions.node.version}-${suite}`,
  runtime: `localhost/kafka-platform/node-runtime:${versions.node.version}-${suite}`,
} as const;

/** Debian `suite` (minbase) imported into local storage, made with debootstrap once per machine. */
async function debianImage(refresh: boolean): Promise<string> {
  const tag = LOCAL_BASE_TAGS.debian;
  if (!refresh && imageExists(tag)) {
    console.log(`    ${tag}: present`);
    return `${tag.split(':')[0]}@${imageDigest(tag)}`;
  }
  if (!which('debootstrap')) throw new Error('debootstrap is missing: `npm run bootstrap` installs it (tools/system-packages.ts), or: sudo apt-get install debootstrap');
  if (process.getuid?.() !== 0) throw new Error('debootstrap needs root to make the Debian base image: run `npm run images` as root once (the image is cached per machine)');
  const done = step(`making Debian ${suite} (minbase) with debootstrap from ${debianMirror()}`);
  const work = path.join(imagePaths.containers, `debootstrap-${process.pid}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const rootfs = path.join(work, 'rootfs');
    await runLogged('nice', ['-n', '19', 'debootstrap', '--variant=minbase', suite, rootfs, debianMirror()], {
      logFile: path.join(paths.logs, 'debootstrap.log'),
      activity: `debootstrap ${suite}`,
    });
    const tarball = path.join(work, 'rootfs.tar');
    execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', tarball, '.']);
    podman(['import', '--message', `debootstrap --variant=minbase ${suite} ${debianMirror()}`, tarball, tag]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  done();
  return `${tag.split(':')[0]}@${imageDigest(tag)}`;
}

function copyIfChanged(from: string, to: string): void {
  const a = fs.statSync(from);
  const b = fs.existsSync(to) ? fs.statSync(to) : undefined;
  if (b && b.size === a.size && b.mtimeMs === a.mtimeMs) return;
  fs.copyFileSync(from, to);
  fs.utimesSync(to, a.atime, a.mtime);
}

/** The npm release the pinned Node.js bundles, as its registry tarball (cached per machine). */
function npmTarball(): string {
  const file = path.join(imagePaths.downloads, `npm-${versions.node.npm}.tgz`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(imagePaths.downloads, { recursive: true });
  execFileSync('npm', ['pack', '--silent', '--loglevel=error', '--pack-destination', imagePaths.downloads, `npm@${versions.node.npm}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  return file;
}

/** The build context of both bases: Node.js, its licence, npm, this machine's CA bundle, the assembly script. */
function baseContext(): string {
  const ctx = imagePaths.baseContext;
  fs.mkdirSync(ctx, { recursive: true });
  const nodeBin = execFileSync('bash', [path.join(PROJECT_ROOT, 'tools', 'node-lts.sh')], { encoding: 'utf8' }).trim();
  copyIfChanged(path.join(nodeBin, 'node'), path.join(ctx, 'node'));
  copyIfChanged(path.join(path.dirname(nodeBin), 'LICENSE'), path.join(ctx, 'LICENSE'));
  copyIfChanged(npmTarball(), path.join(ctx, 'npm.tgz'));
  copyIfChanged(process.env.SSL_CERT_FILE ?? '/etc/ssl/certs/ca-certificates.crt', path.join(ctx, 'build-ca-certificates.crt'));
  copyIfChanged(path.join(BASES_DIR, 'assemble-runtime.sh'), path.join(ctx, 'assemble-runtime.sh'));
  return ctx;
}

function npmRegistry(): string {
  return execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

async function buildBase(kind: 'build' | 'runtime', debian: string, ctx: string, refresh: boolean): Promise<string> {
  const tag = LOCAL_BASE_TAGS[kind];
  const done = step(`base image ${tag}`);
  const args = [
    'build', '--layers', '--network', 'host', '--pull=never', '--format', 'docker',
    '-f', path.join(BASES_DIR, `node-${kind}.Dockerfile`),
    '--build-arg', `DEBIAN_IMAGE=${debian}`,
    '--build-arg', `DEBIAN_SUITE=${suite}`,
    '--build-arg', `DEBIAN_MIRROR=${debianMirror()}`,
    '--build-arg', `DEBIAN_SECURITY_MIRROR=${debianSecurityMirror()}`,
    ...(kind === 'build' ? ['--build-arg', `NPM_REGISTRY=${npmRegistry()}`] : []),
    ...(refresh ? ['--no-cache'] : []),
    '-t', tag, ctx,
  ];
  await podmanLogged(args, `building ${tag}`, `image-base-${kind}`);
  done();
  return `${tag.split(':')[0]}@${imageDigest(tag)}`;
}

/** Both local bases, by digest, made or refreshed as needed. */
export async function ensureLocalBases(options: LocalBaseOptions = {}): Promise<BaseImages> {
  const refresh = options.refresh ?? false;
  const debian = await debianImage(refresh);
  const ctx = baseContext();
  const build = await buildBase('build', debian, ctx, refresh);
  const runtime = await buildBase('runtime', debian, ctx, refresh);
  return { build, runtime };
}

/** The bases of production builds: the pins of config/versions.ts, pulled by digest. */
export const PINNED_BASES: BaseImages = { build: versions.images.nodeBuild, runtime: versions.images.nodeRuntime };
