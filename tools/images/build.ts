/**
 * Builds the producer and consumer images from docker/services.Dockerfile with podman,
 * from the given base images (passed in as build arguments), with the layer cache.
 */
import { versions } from '../../config';
import { PROJECT_ROOT } from '../paths';
import { step } from '../progress';
import { BaseImages } from './bases';
import { DOCKERFILE, SERVICES, Service, localTag } from './layout';
import { imageDigest, imageSize, podman, podmanLogged } from './podman';

/** One built image in local storage. */
export interface BuiltImage {
  readonly service: Service;
  /** Local tag (localhost/kafka-platform/...). */
  readonly tag: string;
  /** Image id (sha256 of its config): what is run and pushed, whatever the tag points at later. */
  readonly id: string;
  /** Manifest digest in local storage (a push may compress layers into another one). */
  readonly localDigest: string;
  /** Uncompressed size of all layers, bytes. */
  readonly sizeBytes: number;
  /** Wall-clock time of the build, seconds (a fully cached build takes a few). */
  readonly buildSeconds: number;
}

export interface BuildOptions {
  /** Base images by digest: local ones (tools/images/bases.ts) or the pinned ones. */
  readonly bases: BaseImages;
  /** Pull missing bases from their registry (pinned bases); local bases are never pulled. */
  readonly pull: boolean;
}

/** Builds one service's target. */
export async function buildServiceImage(service: Service, options: BuildOptions): Promise<BuiltImage> {
  const tag = localTag(service);
  const done = step(`image ${tag} (target ${service})`);
  const started = Date.now();
  await podmanLogged(
    [
      'build', '--layers', '--network', 'host', `--pull=${options.pull ? 'missing' : 'never'}`,
      // Docker format keeps the HEALTHCHECK, which OCI image configs cannot carry.
      '--format', 'docker',
      '-f', DOCKERFILE, '--target', service,
      '--build-arg', `NODE_BUILD_IMAGE=${options.bases.build}`,
      '--build-arg', `NODE_RUNTIME_IMAGE=${options.bases.runtime}`,
      '--build-arg', `VERSION=${versions.images.services}`,
      '-t', tag, PROJECT_ROOT,
    ],
    `building the ${service} image`,
    `image-${service}`,
  );
  const buildSeconds = (Date.now() - started) / 1000;
  done();
  const id = podman(['image', 'inspect', '--format', '{{.Id}}', tag]).trim();
  return { service, tag, id, localDigest: imageDigest(tag), sizeBytes: imageSize(tag), buildSeconds };
}

/** Builds both services, one after the other (they share the build and deps stages). */
export async function buildServiceImages(options: BuildOptions): Promise<BuiltImage[]> {
  const built: BuiltImage[] = [];
  for (const service of SERVICES) built.push(await buildServiceImage(service, options));
  return built;
}
