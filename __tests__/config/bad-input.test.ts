import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { App } from 'cdktf';
import { ConfigError, EnvironmentConfig, environmentProblems, environments, localNode, LocalNodeConfig, localNodeProblems } from '../../config';
import { AddonsStack } from '../../stacks/addons-stack';
import { LocalKafkaStack } from '../../stacks/local-kafka-stack';
import { LocalNode } from '../../tools/local/kubernetes/node';
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
  ['an unknown Kubernetes platform', changed('prod', (e) => ((e.kubernetes as { platform: string }).platform = 'aks')), 'environments.prod.kubernetes.platform is "aks": expected one of eks, gke, generic (generic: any other conformant cluster)'],
  ['a managed control plane switch that is no boolean', changed('prod', (e) => ((e.kubernetes as { managedControlPlane: unknown }).managedControlPlane = 'yes')), 'environments.prod.kubernetes.managedControlPlane is "yes": expected true (EKS, GKE: the control plane is not scraped) or false'],
  ['a DNS resolver address without a prefix length', changed('prod', (e) => (e.kubernetes!.dns = { kubeDnsPods: true, addresses: ['169.254.20.10'] })), 'environments.prod.kubernetes.dns.addresses has "169.254.20.10": expected a CIDR such as "169.254.20.10/32" (NodeLocal DNSCache) or "169.254.169.254/32" (GKE Cloud DNS)'],
  ['no DNS resolver at all', changed('dev', (e) => (e.kubernetes!.dns = { kubeDnsPods: false, addresses: [] })), 'environments.dev.kubernetes.dns allows no resolver: set kubeDnsPods to true or list the resolver addresses, or every name lookup of the services is dropped'],
  ['a load balancer listener without its access settings', changed('prod', (e) => delete e.kafka.externalAccess), 'environments.prod.kafka.externalAccess is missing: a loadbalancer listener needs { exposure: \'private\', sourceRanges: [...], peers: [...] } (docs/kafka.md, "The external listener")'],
  ['a load balancer source range that is no CIDR', changed('prod', (e) => (e.kafka.externalAccess!.sourceRanges = ['10.0.0.0/33'])), 'environments.prod.kafka.externalAccess.sourceRanges has "10.0.0.0/33": expected a CIDR such as "10.0.0.0/8"'],
  ['a load balancer open to every address', changed('prod', (e) => (e.kafka.externalAccess!.sourceRanges = [])), 'environments.prod.kafka.externalAccess.sourceRanges is empty: a load balancer then admits every address; list the networks of the clients and of Terraform, e.g. ["10.0.0.0/8"]'],
  ['a listener without NetworkPolicy peers', changed('prod', (e) => (e.kafka.externalAccess!.peers = [])), 'environments.prod.kafka.externalAccess.peers is empty: Strimzi then lets every source reach the listener; list the clients\' and Terraform\'s networks, e.g. [{ cidr: "10.0.0.0/8" }]'],
  ['a peer namespace Kubernetes refuses', changed('prod', (e) => (e.kafka.externalAccess!.peers = [{ namespace: 'CI_Runners' }])), 'environments.prod.kafka.externalAccess.peers has namespace "CI_Runners": expected a Kubernetes namespace name'],
  ['an unknown exposure', changed('prod', (e) => ((e.kafka.externalAccess as { exposure: string }).exposure = 'vpc')), 'environments.prod.kafka.externalAccess.exposure is "vpc": expected private or public'],
  ['a private load balancer on a cluster with no known internal load balancer', changed('prod', (e) => (e.kubernetes!.platform = 'generic')), 'environments.prod.kafka.externalAccess.exposure is private, but kubernetes.platform is "generic", which has no internal load balancer this project knows: set kubernetes.platform to "eks" or "gke", or choose exposure "public" with narrow sourceRanges'],
  ['a zonal storage switch that is no boolean', changed('prod', (e) => ((e.kubernetes as { zonalStorage: unknown }).zonalStorage = 1)), 'environments.prod.kubernetes.zonalStorage is 1: expected true (nodes in several zones, zonal volumes such as EBS or PD) or false'],
  ['a lag threshold of zero', changed('prod', (e) => (e.services.autoscaling = { lagThreshold: 0 })), 'environments.prod.services.autoscaling.lagThreshold is 0: expected a whole number of messages of lag per consumer replica, at least 1, e.g. 5000'],
  ['a lag threshold that is no whole number', changed('dev', (e) => (e.services.autoscaling = { lagThreshold: 2.5 })), 'environments.dev.services.autoscaling.lagThreshold is 2.5: expected a whole number of messages of lag per consumer replica, at least 1, e.g. 5000'],
  ['a storage class name Kubernetes refuses', changed('prod', (e) => (e.kafka.storageClass = 'GP3 Encrypted')), 'environments.prod.kafka.storageClass is "GP3 Encrypted": expected a StorageClass name (lower-case letters, digits, \'-\', \'.\'), or leave it out for the cluster\'s default class'],
  ['a NodePort listener without its advertised host', changed('dev', (e) => delete e.kafka.nodePort), 'environments.dev.kafka.nodePort is missing: a NodePort listener\'s broker certificates name no node address, so the Kafka provider\'s host-name verification fails; set nodePort.advertisedHost to the address clients reach the nodes at (127.0.0.1 with kind\'s port mappings) and nodePort.bootstrapNodePort (docs/kafka.md, "Reaching the brokers")'],
  ['an advertised host with a port', changed('dev', (e) => (e.kafka.nodePort!.advertisedHost = '127.0.0.1:31092')), 'environments.dev.kafka.nodePort.advertisedHost is "127.0.0.1:31092": expected a DNS name or an IPv4 address in lower case, without a port or a scheme, e.g. "127.0.0.1" or "kafka.dev.example.com"'],
  ['a bootstrap node port outside the NodePort range', changed('dev', (e) => (e.kafka.nodePort!.bootstrapNodePort = 9094)), 'environments.dev.kafka.nodePort.bootstrapNodePort is 9094: expected a port from 30000 to 32764 (Kubernetes\' NodePort range; the 3 brokers take the next ports)'],
  ['node ports for a load balancer listener', changed('prod', (e) => (e.kafka.nodePort = { advertisedHost: 'kafka.example.com', bootstrapNodePort: 31092 })), 'environments.prod.kafka.nodePort is set, but externalListener is "loadbalancer": remove nodePort, or set externalListener to "nodeport"'],
  ['an EXTERNAL listener port range overlapping the SASL_SSL one', changed('local', (e) => (e.localCluster.externalBasePort = 29493)), 'environments.local.localCluster.saslBasePort (29492-29494) overlaps externalBasePort (29493-29495): move one so the 3 nodes\' ports do not collide'],
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

