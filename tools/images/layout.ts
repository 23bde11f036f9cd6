/**
 * Names and places of the service images: the two services, their image names, the
 * per-machine container storage and the work files of a clone (SBOMs, publish record).
 */
import * as path from 'path';
import { versions } from '../../config';
import { CACHE_DIR, PROJECT_ROOT, TOOLS_DIR, toolBinary } from '../paths';

export const SERVICES = ['producer', 'consumer'] as const;
export type Service = (typeof SERVICES)[number];

/** Repository name of a service's image, in every registry. */
export const imageName = (service: Service): string => `kafka-platform-${service}`;

/** Name under which local builds are tagged (podman's local storage, never pushed as such). */
export const localTag = (service: Service): string => `localhost/kafka-platform/${imageName(service)}:${versions.images.services}`;

export const DOCKERFILE = path.join(PROJECT_ROOT, 'docker', 'services.Dockerfile');
export const BASES_DIR = path.join(PROJECT_ROOT, 'docker', 'bases');

export const imagePaths = {
  /** Container storage and configuration, per machine: a fresh clone reuses base images and layers. */
  containers: path.join(TOOLS_DIR, 'containers'),
  containersConf: path.join(TOOLS_DIR, 'containers', 'containers.conf'),
  storageConf: path.join(TOOLS_DIR, 'containers', 'storage.conf'),
  /** Downloaded inputs of the local base images (npm tarball), per machine. */
  downloads: path.join(TOOLS_DIR, 'containers', 'downloads'),
  /** This clone's image work files. */
  work: path.join(CACHE_DIR, 'images'),
  /** Build context of the local base images (node binary, npm, CA bundle). */
  baseContext: path.join(CACHE_DIR, 'images', 'base-context'),
  sboms: path.join(CACHE_DIR, 'images', 'sbom'),
  /** What the last `npm run images` pushed: registry, digests, sizes, build times, SBOM counts. */
  publishRecord: path.join(CACHE_DIR, 'images', 'published.json'),
  /** The local OCI registry's storage and configuration. */
  registry: path.join(CACHE_DIR, 'registry'),
} as const;

/** Built binaries of the image tooling in the per-machine cache (tools/images/binaries.ts builds them). */
export const imageToolBinaries = {
  cosign: toolBinary('cosign', versions.imageTools.cosign.goVersion),
  registry: toolBinary('registry', versions.imageTools.registry.goVersion),
} as const;
