import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { STRIMZI_API_VERSION } from '../../modules/kafka-cluster/crds';
import { clusterCaCertSecretName, EXTERNAL_LISTENER, internalBootstrapAddress } from '../../modules/kafka-cluster/kafka';
import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { LOCAL_SCRAM_USERS, localBootstrapServers, localCaFile, localSaslBootstrapServers, localUserPasswordFile } from '../../tools/local/kafka';
import { KubeApi, KubeObject, resourcePath } from '../../tools/local/kubernetes';

/**
 * A SIMULATION of the Strimzi operators' reconcile, the one part of a deploy to the local
 * Kubernetes that is not real: kwok runs no containers, so the real operator (whose pod the
 * addons-stack installs and which turns Ready) cannot reach brokers. This stands in for what
 * it would write, pointing at the local Kafka cluster (`npm run kafka:up`) instead of pods:
 *
 * - Kafka: the cluster CA Secret, and a status with the listeners (the external one is the
 *   local cluster's SASL_SSL address and CA) and condition Ready.
 * - KafkaNodePool: a status with node ids and replicas.
 * - KafkaUser: the Secret named like the user with its SCRAM password, and status Ready. Users
 *   the local cluster already has (producer, consumer) get their passwords; a user with a
 *   password Secret (the admin) gets its SCRAM credential set on the local cluster, with the
 *   all-operations ACLs a Strimzi super user has, removed again when its KafkaUser goes.
 *
 * Every other object of a deploy is applied to, and judged by, the real API server.
 */
