import * as path from 'path';
import { environments, versions } from '../../../config';
import { INTERNAL_TLS_PORT, nodePoolPlan } from '../../../modules/kafka-cluster/kafka';
import { CACHE_DIR } from '../../paths';
import { HOST } from '../process';

/**
 * Where one local KRaft cluster lives: its directory, its ports and the Kafka version of its
 * nodes. The platform's cluster comes from config/environments.ts (`localCluster`); tests that
 * kill or upgrade brokers run their own instance beside it, on other ports and in another folder.
 */
export interface LocalKafkaSpec {
  /** Short name, used in messages and as the folder name under .cache/. */
  readonly name: string;
  /** Folder holding every node's data, config and log, the cluster identity, TLS material and users. */
  readonly dir: string;
  /** Number of combined broker+controller nodes. */
  readonly nodes: number;
  /** Client (PLAINTEXT) port of node 1; node N listens on `clientBasePort + N - 1`. */
  readonly clientBasePort: number;
  /** Controller port of node 1. */
  readonly controllerBasePort: number;
  /** SASL_SSL (SCRAM-SHA-512 over TLS) port of node 1. */
  readonly saslBasePort: number;
  /**
   * Port of node 1's EXTERNAL listener (SASL_SSL, certificates replaceable at run time, see
   * `serveExternalKeystore`); undefined: the cluster has no such listener.
   */
  readonly externalBasePort?: number;
  /**
   * Port of node 1's PODS listener (SASL_SSL, certificates served with EXTERNAL's) and the
   * address each node advertises on it (by node, from node 1): a local Kubernetes' pods reach
   * it relayed from broker pods' addresses (the deploy test's simulated operator), under the
   * names those pods have. Undefined: the cluster has no such listener.
   */
  readonly podNetwork?: { readonly basePort: number; readonly advertised: readonly string[] };
  /** Kafka version a node runs unless it was started with another one. */
  readonly kafkaVersion: string;
  /** KRaft metadata version the storage is formatted with. */
  readonly metadataVersion: string;
  /** The setting holding the ports, named in port-conflict errors. */
  readonly configKey: string;
  /** The file holding `configKey`. */
  readonly portsDefinedIn: string;
}

export interface LocalNode {
  readonly id: number;
  readonly clientPort: number;
  readonly controllerPort: number;
  /** SASL_SSL (SCRAM-SHA-512 over TLS) listener. */
  readonly saslPort: number;
  /** EXTERNAL (SASL_SSL) listener, when the cluster has one. */
  readonly externalPort?: number;
  /** PODS (SASL_SSL) listener and the `host:port` it advertises, when the cluster has one. */
  readonly podNetworkPort?: number;
  readonly podNetworkAdvertised?: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly configFile: string;
  readonly log4jFile: string;
  /** stdout and stderr of the JVM, including the broker's log4j2 output. */
  readonly logFile: string;
  readonly pidFile: string;
  /** Records the Kafka version the running process was started with. */
  readonly versionFile: string;
}

/**
 * What dev's broker pods are called on a Kubernetes, broker by broker (Strimzi:
 * `<cluster>-<pool>-<node id>` in the headless Service `<cluster>-kafka-brokers`, ids from 0),
 * with the internal TLS listener's port: what the PODS listener advertises.
 */
function devBrokerPodAddresses(nodes: number): string[] {
  const { kafka, namespaces } = environments.dev;
  const pool = nodePoolPlan(kafka).find((p) => p.roles.includes('broker'))!;
  return Array.from({ length: nodes }, (_, i) => `${kafka.clusterName}-${pool.name}-${i}.${kafka.clusterName}-kafka-brokers.${namespaces.kafka}.svc:${INTERNAL_TLS_PORT}`);
}

const { podNetworkBasePort, ...localPorts } = environments.local.localCluster;

/** The platform's local cluster, as `npm run kafka:up` and the test suite run it. */
export const PLATFORM_LOCAL_KAFKA: LocalKafkaSpec = {
  name: 'local-kafka',
  dir: path.join(CACHE_DIR, 'local-kafka'),
  ...localPorts,
  podNetwork: { basePort: podNetworkBasePort, advertised: devBrokerPodAddresses(localPorts.nodes) },
  kafkaVersion: versions.kafka.version,
  metadataVersion: versions.kafka.metadataVersion,
  configKey: 'localCluster',
  portsDefinedIn: 'config/environments.ts',
};

/**
 * How far each cluster beside the platform's moves its ports (`shiftedPorts`): downwards, so all of
 * them stay below the kernel's ephemeral range (32768+), where a client's outgoing connection could
 * take a listener's port while its broker is down.
 */
export const SIDE_CLUSTER_PORT_OFFSETS = { chaos: -10000, upgrade: -12000, bench: -14000 } as const;

/**
 * The platform cluster's ports, every listener moved by `offset`: a cluster beside it
 * (chaos, upgrade, bench) gets all of them, so a listener added later cannot collide.
 */
export function shiftedPorts(offset: number): Pick<LocalKafkaSpec, 'clientBasePort' | 'controllerBasePort' | 'saslBasePort' | 'externalBasePort' | 'podNetwork'> {
  const p = PLATFORM_LOCAL_KAFKA;
  return {
    clientBasePort: p.clientBasePort + offset,
    controllerBasePort: p.controllerBasePort + offset,
    saslBasePort: p.saslBasePort + offset,
    ...(p.externalBasePort !== undefined ? { externalBasePort: p.externalBasePort + offset } : {}),
    ...(p.podNetwork !== undefined ? { podNetwork: { ...p.podNetwork, basePort: p.podNetwork.basePort + offset } } : {}),
  };
}

export function nodeLayout(spec: LocalKafkaSpec, id: number): LocalNode {
  if (!Number.isInteger(id) || id < 1 || id > spec.nodes) {
    throw new Error(`node ${id} does not exist: the ${spec.name} cluster has nodes 1..${spec.nodes} (${spec.configKey}.nodes)`);
  }
  const dir = path.join(spec.dir, `node-${id}`);
  return {
    id,
    clientPort: spec.clientBasePort + id - 1,
    controllerPort: spec.controllerBasePort + id - 1,
    saslPort: spec.saslBasePort + id - 1,
    ...(spec.externalBasePort !== undefined ? { externalPort: spec.externalBasePort + id - 1 } : {}),
    ...(spec.podNetwork !== undefined ? { podNetworkPort: spec.podNetwork.basePort + id - 1, podNetworkAdvertised: spec.podNetwork.advertised[id - 1] } : {}),
    dir,
    dataDir: path.join(dir, 'data'),
    configFile: path.join(dir, 'server.properties'),
    log4jFile: path.join(dir, 'log4j2.properties'),
    logFile: path.join(dir, 'kafka.log'),
    pidFile: path.join(dir, 'kafka.pid'),
    versionFile: path.join(dir, 'kafka.version'),
  };
}

export function allNodes(spec: LocalKafkaSpec): LocalNode[] {
  return Array.from({ length: spec.nodes }, (_, i) => nodeLayout(spec, i + 1));
}

/** `127.0.0.1:<port>,...` for one listener of every node. */
export function addresses(spec: LocalKafkaSpec, listener: 'clientPort' | 'saslPort' | 'externalPort'): string {
  return allNodes(spec)
    .map((n) => `${HOST}:${n[listener]}`)
    .join(',');
}
