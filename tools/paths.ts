import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ProviderPin, versions } from '../config';

/** Project root (the directory holding package.json). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
/** The one git-ignored directory holding every download, build and runtime file. */
export const CACHE_DIR = process.env.KAFKA_PLATFORM_CACHE ?? path.join(PROJECT_ROOT, '.cache');
/**
 * Per-machine cache outside the work tree for what is expensive to build and never changes
 * for a given version (binaries named `<name>-<version>`, Go module and build caches, the
 * provider mirror, the Maven repository), so a fresh clone on the same machine builds nothing.
 */
export const TOOLS_DIR = process.env.KAFKA_PLATFORM_TOOLS ?? path.join(os.homedir(), '.cache', 'kafka-platform');

export const paths = {
  cache: CACHE_DIR,
  logs: path.join(CACHE_DIR, 'logs'),
  /** Links by plain name to built tools the stacks run (kubectl); tools/with-toolchain.sh puts it on PATH. */
  bin: path.join(CACHE_DIR, 'bin'),
  tools: TOOLS_DIR,
  /** Built binaries, each named `<name>-<version>`. */
  toolsBin: path.join(TOOLS_DIR, 'bin'),
  goModCache: path.join(TOOLS_DIR, 'go', 'mod'),
  goBuildCache: path.join(TOOLS_DIR, 'go', 'build'),
  /** Scratch copies of downloaded modules being built. */
  goBuildSources: path.join(TOOLS_DIR, 'go', 'src'),
  mavenRepo: path.join(TOOLS_DIR, 'm2'),
  providerMirror: path.join(TOOLS_DIR, 'terraform', 'mirror'),
  pluginCache: path.join(TOOLS_DIR, 'terraform', 'plugin-cache'),
  cliConfig: path.join(CACHE_DIR, 'terraform', 'terraformrc'),
  toolchainEnv: path.join(CACHE_DIR, 'toolchain.env'),
  kafkaLibs: path.join(CACHE_DIR, 'kafka', versions.kafka.version, 'libs'),
  opentofu: toolBinary('tofu', versions.terraform.opentofu.goVersion),
  actionlint: toolBinary('actionlint', versions.devTools.actionlint.goVersion),
} as const;

/** Path of a built binary in the per-machine cache: one file per name and version. */
export function toolBinary(name: string, version: string): string {
  return path.join(TOOLS_DIR, 'bin', `${name}-${version}`);
}

/** Registry hosts a filesystem mirror must serve: Terraform's and OpenTofu's. */
export const REGISTRY_HOSTS = ['registry.terraform.io', 'registry.opentofu.org'] as const;

/** Where a provider binary lives inside the mirror for one registry host. */
export function providerBinary(host: string, pin: ProviderPin): string {
  return path.join(
    paths.providerMirror,
    host,
    pin.namespace.toLowerCase(),
    pin.type,
    pin.version,
    'linux_amd64',
    `terraform-provider-${pin.type}_v${pin.version}`,
  );
}

/**
 * The process environment plus the variables tools/toolchain.ts wrote (CLI paths, provider
 * mirror config). A missing toolchain is an error naming the command that installs it.
 */
export function toolchainEnv(): NodeJS.ProcessEnv {
  if (!fs.existsSync(paths.toolchainEnv)) {
    throw new Error(`${paths.toolchainEnv} is missing: run \`npm run bootstrap\` (npm test and npm start do it first)`);
  }
  const vars: Record<string, string> = {};
  for (const line of fs.readFileSync(paths.toolchainEnv, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]] = JSON.parse(m[2]) as string;
  }
  return { ...process.env, ...vars };
}
