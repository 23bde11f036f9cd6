/**
 * cosign and the CNCF distribution registry, built from the Go module proxy into the
 * per-machine cache like every other Go binary of the project (tools/go-build.ts).
 */
import * as fs from 'fs';
import { versions } from '../../config';
import { goBinaries } from '../go-build';
import { imageToolBinaries } from './layout';

/** Builds whichever of cosign and the registry is missing; returns both paths. */
export async function ensureImageTools(): Promise<typeof imageToolBinaries> {
  const { cosign, registry } = versions.imageTools;
  await goBinaries({ module: registry.goModule, version: registry.goVersion, label: 'registry' }, [
    { name: 'registry', version: registry.goVersion, package: registry.package },
  ]);
  await goBinaries({ module: cosign.goModule, version: cosign.goVersion, label: 'cosign' }, [
    // The version cosign reports (`cosign version`) is the module's.
    { name: 'cosign', version: cosign.goVersion, package: cosign.package, ldflags: `-X sigs.k8s.io/release-utils/version.gitVersion=${cosign.goVersion}` },
  ]);
  return imageToolBinaries;
}

/** The path of a built image tool, or an error naming the command that builds it. */
export function imageTool(name: keyof typeof imageToolBinaries): string {
  const file = imageToolBinaries[name];
  if (!fs.existsSync(file)) throw new Error(`${name} is not built yet (${file}): run \`npm run bootstrap\` (npm test and npm run images do it first)`);
  return file;
}