export class SimulatedStrimziOperator {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Users whose credentials this simulation created on the local cluster. */
  private readonly kafkaCredentials = new Set<string>();
  /** The ACL arguments set per user, to remove with it (super users: the wildcard ones below). */
  private readonly userAcls = new Map<string, string[][]>();
  /** Everything it did, for assertions (never a secret value). */
  readonly events: string[] = [];
  /** The last error of a pass, if any (the next pass retries). */
  lastError?: string;

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
  ) {}

  start(intervalMs = 300): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.reconcile().catch((err: Error) => {
        this.lastError = err.message;
      });
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
    };
    void loop();
  }

  /** Stops reconciling and removes the credentials it created on the local cluster. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    for (const user of [...this.kafkaCredentials]) await this.removeKafkaCredential(user);
  }

  private list(plural: string): Promise<KubeObject[]> {
    return this.api.get<{ items: KubeObject[] }>(resourcePath('kafka.strimzi.io', 'v1', plural, undefined, this.namespace)).then((l) => l.items);
  }

  private async reconcile(): Promise<void> {
    const kafkas = await this.list('kafkas').catch(() => [] as KubeObject[]);
    for (const kafka of kafkas) await this.reconcileKafka(kafka);
    for (const pool of await this.list('kafkanodepools').catch(() => [] as KubeObject[])) await this.reconcileNodePool(pool);
    const users = await this.list('kafkausers').catch(() => [] as KubeObject[]);
    for (const user of users) await this.reconcileUser(user);
    // A KafkaUser deleted: the User Operator removes its credentials from Kafka.
    const present = new Set(users.map((u) => u.metadata.name));
    for (const user of [...this.kafkaCredentials]) if (!present.has(user)) await this.removeKafkaCredential(user);
  }

  private isCurrent(object: KubeObject): boolean {
    const ready = (object.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    return ready && object.status?.observedGeneration === object.metadata.generation;
  }

  private ready(object: KubeObject) {
    return {
      observedGeneration: object.metadata.generation,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    };
  }

  private async reconcileKafka(kafka: KubeObject): Promise<void> {
    if (kafka.metadata.deletionTimestamp || this.isCurrent(kafka)) return;
    const name = kafka.metadata.name;
    const ca = fs.readFileSync(localCaFile(), 'utf8');
    await this.api.apply(resourcePath('', 'v1', 'secrets', clusterCaCertSecretName(name), this.namespace), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: clusterCaCertSecretName(name), namespace: this.namespace, labels: { 'strimzi.io/cluster': name, 'strimzi.io/kind': 'Kafka' }, ownerReferences: [owner('Kafka', kafka)] },
      type: 'Opaque',
      data: { 'ca.crt': Buffer.from(ca).toString('base64') },
    });
    const listeners = (kafka.spec.kafka.listeners as { name: string }[]).map((l) =>
      l.name === EXTERNAL_LISTENER
        ? { name: l.name, bootstrapServers: localSaslBootstrapServers(), certificates: [ca] }
        : { name: l.name, bootstrapServers: internalBootstrapAddress(name, this.namespace), certificates: [ca] },
    );
    await this.api.patchStatus(resourcePath('kafka.strimzi.io', 'v1', 'kafkas', name, this.namespace), {
      ...this.ready(kafka),
      listeners,
      clusterId: 'simulated-local-kafka',
      kafkaVersion: kafka.spec.kafka.version,
      kafkaMetadataVersion: kafka.spec.kafka.metadataVersion,
    });
    this.events.push(`Kafka ${name} ${kafka.spec.kafka.version} Ready (generation ${kafka.metadata.generation})`);
  }

  private async reconcileNodePool(pool: KubeObject): Promise<void> {
    if (pool.metadata.deletionTimestamp || pool.status?.observedGeneration === pool.metadata.generation) return;
    const replicas = pool.spec.replicas as number;
    await this.api.patchStatus(resourcePath('kafka.strimzi.io', 'v1', 'kafkanodepools', pool.metadata.name, this.namespace), {
      observedGeneration: pool.metadata.generation,
      nodeIds: Array.from({ length: replicas }, (_, i) => i),
      roles: pool.spec.roles,
      replicas,
      clusterId: 'simulated-local-kafka',
    });
    this.events.push(`KafkaNodePool ${pool.metadata.name} reconciled`);
  }

  private async reconcileUser(user: KubeObject): Promise<void> {
    if (user.metadata.deletionTimestamp || this.isCurrent(user)) return;
    const name = user.metadata.name;
    const password = await this.passwordOf(user);
    await this.api.apply(resourcePath('', 'v1', 'secrets', name, this.namespace), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: this.namespace, labels: { 'strimzi.io/cluster': user.metadata.labels?.['strimzi.io/cluster'] ?? '', 'strimzi.io/kind': 'KafkaUser' }, ownerReferences: [owner('KafkaUser', user)] },
      type: 'Opaque',
      data: {
        password: Buffer.from(password).toString('base64'),
        'sasl.jaas.config': Buffer.from(`org.apache.kafka.common.security.scram.ScramLoginModule required username="${name}" password="${password}";`).toString('base64'),
      },
    });
    await this.api.patchStatus(resourcePath('kafka.strimzi.io', 'v1', 'kafkausers', name, this.namespace), { ...this.ready(user), username: name, secret: name });
    this.events.push(`KafkaUser ${name} Ready`);
  }

  /** The local cluster's password for its own users; for a user with a password Secret, that password, set on the cluster. */
  private async passwordOf(user: KubeObject): Promise<string> {
    const name = user.metadata.name;
    const ref = user.spec.authentication?.password?.valueFrom?.secretKeyRef as { name: string; key: string } | undefined;
    if (!ref) {
      if (!(LOCAL_SCRAM_USERS as readonly string[]).includes(name)) return this.generatedPassword(user);
      return fs.readFileSync(localUserPasswordFile(name), 'utf8').trim();
    }
    const secret = await this.api.get(resourcePath('', 'v1', 'secrets', ref.name, this.namespace));
    const password = Buffer.from(secret.data[ref.key] as string, 'base64').toString('utf8');
    await this.setKafkaCredential(name, password);
    return password;
  }

  /**
   * A user the local cluster does not have and whose password nobody gave (the lag reader): as
   * the User Operator does, a generated password, its SCRAM credential, and the KafkaUser's own
   * ACLs (never a super user's), removed again with the KafkaUser.
   */
  private async generatedPassword(user: KubeObject): Promise<string> {
    const name = user.metadata.name as string;
    const existing = await this.api.find(resourcePath('', 'v1', 'secrets', name, this.namespace));
    const password = existing?.data?.password ? Buffer.from(existing.data.password as string, 'base64').toString('utf8') : randomBytes(24).toString('base64url');
    const acls = (user.spec.authorization?.acls ?? []) as { resource: { type: string; name?: string; patternType?: string }; operations: string[] }[];
    await this.setKafkaCredential(name, password, acls);
    return password;
  }

  private async setKafkaCredential(name: string, password: string, acls?: readonly { resource: { type: string; name?: string; patternType?: string }; operations: string[] }[]): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simulated-user-operator-'));
    const file = path.join(dir, 'scram.properties');
    // The password goes to Kafka's tool in a 0600 file, never on a command line.
    fs.writeFileSync(file, `SCRAM-SHA-512=iterations=8192,password=${password}\n`, { mode: 0o600 });
    try {
      const admin = ['--bootstrap-server', localBootstrapServers()];
      await runKafkaTool(KafkaTools.configs, [...admin, '--alter', '--entity-type', 'users', '--entity-name', name, '--add-config-file', file]);
      this.kafkaCredentials.add(name);
      if (acls) {
        // The KafkaUser's own ACLs, as the User Operator writes them.
        const set: string[][] = [];
        for (const acl of acls) {
          const resource = acl.resource.type === 'cluster' ? ['--cluster'] : [`--${acl.resource.type}`, acl.resource.name!, '--resource-pattern-type', acl.resource.patternType ?? 'literal'];
          for (const operation of acl.operations) {
            await runKafkaTool(KafkaTools.acls, [...admin, '--add', '--allow-principal', `User:${name}`, '--operation', operation, ...resource]);
            set.push(['--operation', operation, ...resource]);
          }
        }
        this.userAcls.set(name, set);
        this.events.push(`SCRAM credential and ${acls.length} ACLs for ${name} set on the local cluster`);
        return;
      }
      // What `superUsers` in the Kafka resource grants, as ACLs (the local brokers' super users are fixed).
      for (const resource of [['--cluster'], ['--topic', '*'], ['--group', '*']]) {
        await runKafkaTool(KafkaTools.acls, [...admin, '--add', '--allow-principal', `User:${name}`, '--operation', 'All', ...resource]);
      }
      this.events.push(`SCRAM credential and super-user ACLs for ${name} set on the local cluster`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private async removeKafkaCredential(name: string): Promise<void> {
    const admin = ['--bootstrap-server', localBootstrapServers()];
    const granted = this.userAcls.get(name) ?? [['--cluster'], ['--topic', '*'], ['--group', '*']].map((resource) => ['--operation', 'All', ...resource]);
    for (const acl of granted) {
      await runKafkaTool(KafkaTools.acls, [...admin, '--remove', '--force', '--allow-principal', `User:${name}`, ...acl]);
    }
    this.userAcls.delete(name);
    await runKafkaTool(KafkaTools.configs, [...admin, '--alter', '--entity-type', 'users', '--entity-name', name, '--delete-config', 'SCRAM-SHA-512']);
    this.kafkaCredentials.delete(name);
    this.events.push(`SCRAM credential and ACLs of ${name} removed from the local cluster`);
  }
}

/** The ownerReference the operator puts on what it creates, so deleting the owner deletes them. */
function owner(kind: string, object: KubeObject) {
  return { apiVersion: STRIMZI_API_VERSION, kind, name: object.metadata.name, uid: object.metadata.uid as string, controller: false, blockOwnerDeletion: false };
}