/** [what is wrong, the changed setting, the one problem reported] */
const badNodeSettings: [string, Partial<LocalNodeConfig>, string][] = [
  ['a bridge name longer than Linux allows', { bridge: 'kafka-platform-node0' }, 'localNode.bridge is "kafka-platform-node0": expected a Linux interface name of at most 15 letters, digits, \'-\', \'_\' or \'.\', e.g. "kp-node0"'],
  ['a pod subnet that is no CIDR', { podSubnet: '10.245.0.0' }, 'localNode.podSubnet is "10.245.0.0": expected an IPv4 CIDR such as "10.245.0.0/24"'],
  ['a public pod subnet', { podSubnet: '8.8.8.0/24' }, 'localNode.podSubnet 8.8.8.0/24 is not a private range: pods must stay on this machine; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16'],
  ['a pod subnet with room for no pods', { podSubnet: '10.245.0.0/31' }, 'localNode.podSubnet 10.245.0.0/31 has prefix /31: expected /8 to /28 (the bridge takes the first address, pods the rest)'],
  ['two node ports alike', { kubeletReadOnlyPort: localNode.kubeletPort }, `localNode.kubeletReadOnlyPort is ${localNode.kubeletPort}, the same as localNode.kubeletPort: give each its own port`],
];

describe('a bad local node setting', () => {
  test.each(badNodeSettings)('%s is refused with the setting and the fix before the node starts anything', async (_what, change, problem) => {
    const config = { ...localNode, ...change };
    expect(localNodeProblems(config)).toEqual([problem]);
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bad-node-')), 'node');
    await expect(new LocalNode(dir, config).up(() => undefined)).rejects.toThrow(ConfigError);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('the shipped setting passes, so each refusal above is down to its one change', () => {
    expect(localNodeProblems(localNode)).toEqual([]);
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
