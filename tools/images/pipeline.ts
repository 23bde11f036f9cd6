/**
 * The whole image pipeline as one call: bases, build, push by digest, SBOM, and (with a key)
 * signature and SBOM attestation, recorded in .cache/images/published.json.
 */
import * as fs from 'fs';
import { environments } from '../../config';
import { formatDuration, step } from '../progress';
import { BaseImages, PINNED_BASES, ensureLocalBases } from './bases';
import { BuiltImage, buildServiceImages } from './build';
import { SigningKey, attestSbom, signImage } from './cosign';
import { Service, imagePaths } from './layout';
import { PushedImage, pushImage } from './publish';
import { RegistryAddress, localRegistryAddress, parseRegistry, registryUp } from './registry';
import { SbomResult, writeImageSbom } from './sbom';

export interface PipelineOptions {
  /** `local`: bases made here from Debian packages; `pinned`: the digests of config/versions.ts. */
  readonly bases: 'local' | 'pinned';
  /** Remake the local bases without cache. */
  readonly refreshBases?: boolean;
  /** Registry (host[/prefix]); default the `local` environment's, started on demand. Undefined with `push: false`. */
  readonly registry?: string;
  /** Build only. */
  readonly push: boolean;
  /** Sign each image and attest its SBOM. */
  readonly signingKey?: SigningKey;
}

/** One service's image, as the pipeline left it. */
export interface PublishedImage {
  readonly service: Service;
  readonly built: BuiltImage;
  readonly pushed?: PushedImage;
  readonly sbom?: SbomResult;
  readonly signed: boolean;
}

export interface PublishRecord {
  readonly registry?: string;
  readonly bases: BaseImages;
  readonly images: PublishedImage[];
  readonly seconds: number;
}

/** Runs the pipeline; every step prints progress, the record is written at the end. */
export async function runImagePipeline(options: PipelineOptions): Promise<PublishRecord> {
  const started = Date.now();
  const bases = options.bases === 'local' ? await ensureLocalBases({ refresh: options.refreshBases }) : PINNED_BASES;
  const built = await buildServiceImages({ bases, pull: options.bases === 'pinned' });
  let registry: RegistryAddress | undefined;
  if (options.push) {
    registry = parseRegistry(options.registry ?? environments.local.imageRegistry);
    if (registry.host === localRegistryAddress().host) await registryUp();
  }
  const images: PublishedImage[] = [];
  for (const image of built) {
    if (!registry) {
      images.push({ service: image.service, built: image, signed: false });
      continue;
    }
    const pushed = await pushImage(image, registry);
    const doneSbom = step(`SBOM of ${pushed.reference}`);
    const sbom = await writeImageSbom({ service: image.service, image: image.id, repository: pushed.repository, digest: pushed.digest });
    doneSbom();
    if (options.signingKey) {
      const doneSign = step(`signing ${pushed.reference} and attesting its SBOM`);
      signImage(pushed.reference, options.signingKey);
      attestSbom(pushed.reference, sbom.file, options.signingKey);
      doneSign();
    }
    images.push({ service: image.service, built: image, pushed, sbom, signed: options.signingKey !== undefined });
  }
  const record: PublishRecord = {
    registry: registry && [registry.host, registry.prefix].filter((p) => p).join('/'),
    bases,
    images,
    seconds: (Date.now() - started) / 1000,
  };
  fs.mkdirSync(imagePaths.work, { recursive: true });
  fs.writeFileSync(imagePaths.publishRecord, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** Signs every image of the last run's record and attests its SBOM (after the scan passed). */
export function signPublished(key: SigningKey): PublishRecord {
  if (!fs.existsSync(imagePaths.publishRecord)) throw new Error(`${imagePaths.publishRecord} is missing: run \`npm run images\` first`);
  const record = JSON.parse(fs.readFileSync(imagePaths.publishRecord, 'utf8')) as PublishRecord;
  const images = record.images.map((image) => {
    if (!image.pushed || !image.sbom) throw new Error(`the ${image.service} image was not pushed in the last run: run \`npm run images\` with a registry`);
    const done = step(`signing ${image.pushed.reference} and attesting its SBOM`);
    signImage(image.pushed.reference, key);
    attestSbom(image.pushed.reference, image.sbom.file, key);
    done();
    return { ...image, signed: true };
  });
  const signed = { ...record, images };
  fs.writeFileSync(imagePaths.publishRecord, `${JSON.stringify(signed, null, 2)}\n`);
  return signed;
}

/** The closing summary: one line per image, then the Terraform inputs of workloads-stack. */
export function summary(record: PublishRecord): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const lines = record.images.map((i) =>
    [
      `  ${i.service.padEnd(9)}`,
      mb(i.built.sizeBytes).padStart(9),
      `built in ${formatDuration(i.built.buildSeconds * 1000)}`,
      i.pushed ? i.pushed.reference : i.built.id.slice(0, 12),
      i.sbom ? `SBOM ${i.sbom.components} components (${i.sbom.npmComponents} npm, ${i.sbom.debianComponents} Debian)` : '',
      i.signed ? 'signed' : '',
    ]
      .filter((p) => p !== '')
      .join('  '),
  );
  const vars = record.images.filter((i) => i.pushed).map((i) => `  TF_VAR_${i.service}_image_digest=${i.pushed!.digest}`);
  return [
    `images (${formatDuration(record.seconds * 1000)}, bases: ${record.bases.build}, ${record.bases.runtime}):`,
    ...lines,
    ...(vars.length > 0 ? ['workloads-stack inputs:', ...vars] : []),
  ].join('\n');
}
