import { ClusterDnsConfig } from '../config';

/** A NetworkPolicy egress peer, as the kubernetes provider's `network_policy_v1` takes it. */
export type DnsPeer =
  | { readonly namespaceSelector: { readonly matchLabels: Readonly<Record<string, string>> }; readonly podSelector: { readonly matchLabels: Readonly<Record<string, string>> } }
  | { readonly ipBlock: { readonly cidr: string } };

/** The label every cluster DNS deployment keeps for compatibility: CoreDNS (EKS, kind, minikube) and kube-dns (GKE). */
export const KUBE_DNS_POD_LABELS = { 'k8s-app': 'kube-dns' } as const;

/**
 * Where DNS egress must be allowed for the environment's resolver. A pod's queries go to the
 * kube-dns Service address, which kube-proxy translates to the DNS pods (matched by labels);
 * NodeLocal DNSCache and GKE's Cloud DNS answer on link-local addresses instead, which only an
 * ipBlock admits (a rule naming pods never matches them).
 */
export function dnsEgressPeers(dns: ClusterDnsConfig): DnsPeer[] {
  return [
    ...(dns.kubeDnsPods ? [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { ...KUBE_DNS_POD_LABELS } } }] : []),
    ...dns.addresses.map((cidr) => ({ ipBlock: { cidr } })),
  ];
}
