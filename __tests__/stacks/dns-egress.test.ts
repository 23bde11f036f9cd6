import { environments } from '../../config';
import { dnsEgressPeers } from '../../modules/cluster-dns';
import { TerraformJson, resourcesOf, synthEnvironment } from '../support/synth';

/**
 * The services resolve the Kafka bootstrap name before anything else: a DNS policy that misses
 * the cluster's resolver stops them at start. Where the resolver answers is the cloud's (kube-dns
 * pods, NodeLocal DNSCache on 169.254.20.10, GKE Cloud DNS on 169.254.169.254), so this checks
 * what the project writes, per environment.
 */

const allowDns = (environment: 'dev' | 'prod'): TerraformJson => {
  const stack = synthEnvironment(environment).stacks['workloads-stack'];
  const policy = Object.values(resourcesOf(stack, 'kubernetes_network_policy_v1')).find((p) => p.metadata.name === 'allow-dns')!;
  return policy.spec.egress[0];
};
const KUBE_DNS = { namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'kube-system' } }, pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } } };
const DNS_PORTS = [
  { port: '53', protocol: 'UDP' },
  { port: '53', protocol: 'TCP' },
];

describe('DNS egress of the workloads', () => {
  test('prod admits the kube-dns pods and NodeLocal DNSCache on port 53 only', () => {
    expect(environments.prod.kubernetes!.dns.addresses).toContain('169.254.20.10/32');
    expect(allowDns('prod')).toEqual({ to: [KUBE_DNS, { ip_block: { cidr: '169.254.20.10/32' } }], ports: DNS_PORTS });
  });

  test('dev admits the kube-dns pods (kind and minikube run CoreDNS under that label)', () => {
    expect(allowDns('dev')).toEqual({ to: [KUBE_DNS], ports: DNS_PORTS });
  });

  test('an environment on GKE Cloud DNS lists its address and may drop the pods', () => {
    expect(dnsEgressPeers({ kubeDnsPods: false, addresses: ['169.254.169.254/32'] })).toEqual([{ ipBlock: { cidr: '169.254.169.254/32' } }]);
  });
});
