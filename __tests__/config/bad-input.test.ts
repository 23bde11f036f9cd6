import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { App } from 'cdktf';
import { ConfigError, EnvironmentConfig, environmentProblems, environments } from '../../config';
import { AddonsStack } from '../../stacks/addons-stack';
import { LocalKafkaStack } from '../../stacks/local-kafka-stack';
import { PROJECT_ROOT } from '../../tools/paths';

/**
 * Bad environment configs and version pins: each is refused with the field, the value and the
 * fix before anything is synthesized, so there is nothing Terraform could plan or apply.
 */

type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
type Env = Mutable<EnvironmentConfig>;
type Pins = Mutable<import('../../config/versions').Versions>;

/** A deep copy of a shipped environment, changed by `edit`. */
function changed(name: 'local' | 'dev' | 'prod', edit: (env: Env) => void): EnvironmentConfig {
  const env = structuredClone(environments[name]) as Env;
  edit(env);
  return env;
}

/** [what is wrong, the environment, the one problem reported] */
const badEnvironments: [string, EnvironmentConfig, unknown][] = [
  ['a Kafka version without a patch number', changed('dev', (e) => (e.kafka.version = '4.3')), 'environments.dev.kafka.version is "4.3": expected MAJOR.MINOR.PATCH, e.g. "4.3.1"'],
  ['a Kafka version the pinned Strimzi cannot run', changed('prod', (e) => Object.assign(e.kafka, { version: '3.9.0', metadataVersion: '3.9-IV0' })), expect.stringMatching(/^environments\.prod\.kafka\.version 3\.9\.0 is not supported by Strimzi \S+; supported: \d/)],
  ['a malformed metadata version', changed('dev', (e) => (e.kafka.metadataVersion = '4.3')), 'environments.dev.kafka.metadataVersion is "4.3": expected MAJOR.MINOR-IVn, e.g. "4.3-IV0"'],
  ['a metadata version ahead of Kafka', changed('prod', (e) => Object.assign(e.kafka, { version: '4.2.1', metadataVersion: '4.3-IV0' })), 'environments.prod.kafka.metadataVersion 4.3-IV0 is ahead of Kafka 4.2.1: upgrade the version first, then the metadataVersion in a second deploy (docs/upgrades.md)'],
  ['two brokers', changed('prod', (e) => (e.kafka.brokers = 2)), 'environments.prod.kafka.brokers is 2: at least 3 brokers are needed for replication factor 3 and min.insync.replicas 2'],
  ['an even controller quorum', changed('prod', (e) => (e.kafka.controllers = 4)), 'environments.prod.kafka.controllers is 4: use 0 (combined roles) or an odd number so the KRaft quorum has a majority'],
  ['a cluster name Kubernetes refuses', changed('dev', (e) => (e.kafka.clusterName = 'Platform_1')), 'environments.dev.kafka.clusterName "Platform_1" is not a valid Kubernetes name (lower-case letters, digits, \'-\')'],
  ['no Kubernetes for dev', changed('dev', (e) => delete e.kubernetes), 'environments.dev.kubernetes is missing: every environment but "local" deploys to Kubernetes'],
  ['an empty kubeconfig path', changed('prod', (e) => (e.kubernetes!.configPath = ' ')), 'environments.prod.kubernetes.configPath is empty: expected a kubeconfig path such as "~/.kube/config"'],
  ['a namespace Kubernetes refuses', changed('dev', (e) => (e.namespaces.kafka = 'Kafka_NS')), 'environments.dev.namespaces.kafka is "Kafka_NS": expected a Kubernetes namespace name (lower-case letters, digits, \'-\', at most 63)'],
  ['a storage size in GB', changed('prod', (e) => (e.kafka.storageSize = '100GB')), 'environments.prod.kafka.storageSize is "100GB": expected a Kubernetes quantity such as "100Gi"'],
  ['a CPU request above its limit', changed('prod', (e) => (e.kafka.resources.brokers.requests.cpu = '8')), 'environments.prod.kafka.resources.brokers.requests.cpu 8 is above its limit 4: Kubernetes refuses the pod; lower the request or raise the limit'],
  ['a memory limit with a space', changed('dev', (e) => (e.kafka.resources.kafkaExporter.limits.memory = '128 Mi')), 'environments.dev.kafka.resources.kafkaExporter.limits.memory is "128 Mi": expected a Kubernetes quantity such as "1536Mi" or "2Gi"'],
  ['a trace sample ratio above 1', changed('dev', (e) => (e.services.traceSampleRatio = 10)), 'environments.dev.services.traceSampleRatio is 10: expected the share of traces to keep, a number from 0 to 1, e.g. 0.1'],
  ['a service memory request above its limit', changed('prod', (e) => (e.services.resources.requests.memory = '512Mi')), 'environments.prod.services.resources.requests.memory 512Mi is above its limit 256Mi: Kubernetes refuses the pod; lower the request or raise the limit'],
  ['an unknown external listener', changed('dev', (e) => ((e.kafka as { externalListener: string }).externalListener = 'ingress')), 'environments.dev.kafka.externalListener is "ingress": expected one of nodeport, loadbalancer, none'],
  ['an image registry with a scheme and a trailing slash', changed('prod', (e) => (e.imageRegistry = 'https://registry.example.com/')), 'environments.prod.imageRegistry is "https://registry.example.com/": expected host[:port][/path] in lower case, without a scheme or a trailing \'/\', e.g. "registry.example.com/kafka-platform"'],
  ['a PostgreSQL schema prefix with dashes', changed('prod', (e) => (e.backend = { type: 'pg', schemaPrefix: 'kafka-platform' })), 'environments.prod.backend.schemaPrefix is "kafka-platform": expected lower-case letters, digits and \'_\' (a PostgreSQL schema name), e.g. "kafka_platform_prod"'],
  ['a PostgreSQL schema prefix PostgreSQL would truncate', changed('prod', (e) => (e.backend = { type: 'pg', schemaPrefix: 'p'.repeat(48) })), 'environments.prod.backend.schemaPrefix is 48 characters: at most 47, or PostgreSQL truncates the stack schema names and states would mix'],
  ['a local state directory outside the project', changed('dev', (e) => (e.backend = { type: 'local', directory: '../state' })), 'environments.dev.backend.directory is "../state": expected a directory inside the project, e.g. "state/dev" (state files must stay git-ignored)'],
  ['an S3 bucket name S3 refuses', changed('prod', (e) => (e.backend = { type: 's3', bucket: 'Kafka_State', region: 'eu-west-1', keyPrefix: 'kafka-platform' })), 'environments.prod.backend.bucket is "Kafka_State": expected an S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit)'],
  ['a one-node local cluster', changed('local', (e) => (e.localCluster.nodes = 1)), 'environments.local.localCluster.nodes is 1: at least 3 nodes are needed for the platform topics\' replication factor 3'],
  ['overlapping local ports', changed('local', (e) => (e.localCluster.saslBasePort = 29094)), 'environments.local.localCluster.clientBasePort (29092-29094) overlaps saslBasePort (29094-29096): move one so the 3 nodes\' ports do not collide'],
  ['a local port below 1024', changed('local', (e) => (e.localCluster.controllerBasePort = 92)), 'environments.local.localCluster.controllerBasePort is 92: expected a port from 1024 to 65533 (node N listens on base + N - 1)'],
];

