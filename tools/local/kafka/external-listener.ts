import { KafkaTools, runKafkaTool } from '../../kafka-tool';
import { isListening } from '../process';
import { LocalKafkaSpec, allNodes, nodeLayout } from './layout';
import { ensureTls } from './secrets';

/**
 * The EXTERNAL listener of a local cluster (`externalBasePort`): SASL_SSL like the SASL_SSL
 * one, but its certificate can be replaced while the node runs, through Kafka's dynamic
 * per-broker config. A test's stand-in for a Kubernetes operator serves the certificates that
 * operator would issue here, so a client that verifies host names fails or succeeds against
 * exactly the names a cluster's brokers would present.
 */

const KEYSTORE_LOCATION = 'listener.name.external.ssl.keystore.location';

function externalPortOf(spec: LocalKafkaSpec, id: number): number {
  const port = nodeLayout(spec, id).externalPort;
  if (port === undefined) throw new Error(`the ${spec.name} cluster has no EXTERNAL listener: set ${spec.configKey}.externalBasePort in ${spec.portsDefinedIn}`);
  return port;
}

/** `127.0.0.1:<port>` of every node's EXTERNAL listener. */
export function externalAddresses(spec: LocalKafkaSpec): string[] {
  return allNodes(spec).map((n) => `127.0.0.1:${externalPortOf(spec, n.id)}`);
}

/**
 * Undefined when every node serves its EXTERNAL listener, else what is wrong and the fix (a
 * cluster started before the listener existed has none until it restarts).
 */
export async function externalListenerProblem(spec: LocalKafkaSpec): Promise<string | undefined> {
  const missing: string[] = [];
  for (const node of allNodes(spec)) if (!(await isListening(externalPortOf(spec, node.id)))) missing.push(`node ${node.id} (port ${externalPortOf(spec, node.id)})`);
  if (missing.length === 0) return undefined;
  return `the ${spec.name} cluster has no EXTERNAL listener on ${missing.join(', ')}: it was started without one; restart it (npm run kafka:down && npm run kafka:up)`;
}

/**
 * Serves `keystore` (PKCS12, protected with the cluster's keystore password, see
 * `brokerTlsPassword`) on node `id`'s EXTERNAL listener; undefined goes back to the cluster's
 * own certificate. Kafka loads the file and checks it before answering, so a keystore it
 * cannot use is refused with Kafka's error and nothing changes.
 */
export async function serveExternalKeystore(spec: LocalKafkaSpec, id: number, keystore: string | undefined): Promise<void> {
  externalPortOf(spec, id);
  const admin = ['--bootstrap-server', allNodes(spec).map((n) => `127.0.0.1:${n.clientPort}`).join(','), '--entity-type', 'brokers', '--entity-name', String(id), '--alter'];
  await runKafkaTool(KafkaTools.configs, keystore === undefined ? [...admin, '--delete-config', KEYSTORE_LOCATION] : [...admin, '--add-config', `${KEYSTORE_LOCATION}=${keystore}`]);
}

/** The password every keystore served on the EXTERNAL listener must have (the listener's static one). */
export async function brokerTlsPassword(spec: LocalKafkaSpec): Promise<string> {
  // The cluster's TLS material exists once it has started; this only reads it then.
  return (await ensureTls(spec, () => undefined)).password;
}
