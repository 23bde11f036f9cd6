/**
 * A CycloneDX 1.6 SBOM per image: the services' production npm dependencies from
 * @cyclonedx/cyclonedx-npm (the same lock the image installs with `npm ci --omit=dev`), plus
 * what the image's runtime base brings, read from the built image itself: the Node.js binary
 * (its version as the image reports it) and the Debian packages its dpkg status lists. The
 * image is the SBOM's subject, by digest. Every SBOM is checked against the CycloneDX schema.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { versions } from '../../config';
import { PROJECT_ROOT, paths } from '../paths';
import { runLogged } from '../progress';
import { extractFromImage, imageFileList, runEntrypoint } from './inspect';
import { Service, imageName, imagePaths } from './layout';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CycloneDx = Record<string, any>;

/** A Package URL (purl): type, optional namespace, name, version, qualifiers. */
export function purl(type: string, namespace: string | undefined, name: string, version: string, qualifiers: Record<string, string> = {}): string {
  const enc = (s: string) => encodeURIComponent(s);
  const keep = (s: string) => enc(s).replace(/%2F/g, '/').replace(/%3A/g, ':');
  const q = Object.keys(qualifiers)
    .sort()
    .map((k) => `${k}=${keep(qualifiers[k])}`)
    .join('&');
  return `pkg:${type}/${namespace ? `${enc(namespace)}/` : ''}${enc(name)}@${enc(version)}${q ? `?${q}` : ''}`;
}

/** Fields of one dpkg status paragraph. */
function parseDpkgStatus(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last = '';
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (m) fields[(last = m[1])] = m[2];
    else if (line.startsWith(' ') && last) fields[last] += `\n${line.trim()}`;
  }
  return fields;
}

