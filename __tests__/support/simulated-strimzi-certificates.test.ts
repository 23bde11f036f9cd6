import * as fs from 'fs';
import * as tls from 'tls';
import { AddressInfo } from 'net';
import { environments } from '../../config';
import { buildKafka, buildNodePools } from '../../modules/kafka-cluster/kafka';
import { KubeObject } from '../../tools/local/kubernetes';
import { SimulatedClusterCa } from './simulated-strimzi/certificates';
import { certificateNames, poolNodes } from './simulated-strimzi/model';

/**
 * The certificates the simulated operator issues, presented by a TLS server on 127.0.0.1 to a
 * client that verifies host names (Node's, as the Kafka provider's Go client does): with
 * Strimzi's NodePort defaults no node address is named and the handshake fails; with dev's
 * listener (an advertised host) it succeeds.
 */

function devKafka(listener?: object): { kafka: KubeObject; pools: KubeObject[] } {
  const spec = { namespace: 'kafka', kafka: environments.dev.kafka, adminUser: 'kafka-admin', metricsConfig: { name: 'm', key: 'k' } };
  const kafka = JSON.parse(JSON.stringify(buildKafka(spec))) as KubeObject;
  if (listener) kafka.spec.kafka.listeners[1] = listener;
  return { kafka, pools: JSON.parse(JSON.stringify(buildNodePools(spec))) as KubeObject[] };
}

const ca = new SimulatedClusterCa();
afterAll(() => ca.remove());

/** Serves the broker certificate of node 0 on 127.0.0.1 and connects to it, verifying it as `host`; the client's error, or 'verified'. */
async function handshake(kafka: KubeObject, pools: KubeObject[], host: string): Promise<string> {
  const node = poolNodes('platform', pools)[0];
  const { certificate } = await ca.issue(node.podName, 'platform-kafka', certificateNames(kafka, node), 'storepass-for-tests');
  const server = tls.createServer({ cert: fs.readFileSync(certificate), key: fs.readFileSync(certificate.replace(/\.crt$/, '.key')) }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise<string>((resolve) => {
      const dns = !/^\d/.test(host);
      const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.caCert, ...(dns ? { servername: host } : {}), checkServerIdentity: (_h, cert) => tls.checkServerIdentity(host, cert) }, () => {
        socket.end();
        resolve('verified');
      });
      socket.on('error', (err) => resolve(err.message));
    });
  } finally {
    server.close();
  }
}

describe('broker certificates of the simulated operator', () => {
  it('name no node address for a NodePort listener with Strimzi’s defaults: a client dialling the node fails host-name verification', async () => {
    const { kafka, pools } = devKafka({ name: 'external', port: 9094, type: 'nodeport', tls: true, authentication: { type: 'scram-sha-512' } });
    expect(await handshake(kafka, pools, '127.0.0.1')).toBe("Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ");
  }, 60_000);

  it('name dev’s advertised host, so the same client verifies it', async () => {
    const { kafka, pools } = devKafka();
    expect(environments.dev.kafka.nodePort?.advertisedHost).toBe('127.0.0.1');
    expect(await handshake(kafka, pools, '127.0.0.1')).toBe('verified');
  }, 60_000);

  it('name the in-cluster bootstrap Service for the workloads in every case', async () => {
    const { kafka, pools } = devKafka();
    expect(await handshake(kafka, pools, 'platform-kafka-bootstrap.kafka.svc')).toBe('verified');
  }, 60_000);
});
