import * as path from 'path';
import { ProviderPin, versions } from '../config';

/** Project root (the directory holding package.json). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
/** The one git-ignored directory holding every download, build and runtime file. */
export const CACHE_DIR = process.env.KAFKA_PLATFORM_CACHE ?? path.join(PROJECT_ROOT, '.cache');

export const paths = {
  cache: CACHE_DIR,
  bin: path.join(CACHE_DIR, 'bin'),
  logs: path.join(CACHE_DIR, 'logs'),
  goModCache: path.join(CACHE_DIR, 'go', 'mod'),
  goBuildCache: path.join(CACHE_DIR, 'go', 'build'),
  mavenRepo: path.join(CACHE_DIR, 'm2'),
  providerMirror: path.join(CACHE_DIR, 'terraform', 'mirror'),
  pluginCache: path.join(CACHE_DIR, 'terraform', 'plugin-cache'),
  cliConfig: path.join(CACHE_DIR, 'terraform', 'terraformrc'),
  toolchainEnv: path.join(CACHE_DIR, 'toolchain.env'),
  kafkaLibs: path.join(CACHE_DIR, 'kafka', versions.kafka.version, 'libs'),
  opentofu: path.join(CACHE_DIR, 'bin', 'tofu'),
  actionlint: path.join(CACHE_DIR, 'bin', 'actionlint'),
} as const;

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
