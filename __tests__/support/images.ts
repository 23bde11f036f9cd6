import { PublishRecord, PublishedImage, runImagePipeline } from '../../tools/images/pipeline';
import { registryDown, registryUp } from '../../tools/images/registry';

/** Minutes the first run on a machine may take: debootstrap, two bases, two images, pushes. */
export const FIRST_BUILD_TIMEOUT_MS = 45 * 60 * 1000;

/**
 * The real pipeline, as `npm run images` runs it: local bases, both images from
 * docker/services.Dockerfile, pushed by digest to the local registry (started if needed),
 * an SBOM each. Cached layers make a second run take seconds. cosign and the registry come
 * from the bootstrap (a missing one fails naming `npm run bootstrap`).
 */
export function publishLocally(): Promise<PublishRecord> {
  return runImagePipeline({ bases: 'local', push: true });
}

/** Starts the local registry unless one answers; true when this call started it. */
export function startRegistry(): Promise<boolean> {
  return registryUp((line) => console.log(line));
}

/** Stops the local registry if this test file started it (a running one is left alone). */
export async function stopRegistryIfStarted(started: boolean): Promise<void> {
  if (started) await registryDown((line) => console.log(line));
}

export function published(record: PublishRecord, service: 'producer' | 'consumer'): PublishedImage & Required<Pick<PublishedImage, 'pushed' | 'sbom'>> {
  const image = record.images.find((i) => i.service === service);
  if (!image?.pushed || !image.sbom) throw new Error(`the pipeline did not push the ${service} image`);
  return image as PublishedImage & Required<Pick<PublishedImage, 'pushed' | 'sbom'>>;
}
