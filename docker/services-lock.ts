/**
 * The service images install only what the services need, not the CDK toolchain the root
 * package.json also lists (cdktf and the provider bindings weigh ~200 MB). This derives
 * services/package.json and services/package-lock.json from the root ones: same versions,
 * same integrity hashes, so `npm ci` in the image installs exactly what the tests ran with.
 *
 *   npx tsx docker/services-lock.ts   # rewrite both files after a root dependency change
 *
 * __tests__/docker/services-lock.test.ts fails when the committed files are stale.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

/** Runtime dependencies of the services (bare imports under services/). */
export const RUNTIME_DEPENDENCIES = [
  '@opentelemetry/api',
  '@opentelemetry/core',
  '@opentelemetry/exporter-trace-otlp-proto',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace',
  'kafkajs',
  'pino',
  'prom-client',
] as const;
/**
 * Needed only to compile the services in the image's build stage; @platformatic/kafka for the
 * types of the consumer measured on it (docs/services.md): the runtime image does not carry it.
 */
export const BUILD_DEPENDENCIES = ['typescript', '@types/node', '@platformatic/kafka'] as const;

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

interface Lockfile {
  name: string;
  version: string;
  lockfileVersion: number;
  requires: boolean;
  packages: Record<string, LockEntry>;
}

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as T;

/** Node's lookup: the nearest node_modules/<name> from `from` upwards. */
function resolve(packages: Lockfile['packages'], from: string, name: string): string {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') throw new Error(`package-lock.json has no entry for ${name} (needed by ${from || 'the root'})`);
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

/** Every lock entry reachable from `roots`, following dependencies and required peers. */
function closure(packages: Lockfile['packages'], roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = roots.map((name) => resolve(packages, '', name));
  while (queue.length > 0) {
    const at = queue.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const entry = packages[at];
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((p) => !entry.peerDependenciesMeta?.[p]?.optional);
    for (const dep of [...Object.keys(entry.dependencies ?? {}), ...peers]) queue.push(resolve(packages, at, dep));
    // Optional dependencies (platform binaries) only when the root lock has them.
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      try {
        queue.push(resolve(packages, at, dep));
      } catch {
        /* not installed for any platform in the root lock */
      }
    }
  }
  return seen;
}

/** services/package.json and services/package-lock.json as they must be. */
export function servicesManifest(): { packageJson: PackageJson; lockfile: Lockfile } {
  const rootPackage = readJson<PackageJson>('package.json');
  const rootLock = readJson<Lockfile>('package-lock.json');
  const pin = (names: readonly string[], from: Record<string, string> | undefined) =>
    Object.fromEntries(
      names.map((n) => {
        const version = from?.[n];
        if (!version) throw new Error(`${n} is not in the root package.json`);
        return [n, version];
      }),
    );
  const packageJson: PackageJson = {
    name: `${rootPackage.name}-services`,
    version: rootPackage.version,
    license: rootPackage.license,
    engines: rootPackage.engines,
    dependencies: pin(RUNTIME_DEPENDENCIES, rootPackage.dependencies),
    devDependencies: pin(BUILD_DEPENDENCIES, rootPackage.devDependencies),
  };

  const runtime = closure(rootLock.packages, RUNTIME_DEPENDENCIES);
  const all = new Set([...runtime, ...closure(rootLock.packages, BUILD_DEPENDENCIES)]);
  const packages: Record<string, LockEntry> = {
    '': { name: packageJson.name, version: packageJson.version, license: packageJson.license, dependencies: packageJson.dependencies, devDependencies: packageJson.devDependencies, engines: packageJson.engines },
  };
  for (const key of [...all].sort()) {
    const { dev: _dev, optional, devOptional: _devOptional, peer: _peer, ...entry } = rootLock.packages[key];
    packages[key] = { ...entry, ...(runtime.has(key) ? {} : { dev: true }), ...(optional ? { optional } : {}) };
  }
  return { packageJson, lockfile: { name: packageJson.name, version: packageJson.version, lockfileVersion: rootLock.lockfileVersion, requires: true, packages } };
}

export const SERVICES_PACKAGE_JSON = path.join(ROOT, 'services', 'package.json');
export const SERVICES_LOCKFILE = path.join(ROOT, 'services', 'package-lock.json');

if (require.main === module) {
  const { packageJson, lockfile } = servicesManifest();
  fs.writeFileSync(SERVICES_PACKAGE_JSON, `${JSON.stringify(packageJson, null, 2)}\n`);
  fs.writeFileSync(SERVICES_LOCKFILE, `${JSON.stringify(lockfile, null, 2)}\n`);
  console.log(`wrote ${path.relative(ROOT, SERVICES_PACKAGE_JSON)} and ${path.relative(ROOT, SERVICES_LOCKFILE)} (${Object.keys(lockfile.packages).length - 1} packages)`);
}
