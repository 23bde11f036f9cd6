/**
 * Pushes built images to a registry and records them by digest: the digest podman reports
 * for the manifest it wrote is what workloads-stack, the SBOM and the signatures refer to.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { versions } from '../../config';
import { step } from '../progress';
import { BuiltImage } from './build';
import { Service, imageName } from './layout';
import { allowLoopbackRegistry, isLoopbackRegistry, podmanLogged } from './podman';
import { RegistryAddress } from './registry';

/** One image in a registry. */
export interface PushedImage {
  readonly service: Service;
  /** Repository, e.g. 127.0.0.1:29500/kafka-platform/kafka-platform-producer. */
  readonly repository: string;
  /** Manifest digest, sha256:... */
  readonly digest: string;
  /** repository@digest: the only way the image is referred to from here on. */
  readonly reference: string;
}

export function repositoryOf(registry: RegistryAddress, service: Service): string {
  return [registry.host, registry.prefix, imageName(service)].filter((p) => p !== '').join('/');
}

/** Pushes one built image (by id, so a moved tag cannot swap it) under `tag` (the version); returns its digest. */
export async function pushImage(image: BuiltImage, registry: RegistryAddress, tag: string = versions.images.services): Promise<PushedImage> {
  if (isLoopbackRegistry(registry.host)) allowLoopbackRegistry(registry.host);
  const repository = repositoryOf(registry, image.service);
  const done = step(`pushing ${image.service} to ${repository}`);
  const digestFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'push-')), 'digest');
  try {
    await podmanLogged(['push', '--digestfile', digestFile, image.id, `docker://${repository}:${tag}`], `pushing ${image.service}`, `image-push-${image.service}`);
    const digest = fs.readFileSync(digestFile, 'utf8').trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`podman push reported no digest for ${repository} (got "${digest}")`);
    done();
    return { service: image.service, repository, digest, reference: `${repository}@${digest}` };
  } finally {
    fs.rmSync(path.dirname(digestFile), { recursive: true, force: true });
  }
}