/** The Debian packages and OS release of an image, from /var/lib/dpkg/status.d and os-release. */
export function imageOsPackages(image: string): { os?: { id: string; versionId: string; prettyName: string }; packages: Record<string, string>[] } {
  const files = new Set(imageFileList(image));
  const wanted = [...files].filter((f) => f.startsWith('var/lib/dpkg/status.d/') && !f.endsWith('/') && !f.endsWith('.md5sums'));
  const osRelease = ['etc/os-release', 'usr/lib/os-release'].filter((f) => files.has(f));
  if (wanted.length === 0 && osRelease.length === 0) return { packages: [] };
  const dir = extractFromImage(image, [...wanted, ...osRelease]);
  try {
    const packages = wanted.map((f) => parseDpkgStatus(fs.readFileSync(path.join(dir, f), 'utf8'))).filter((p) => p.Package && p.Version);
    const releaseFile = osRelease.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    if (!releaseFile) return { packages };
    const release = Object.fromEntries(
      fs.readFileSync(releaseFile, 'utf8').split('\n').map((l) => /^([A-Z_]+)="?([^"]*)"?$/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => [m[1], m[2]]),
    );
    return { os: { id: release.ID, versionId: release.VERSION_ID, prettyName: release.PRETTY_NAME }, packages };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The services' production npm dependencies, as cyclonedx-npm reports them from services/package-lock.json. */
async function npmSbom(): Promise<CycloneDx> {
  const out = path.join(imagePaths.sboms, `npm-${process.pid}.cdx.json`);
  fs.mkdirSync(imagePaths.sboms, { recursive: true });
  await runLogged(
    path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cyclonedx-npm'),
    ['--package-lock-only', '--omit', 'dev', '--flatten-components', '--spec-version', '1.6', '--output-format', 'JSON', '--mc-type', 'application', '--output-file', out, path.join(PROJECT_ROOT, 'services', 'package.json')],
    { logFile: path.join(paths.logs, 'sbom-npm.log'), activity: 'listing npm dependencies (cyclonedx-npm)' },
  );
  try {
    return JSON.parse(fs.readFileSync(out, 'utf8')) as CycloneDx;
  } finally {
    fs.rmSync(out, { force: true });
  }
}

/** Schema problems of a CycloneDX 1.6 JSON document, or undefined when it is valid. */
export async function cycloneDxProblems(document: string): Promise<string | undefined> {
  const errors = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(document);
  return errors === null ? undefined : JSON.stringify(errors, null, 2);
}

/** Where the image lives: what the SBOM's subject names. */
export interface SbomSubject {
  readonly service: Service;
  /** Local image (tag or id) to read the runtime files from. */
  readonly image: string;
  /** Repository in the registry, e.g. 127.0.0.1:29500/kafka-platform/kafka-platform-producer. */
  readonly repository: string;
  /** Manifest digest in that registry. */
  readonly digest: string;
}

export interface SbomResult {
  readonly file: string;
  /** Components listed (npm packages, Node.js, OS and Debian packages, the services package). */
  readonly components: number;
  readonly npmComponents: number;
  readonly debianComponents: number;
}

/** Writes and validates the SBOM of one pushed image; throws when the schema rejects it. */
export async function writeImageSbom(subject: SbomSubject): Promise<SbomResult> {
  const bom = await npmSbom();
  const app = bom.metadata.component as CycloneDx;
  const npmComponents = (bom.components as CycloneDx[]).length;

  const image: CycloneDx = {
    type: 'container',
    'bom-ref': purl('oci', undefined, imageName(subject.service), subject.digest, { repository_url: subject.repository, tag: versions.images.services }),
    name: imageName(subject.service),
    version: versions.images.services,
    purl: purl('oci', undefined, imageName(subject.service), subject.digest, { repository_url: subject.repository, tag: versions.images.services }),
    hashes: [{ alg: 'SHA-256', content: subject.digest.replace(/^sha256:/, '') }],
  };
  const nodeVersion = runEntrypoint(subject.image, ['--version']).trim().replace(/^v/, '');
  const node: CycloneDx = {
    type: 'platform',
    'bom-ref': purl('generic', undefined, 'node', nodeVersion),
    name: 'node',
    version: nodeVersion,
    description: 'Node.js runtime',
    licenses: [{ license: { id: 'MIT' } }],
    purl: purl('generic', undefined, 'node', nodeVersion),
    cpe: `cpe:2.3:a:nodejs:node.js:${nodeVersion}:*:*:*:*:*:*:*`,
  };
  const { os, packages } = imageOsPackages(subject.image);
  const distro = os ? `${os.id}-${os.versionId}` : undefined;
  const osComponent: CycloneDx | undefined = os && {
    type: 'operating-system',
    'bom-ref': `os:${distro}`,
    name: os.id,
    version: os.versionId,
    description: os.prettyName,
  };
  const debs: CycloneDx[] = packages.map((p) => {
    const qualifiers: Record<string, string> = { arch: p.Architecture, ...(distro ? { distro } : {}) };
    const source = p.Source?.split(' ')[0];
    if (source && source !== p.Package) qualifiers.upstream = source;
    const ref = purl('deb', os?.id ?? 'debian', p.Package, p.Version, qualifiers);
    return { type: 'library', 'bom-ref': ref, name: p.Package, version: p.Version, purl: ref, ...(p.Description ? { description: p.Description.split('\n')[0] } : {}) };
  });

  bom.serialNumber = `urn:uuid:${randomUUID()}`;
  bom.metadata.timestamp = new Date().toISOString();
  bom.metadata.component = image;
  bom.components = [app, node, ...(osComponent ? [osComponent] : []), ...debs, ...(bom.components as CycloneDx[])];
  bom.dependencies = [
    ...((bom.dependencies as CycloneDx[] | undefined) ?? []),
    // The image holds the services package, Node.js, the OS release and its Debian packages.
    { ref: image['bom-ref'], dependsOn: [app['bom-ref'], node['bom-ref'], ...(osComponent ? [osComponent['bom-ref']] : []), ...debs.map((d) => d['bom-ref'])] },
  ];

  const text = `${JSON.stringify(bom, null, 2)}\n`;
  const problems = await cycloneDxProblems(text);
  if (problems) throw new Error(`the SBOM of ${imageName(subject.service)} does not match the CycloneDX 1.6 schema:\n${problems}`);
  const file = path.join(imagePaths.sboms, `${subject.service}.cdx.json`);
  fs.writeFileSync(file, text);
  return { file, components: bom.components.length, npmComponents, debianComponents: debs.length };
}
