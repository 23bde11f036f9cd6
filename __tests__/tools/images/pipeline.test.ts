import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { versions } from '../../../config';
import { generateKeyPair, verifiedSboms, verifyImage } from '../../../tools/images/cosign';
import { extractFromImage, imageFileList } from '../../../tools/images/inspect';
import { SERVICES, Service, imageName } from '../../../tools/images/layout';
import { PublishRecord, signPublished } from '../../../tools/images/pipeline';
import { podman } from '../../../tools/images/podman';
import { PushedImage, pushImage } from '../../../tools/images/publish';
import { localRegistryAddress, registryGet } from '../../../tools/images/registry';
import { CycloneDx, cycloneDxProblems } from '../../../tools/images/sbom';
import { FIRST_BUILD_TIMEOUT_MS, publishLocally, published, startRegistry, stopRegistryIfStarted } from '../../support/images';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
/** Shells and package managers: none may exist in a runtime image. */
const FORBIDDEN = /^(sh|bash|dash|ash|zsh|ksh|busybox|apt|apt-get|aptitude|dpkg|rpm|yum|dnf|apk|npm|npx|yarn|pnpm|corepack)$/;

let record: PublishRecord;
let registryStarted = false;
const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'cosign-keys-'));
// The key is made for this run only; its password never leaves this process.
const password = randomBytes(24).toString('base64url');
let publicKey: string;

beforeAll(async () => {
  registryStarted = await startRegistry();
  record = await publishLocally();
  const pair = generateKeyPair(keys, password);
  publicKey = pair.publicKey;
  record = signPublished({ key: pair.privateKey, password });
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  for (const i of record.images) {
    console.log(`${i.service}: ${mb(i.built.sizeBytes)}, built in ${i.built.buildSeconds.toFixed(1)} s, SBOM ${i.sbom?.components} components, ${i.pushed?.reference}`);
  }
}, FIRST_BUILD_TIMEOUT_MS);

afterAll(async () => {
  fs.rmSync(keys, { recursive: true, force: true });
  await stopRegistryIfStarted(registryStarted);
});

const manifestDigest = async (repository: string, reference: string): Promise<string | undefined> => {
  const { port } = localRegistryAddress();
  const name = repository.split('/').slice(1).join('/');
  const r = await registryGet(port, `/v2/${name}/manifests/${reference}`, { accept: MANIFEST_TYPES }, 'HEAD');
  return r?.status === 200 ? String(r.headers['docker-content-digest']) : undefined;
};

