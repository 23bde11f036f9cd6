import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { clusterCaCertSecretName } from '../../modules/kafka-cluster/kafka';
import { KubeApi, resourcePath } from '../../tools/local/kubernetes';

/** The annotation Strimzi bumps on the CA Secrets with each new CA certificate. */
export const CA_CERT_GENERATION = 'strimzi.io/ca-cert-generation';

/**
 * A SIMULATION of what the Strimzi Cluster Operator writes when it renews the cluster CA (it
 * does so on entering the renewal window, 30 days before the 365-day certificate expires): a
 * new certificate in `ca.crt` of `<cluster>-cluster-ca-cert` and the next
 * `strimzi.io/ca-cert-generation`. The brokers' own roll is not simulated (kwok runs none), nor
 * the Kafka resource's status, whose listener certificate kafka-stack's Kafka provider trusts
 * for the local cluster. Returns the new certificate (PEM).
 */
export async function renewClusterCa(api: KubeApi, namespace: string, cluster: string): Promise<string> {
  const secretPath = resourcePath('', 'v1', 'secrets', clusterCaCertSecretName(cluster), namespace);
  const secret = await api.get(secretPath);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-renewal-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '365',
      '-subj', '/O=io.strimzi/CN=cluster-ca v1', '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.crt'),
    ], { stdio: 'ignore' });
    const pem = fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const generation = Number(secret.metadata.annotations?.[CA_CERT_GENERATION] ?? '0') + 1;
    await api.apply(secretPath, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secret.metadata.name, namespace, annotations: { [CA_CERT_GENERATION]: String(generation) } },
      data: { ...secret.data, 'ca.crt': Buffer.from(pem).toString('base64') },
    });
    return pem;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