/** [what is wrong, how the pins change, the problems reported (a Kafka pin also reaches every environment)] */
const badPins: [string, (v: Pins) => void, string[]][] = [
  ['a Kafka pin without a patch number', (v) => (v.kafka.version = '4.3'), ['versions.kafka.version is "4.3": expected MAJOR.MINOR.PATCH, e.g. "4.3.1" (edit config/versions.ts)', 'environments.dev.kafka.version is "4.3": expected MAJOR.MINOR.PATCH, e.g. "4.3.1"']],
  ['a metadata version pin without its IV', (v) => (v.kafka.metadataVersion = '4.3'), ['versions.kafka.metadataVersion is "4.3": expected MAJOR.MINOR-IVn, e.g. "4.3-IV0" (edit config/versions.ts)', 'environments.dev.kafka.metadataVersion is "4.3": expected MAJOR.MINOR-IVn, e.g. "4.3-IV0"']],
  ['a chart pinned to "latest"', (v) => (v.charts.loki.version = 'latest'), ['versions.charts.loki.version is "latest": expected MAJOR.MINOR.PATCH, e.g. "4.3.1" (edit config/versions.ts)']],
  ['an image pinned to latest', (v) => (v.images.kafka = 'apache/kafka:latest'), ['versions.images.kafka is "apache/kafka:latest": pin an explicit tag, never "latest" (edit config/versions.ts)']],
  ['a provider pin that is no Go module version', (v) => (v.providers.kafka.goVersion = 'main'), ['versions.providers.kafka.goVersion is "main": expected a Go module version such as "v0.13.1" (edit config/versions.ts)']],
];