describe('npm run images, on the locally made bases', () => {
  test('builds both images from services.Dockerfile on a build base and a runtime base passed in by digest', () => {
    expect(record.bases.build).toMatch(/^localhost\/kafka-platform\/node-build@sha256:[0-9a-f]{64}$/);
    expect(record.bases.runtime).toMatch(/^localhost\/kafka-platform\/node-runtime@sha256:[0-9a-f]{64}$/);
    for (const service of SERVICES) {
      const { built } = published(record, service);
      const [inspected] = JSON.parse(podman(['image', 'inspect', built.id])) as { Config: Record<string, unknown>; Healthcheck?: { Test: string[] } }[];
      // Kept because the image is built in Docker format: OCI image configs have no HEALTHCHECK.
      expect(inspected.Healthcheck?.Test).toEqual(['CMD', '/nodejs/bin/node', '/app/services/shared/healthcheck.js', '/readyz']);
      expect(inspected.Config).toMatchObject({
        User: '65532:65532',
        Entrypoint: ['/nodejs/bin/node'],
        Cmd: [`/app/services/${service}/main.js`],
        Labels: expect.objectContaining({
          'org.opencontainers.image.title': imageName(service),
          'org.opencontainers.image.version': versions.images.services,
          'org.opencontainers.image.base.name': record.bases.runtime,
        }),
      });
      // The Node.js binary alone is ~125 MB; anything far above means a build toolchain slipped in.
      expect(built.sizeBytes).toBeGreaterThan(100e6);
      expect(built.sizeBytes).toBeLessThan(200e6);
    }
  });

  test('pushes each image to the local registry, where its digest and version tag resolve to the same manifest, of the image built', async () => {
    const { port } = localRegistryAddress();
    for (const service of SERVICES) {
      const { pushed, built } = published(record, service);
      const manifest = await registryGet(port, `/v2/kafka-platform/${imageName(service)}/manifests/${pushed.digest}`, { accept: MANIFEST_TYPES });
      expect((JSON.parse(manifest!.body) as { config: { digest: string } }).config.digest).toBe(`sha256:${built.id}`);
      expect(pushed.reference).toBe(`${localRegistryAddress().host}/kafka-platform/${imageName(service)}@${pushed.digest}`);
      expect(await manifestDigest(pushed.repository, pushed.digest)).toBe(pushed.digest);
      expect(await manifestDigest(pushed.repository, versions.images.services)).toBe(pushed.digest);
    }
  });

  test.each(SERVICES)('the %s image has node, its libraries, CA certificates and a nonroot user, and no shell or package manager', (service) => {
    const entries = imageFileList(published(record, service).built.id);
    const names = entries.filter((f) => !f.endsWith('/'));
    expect(names).toEqual(expect.arrayContaining(['nodejs/bin/node', 'etc/ssl/certs/ca-certificates.crt', 'etc/passwd', `app/services/${service}/main.js`]));
    expect(names.some((f) => /^usr\/lib\/x86_64-linux-gnu\/libstdc\+\+\.so\.6/.test(f))).toBe(true);
    expect(names.filter((f) => FORBIDDEN.test(path.basename(f)))).toEqual([]);
    expect(names.filter((f) => /^(usr\/)?s?bin\/./.test(f))).toEqual([]);
    const dir = extractFromImage(published(record, service).built.id, ['etc/passwd']);
    try {
      expect(fs.readFileSync(path.join(dir, 'etc', 'passwd'), 'utf8')).toMatch(/^nonroot:x:65532:65532:/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the SBOM of each image', () => {
  const bom = (service: Service): CycloneDx => JSON.parse(fs.readFileSync(published(record, service).sbom.file, 'utf8')) as CycloneDx;

  /** name@version of every package.json under the image's /app/node_modules. */
  function installedPackages(image: string): string[] {
    const dir = extractFromImage(image, ['app/node_modules']);
    const found: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (!e.isDirectory() || e.name === '.bin') continue;
        const manifest = path.join(d, e.name, 'package.json');
        if (e.name.startsWith('@')) walk(path.join(d, e.name));
        else if (fs.existsSync(manifest)) {
          const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name: string; version: string };
          found.push(`${pkg.name}@${pkg.version}`);
          if (fs.existsSync(path.join(d, e.name, 'node_modules'))) walk(path.join(d, e.name, 'node_modules'));
        }
      }
    };
    try {
      walk(path.join(dir, 'app', 'node_modules'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return [...new Set(found)].sort();
  }

  test.each(SERVICES)('%s: is valid CycloneDX 1.6 and names the image by its registry digest', async (service) => {
    const text = fs.readFileSync(published(record, service).sbom.file, 'utf8');
    expect(await cycloneDxProblems(text)).toBeUndefined();
    const { pushed } = published(record, service);
    expect(bom(service).metadata.component).toMatchObject({
      type: 'container',
      name: imageName(service),
      version: versions.images.services,
      hashes: [{ alg: 'SHA-256', content: pushed.digest.slice('sha256:'.length) }],
    });
    expect(bom(service).metadata.component.purl).toContain(encodeURIComponent(pushed.digest));
  });

  test.each(SERVICES)('%s: lists exactly the npm packages installed in the image, Node.js at the pinned version and the Debian packages of the runtime', (service) => {
    const components = bom(service).components as CycloneDx[];
    const servicesPackage = bom(service).dependencies.find((d: CycloneDx) => d.ref === bom(service).metadata.component['bom-ref']).dependsOn[0];
    const npm = components
      .filter((c) => String(c.purl).startsWith('pkg:npm/') && c['bom-ref'] !== servicesPackage)
      .map((c) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`);
    const inImage = installedPackages(published(record, service).built.id);
    expect(inImage.length).toBeGreaterThan(10);
    expect([...new Set(npm)].sort()).toEqual(inImage);
    expect(components.find((c) => c.name === 'node')).toMatchObject({ version: versions.node.version, cpe: expect.stringContaining(`:node.js:${versions.node.version}:`) });
    const debian = components.filter((c) => String(c.purl).startsWith('pkg:deb/debian/'));
    expect(debian.map((c) => c.name)).toEqual(expect.arrayContaining(['libc6', 'libgcc-s1', 'libstdc++6', 'ca-certificates']));
    for (const c of debian) expect(c.purl).toContain('distro=debian-12');
  });

  test('the schema check rejects what CycloneDX does not allow', async () => {
    const broken = bom('producer');
    broken.components[0].type = 'not-a-component-type';
    expect(await cycloneDxProblems(JSON.stringify(broken))).toContain('"instancePath": "/components/0/type"');
  });
});

describe('cosign signatures and SBOM attestations', () => {
  test.each(SERVICES)('%s: the signature verifies for the signed digest, and the signature and attestation sit beside the image in the registry', async (service) => {
    const { pushed } = published(record, service);
    const result = verifyImage(pushed.reference, publicKey);
    expect(result.stderr).toContain('The signatures were verified against the specified public key');
    expect(result.status).toBe(0);
    const { port } = localRegistryAddress();
    const tags = await registryGet(port, `/v2/kafka-platform/${imageName(service)}/tags/list`);
    const suffix = pushed.digest.replace(':', '-');
    expect((JSON.parse(tags!.body) as { tags: string[] }).tags).toEqual(expect.arrayContaining([versions.images.services, `${suffix}.sig`, `${suffix}.att`]));
  });

  test.each(SERVICES)('%s: the signed attestation carries the SBOM as written', (service) => {
    const { pushed, sbom } = published(record, service);
    const { result, sboms } = verifiedSboms(pushed.reference, publicKey);
    expect(result.status).toBe(0);
    expect(sboms).toEqual([JSON.parse(fs.readFileSync(sbom.file, 'utf8'))]);
  });

  test('verification fails with another key', () => {
    const other = generateKeyPair(keys, randomBytes(24).toString('base64url'), 'other');
    const result = verifyImage(published(record, 'producer').pushed.reference, other.publicKey);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/no matching signatures|invalid signature/);
  });

  describe('a tampered image', () => {
    let tampered: PushedImage;
    let tamperedId: string;
    const genuine = () => published(record, 'producer');
    const registry = () => ({ host: localRegistryAddress().host, prefix: 'kafka-platform' });

    beforeAll(async () => {
      // The signed producer with its command swapped: same layers, another config, another digest.
      const container = podman(['create', '--pull=never', genuine().built.id]).trim();
      try {
        tamperedId = podman(['commit', '--quiet', '--format', 'docker', '--change', 'CMD ["/app/services/consumer/main.js"]', container]).trim();
      } finally {
        podman(['rm', '--force', container]);
      }
      tampered = await pushImage({ ...genuine().built, id: tamperedId }, registry(), 'tampered');
    });

    afterAll(async () => {
      // The version tag back on the genuine image.
      const restored = await pushImage(genuine().built, registry());
      expect(restored.digest).toBe(genuine().pushed.digest);
    });

    test('is refused: it has no signature of its own', () => {
      expect(tampered.repository).toBe(genuine().pushed.repository);
      expect(tampered.digest).not.toBe(genuine().pushed.digest);
      const result = verifyImage(tampered.reference, publicKey);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('no signatures found');
    });

    test('is refused even with the genuine signature copied onto it', async () => {
      const { port } = localRegistryAddress();
      const repo = `kafka-platform/${imageName('producer')}`;
      const signature = await registryGet(port, `/v2/${repo}/manifests/${genuine().pushed.digest.replace(':', '-')}.sig`, { accept: 'application/vnd.oci.image.manifest.v1+json' });
      expect(signature?.status).toBe(200);
      const put = await fetch(`http://127.0.0.1:${port}/v2/${repo}/manifests/${tampered.digest.replace(':', '-')}.sig`, {
        method: 'PUT',
        headers: { 'content-type': String(signature!.headers['content-type']) },
        body: signature!.body,
      });
      expect(put.status).toBe(201);
      const result = verifyImage(tampered.reference, publicKey);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/no matching signatures|invalid signature|does not match/i);
    });

    test('is refused when the version tag is moved onto it', async () => {
      await pushImage({ ...genuine().built, id: tamperedId }, registry());
      expect(await manifestDigest(genuine().pushed.repository, versions.images.services)).toBe(tampered.digest);
      const byTag = verifyImage(`${genuine().pushed.repository}:${versions.images.services}`, publicKey);
      expect(byTag.status).not.toBe(0);
      // The digest reference still names the signed image, whatever the tag says.
      expect(verifyImage(genuine().pushed.reference, publicKey).status).toBe(0);
    });
  });
});

