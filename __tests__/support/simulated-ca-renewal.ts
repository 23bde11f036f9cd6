import { clusterCaCertSecretName } from '../../modules/kafka-cluster/kafka';
import { KubeApi, resourcePath } from '../../tools/local/kubernetes';
import { SimulatedClusterCa } from './simulated-strimzi/certificates';

/** The annotation Strimzi bumps on the CA Secrets with each new CA certificate. */
export const CA_CERT_GENERATION = 'strimzi.io/ca-cert-generation';

/**
 * A SIMULATION of what the Strimzi Cluster Operator writes when it renews the cluster CA (it
 * does so on entering the renewal window, 30 days before the 365-day certificate expires): a
 * new certificate for the same key in `ca.crt` of `<cluster>-cluster-ca-cert` and the next
 * `strimzi.io/ca-cert-generation`. The brokers keep serving the certificates signed before,
 * which verify against the renewed one (same key and subject); their roll is not simulated, nor
 * the Kafka resource's status, whose listener certificate kafka-stack's Kafka provider trusts.
 * Returns the new certificate (PEM).
 */
export async function renewClusterCa(api: KubeApi, namespace: string, cluster: string, ca: SimulatedClusterCa): Promise<string> {
  const secretPath = resourcePath('', 'v1', 'secrets', clusterCaCertSecretName(cluster), namespace);
  const secret = await api.get(secretPath);
  const pem = ca.renew();
  const generation = Number(secret.metadata.annotations?.[CA_CERT_GENERATION] ?? '0') + 1;
  await api.apply(secretPath, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secret.metadata.name, namespace, annotations: { [CA_CERT_GENERATION]: String(generation) } },
    data: { ...secret.data, 'ca.crt': Buffer.from(pem).toString('base64') },
  });
  return pem;
}