/** Builds the stack of `env` as main.ts does (kafka-stack for local, addons-stack first elsewhere) into a fresh app. */
function build(env: EnvironmentConfig): { outdir: string; attempt: () => void; app: App } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-config-'));
  const app = new App({ outdir });
  const attempt = () => {
    if (env.name === 'local') new LocalKafkaStack(app, 'kafka-stack', { env });
    else new AddonsStack(app, 'addons-stack', { env });
  };
  return { outdir, attempt, app };
}

function stacksWritten(outdir: string): string[] {
  const dir = path.join(outdir, 'stacks');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe('a bad environment config', () => {
  test.each(badEnvironments)('%s is refused with the field and the fix, and no stack is synthesized', (_what, env, problem) => {
    expect(environmentProblems(env)).toEqual([problem]);
    const { outdir, attempt, app } = build(env);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^Invalid configuration:\n {2}- /);
    // The refused stack never joined the app: a synth afterwards writes no Terraform JSON.
    app.synth();
    expect(stacksWritten(outdir)).toEqual([]);
  });

  test('the shipped environments synthesize, so each refusal above is down to its one change', () => {
    for (const env of Object.values(environments)) {
      const { outdir, attempt, app } = build(env);
      attempt();
      app.synth();
      expect(stacksWritten(outdir)).toHaveLength(1);
    }
  });
});

describe('a bad version pin', () => {
  test.each(badPins)('%s stops the whole app before any stack is synthesized', (_what, bump, problems) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-pin-'));
    let thrown: unknown;
    // A fresh module registry, exactly as if config/versions.ts had been edited.
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { versions } = require('../../config/versions') as typeof import('../../config/versions');
      bump(versions as unknown as Pins);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { buildApp } = require('../../main') as typeof import('../../main');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { App: IsolatedApp } = require('cdktf') as typeof import('cdktf');
      try {
        buildApp(new IsolatedApp({ outdir, context: { environment: 'dev' } })).synth();
      } catch (err) {
        thrown = err;
      }
    });
    expect((thrown as { problems?: string[] })?.problems).toEqual(problems);
    expect(stacksWritten(outdir)).toEqual([]);
  });
});

describe('an unknown environment', () => {
  test('`KAFKA_PLATFORM_ENV=staging` stops synthesis with the choices and synthesizes no stack', () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-env-name-'));
    // tsx by path: the scratch directory has no node_modules to resolve it from.
    const tsx = path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(tsx).href, path.join(PROJECT_ROOT, 'main.ts')], {
      cwd,
      env: { PATH: process.env.PATH ?? '', KAFKA_PLATFORM_ENV: 'staging' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ConfigError: Invalid configuration:\n  - unknown environment "staging": choose one of local, dev, prod with KAFKA_PLATFORM_ENV=<name> or cdktf context "environment"');
    // cdktf creates its empty output directory with the App; no stack ever gets into it.
    expect(stacksWritten(path.join(cwd, 'cdktf.out'))).toEqual([]);
  }, 60_000);
});
