import * as tls from 'tls';
import { KafkaTools, runKafkaTool } from '../../kafka-tool';
import { isListening, sleep } from '../process';
import { LocalKafkaSpec, allNodes, nodeLayout } from './layout';
import { ensureTls } from './secrets';

/**
 * The EXTERNAL listener of a local cluster (`externalBasePort`): SASL_SSL like the SASL_SSL
 * one, but its certificate can be replaced while the node runs, through Kafka's dynamic
 * per-broker config. A test's stand-in for a Kubernetes operator serves the certificates that
 * operator would issue here, so a client that verifies host names fails or succeeds against
 * exactly the names a cluster's brokers would present.
 */

function externalPortOf(spec: LocalKafkaSpec, id: number): number {
  const port = nodeLayout(spec, id).externalPort;
  if (port === undefined) throw new Error(`the ${spec.name} cluster has no EXTERNAL listener: set ${spec.configKey}.externalBasePort in ${spec.portsDefinedIn}`);
  return port;
}

/** The listeners of node `id` whose certificate is replaceable: EXTERNAL, and PODS (layout.ts `podNetwork`) serving the same one. */
function replaceableListeners(spec: LocalKafkaSpec, id: number): Array<{ name: string; port: number; keystoreLocation: string }> {
  const pods = nodeLayout(spec, id).podNetworkPort;
  return [
    { name: 'EXTERNAL', port: externalPortOf(spec, id), keystoreLocation: 'listener.name.external.ssl.keystore.location' },
    ...(pods !== undefined ? [{ name: 'PODS', port: pods, keystoreLocation: 'listener.name.pods.ssl.keystore.location' }] : []),
  ];
}

/** `127.0.0.1:<port>` of every node's EXTERNAL listener. */
export function externalAddresses(spec: LocalKafkaSpec): string[] {
  return allNodes(spec).map((n) => `127.0.0.1:${externalPortOf(spec, n.id)}`);
}

/**
 * Undefined when every node serves its EXTERNAL (and PODS, if configured) listener, else what is
 * wrong and the fix (a cluster started before a listener existed has none until it restarts).
 */
export async function externalListenerProblem(spec: LocalKafkaSpec): Promise<string | undefined> {
  const missing: string[] = [];
  for (const node of allNodes(spec)) {
    for (const l of replaceableListeners(spec, node.id)) if (!(await isListening(l.port))) missing.push(`node ${node.id} ${l.name} (port ${l.port})`);
  }
  if (missing.length === 0) return undefined;
  return `the ${spec.name} cluster has no listener on ${missing.join(', ')}: it was started without one; restart it (npm run kafka:down && npm run kafka:up)`;
}

/** SHA-256 fingerprint (`AA:BB:...`) of the certificate a TLS port presents, unverified. */
export function servedCertificateFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, timeout: 5000 }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('timeout', () => socket.destroy(new Error(`no TLS handshake on 127.0.0.1:${port} in 5 s`)));
    socket.on('error', reject);
  });
}

/**
 * Serves `keystore` (PKCS12, protected with the cluster's keystore password, see
 * `brokerTlsPassword`) on node `id`'s EXTERNAL listener; undefined goes back to the cluster's
 * own certificate. Kafka checks the file before it answers (a keystore it cannot use is
 * refused with its error, nothing changes) but applies the change later, from the metadata
 * log: with `fingerprint` (SHA-256 of the certificate in `keystore`, `AA:BB:...`), this waits
 * until the listener presents it.
 */
export async function serveExternalKeystore(spec: LocalKafkaSpec, id: number, keystore: string | undefined, fingerprint?: string, timeoutMs = 60_000): Promise<void> {
  const listeners = replaceableListeners(spec, id);
  const keys = listeners.map((l) => l.keystoreLocation);
  const admin = ['--bootstrap-server', allNodes(spec).map((n) => `127.0.0.1:${n.clientPort}`).join(','), '--entity-type', 'brokers', '--entity-name', String(id), '--alter'];
  await runKafkaTool(
    KafkaTools.configs,
    keystore === undefined ? [...admin, '--delete-config', keys.join(',')] : [...admin, '--add-config', keys.map((k) => `${k}=${keystore}`).join(',')],
  );
  if (fingerprint === undefined) return;
  const deadline = Date.now() + timeoutMs;
  for (const l of listeners) {
    let served = '';
    while (served !== fingerprint) {
      if (Date.now() > deadline) throw new Error(`node ${id} of the ${spec.name} cluster still presents ${served} on its ${l.name} listener ${timeoutMs / 1000}s after its keystore was set to ${keystore}`);
      served = await servedCertificateFingerprint(l.port).catch((err: Error) => err.message);
      if (served !== fingerprint) await sleep(250);
    }
  }
}

/** The password every keystore served on the EXTERNAL listener must have (the listener's static one). */
export async function brokerTlsPassword(spec: LocalKafkaSpec): Promise<string> {
  // The cluster's TLS material exists once it has started; this only reads it then.
  return (await ensureTls(spec, () => undefined)).password;
}
