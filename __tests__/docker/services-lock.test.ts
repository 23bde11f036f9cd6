import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import { BUILD_DEPENDENCIES, RUNTIME_DEPENDENCIES, SERVICES_LOCKFILE, SERVICES_PACKAGE_JSON, servicesManifest } from '../../docker/services-lock';
import { PROJECT_ROOT } from '../../tools/paths';

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

describe('services/package.json and services/package-lock.json (what the images install)', () => {
  test('match the root manifests: same versions, same integrity hashes (regenerate: npx tsx docker/services-lock.ts)', () => {
    const { packageJson, lockfile } = servicesManifest();
    expect(readJson(SERVICES_PACKAGE_JSON)).toEqual(packageJson);
    expect(readJson(SERVICES_LOCKFILE)).toEqual(lockfile);
  });

  test('list every package the services import, and nothing of the CDK toolchain', () => {
    const imported = new Set<string>();
    // Type-only imports are gone once compiled: their packages are needed by the build stage only.
    const typesOnly = new Set<string>();
    for (const file of sources(path.join(PROJECT_ROOT, 'services'))) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/^(import type|import|export)\b[^;]*?from '([^'.][^']*)'/gms)) {
        const name = m[2].startsWith('@') ? m[2].split('/').slice(0, 2).join('/') : m[2].split('/')[0];
        // Node.js' own modules, with or without the node: prefix, are not packages.
        if (builtinModules.includes(name) || name.startsWith('node:')) continue;
        (m[1] === 'import type' ? typesOnly : imported).add(name);
      }
    }
    expect([...imported].sort()).toEqual([...RUNTIME_DEPENDENCIES].sort());
    for (const name of typesOnly) if (!imported.has(name)) expect(BUILD_DEPENDENCIES).toContain(name);
    const lock = readJson(SERVICES_LOCKFILE) as { packages: Record<string, { dev?: boolean }> };
    const runtime = Object.entries(lock.packages).filter(([k, v]) => k !== '' && !v.dev).map(([k]) => k);
    expect(runtime.some((k) => /cdktf|constructs|typescript/.test(k))).toBe(false);
    for (const dev of BUILD_DEPENDENCIES) expect(lock.packages[`node_modules/${dev}`].dev).toBe(true);
  });
});
