import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { KafkaTools, runKafkaTool } from '../../kafka-tool';
import { HOST } from '../process';
import { LocalKafkaSpec, LocalNode } from './layout';

/** Cluster identity (one cluster id, one metadata directory id per node) and KRaft storage formatting. */

export interface ClusterIdentity {
  readonly clusterId: string;
  readonly directoryIds: Record<string, string>;
}

const identityFile = (spec: LocalKafkaSpec) => path.join(spec.dir, 'cluster.json');

/** A Kafka Uuid (base64url of 16 random bytes); Kafka itself never hands out ids starting with '-'. */
function kafkaUuid(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function isFormatted(node: LocalNode): boolean {
  return fs.existsSync(path.join(node.dataDir, 'meta.properties'));
}

/** The identity written on the first start; a half-deleted cluster is an error naming the purge command. */
export function loadOrCreateIdentity(spec: LocalKafkaSpec, nodes: readonly LocalNode[]): ClusterIdentity {
  const file = identityFile(spec);
  const purge = `run \`tsx tools/local-kafka.ts down --purge\` (or purge the ${spec.name} cluster) to start from an empty cluster`;
  if (fs.existsSync(file)) {
    const identity = JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterIdentity;
    const missing = nodes.filter((n) => !identity.directoryIds[String(n.id)]);
    if (missing.length === 0) return identity;
    throw new Error(`${file} has no identity for node(s) ${missing.map((n) => n.id).join(', ')} (was ${spec.configKey}.nodes changed?): ${purge}`);
  }
  const formatted = nodes.filter((n) => isFormatted(n));
  if (formatted.length > 0) throw new Error(`${file} is missing but node data exists in ${formatted[0].dataDir}: ${purge}`);
  const identity: ClusterIdentity = {
    clusterId: kafkaUuid(),
    directoryIds: Object.fromEntries(nodes.map((n) => [String(n.id), kafkaUuid()])),
  };
  fs.mkdirSync(spec.dir, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(identity, null, 2)}\n`);
  return identity;
}

export function removeIdentity(spec: LocalKafkaSpec): void {
  fs.rmSync(identityFile(spec), { force: true });
}

/** Formats one node's storage with every node as an initial controller (dynamic quorum, KIP-853). */
export async function formatStorage(spec: LocalKafkaSpec, node: LocalNode, nodes: readonly LocalNode[], identity: ClusterIdentity, kafkaVersion: string): Promise<void> {
  const initialControllers = nodes.map((n) => `${n.id}@${HOST}:${n.controllerPort}:${identity.directoryIds[String(n.id)]}`).join(',');
  await runKafkaTool(
    KafkaTools.storage,
    ['format', '--config', node.configFile, '--cluster-id', identity.clusterId, '--initial-controllers', initialControllers, '--release-version', spec.metadataVersion],
    { kafkaVersion },
  );
  // The storage tool picks a random directory id; the quorum needs the one named in --initial-controllers.
  const meta = fs.readFileSync(path.join(node.dataDir, 'meta.properties'), 'utf8');
  const dirId = /^directory\.id=(.+)$/m.exec(meta)?.[1];
  if (dirId !== identity.directoryIds[String(node.id)]) {
    throw new Error(`formatting node ${node.id} gave directory.id ${dirId}, expected ${identity.directoryIds[String(node.id)]}`);
  }
}
