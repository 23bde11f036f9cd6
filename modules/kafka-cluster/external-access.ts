import { ExternalAccessConfig, KafkaClusterConfig, KubernetesPlatform, ListenerPeer } from '../../config';

/**
 * How the external listener's Services are exposed on each cloud. A LoadBalancer Service is
 * internet-facing by default on EKS and GKE; these annotations make it internal (or say
 * explicitly that it is public).
 *
 * - EKS: `aws-load-balancer-scheme` is read by the AWS Load Balancer Controller (and EKS Auto
 *   Mode); `aws-load-balancer-internal` by the in-tree cloud provider, which ignores the former.
 * - GKE: `networking.gke.io/load-balancer-type: Internal` makes an internal passthrough Network
 *   Load Balancer; `cloud.google.com/l4-rbs` a backend-service-based external one.
 */
export const LOAD_BALANCER_ANNOTATIONS: Readonly<Record<KubernetesPlatform, Readonly<Record<ExternalAccessConfig['exposure'], Readonly<Record<string, string>>>>>> = {
  eks: {
    private: {
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
      'service.beta.kubernetes.io/aws-load-balancer-internal': 'true',
    },
    public: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing' },
  },
  gke: {
    private: { 'networking.gke.io/load-balancer-type': 'Internal' },
    public: { 'cloud.google.com/l4-rbs': 'enabled' },
  },
  // No annotation is known to make a generic cluster's load balancer internal: the config
  // checks refuse `private` there (config/environment-checks.ts).
  generic: { private: {}, public: {} },
};

/** A Strimzi `networkPolicyPeers` entry. */
export type NetworkPolicyPeer =
  | { readonly ipBlock: { readonly cidr: string } }
  | { readonly namespaceSelector: { readonly matchLabels: Readonly<Record<string, string>> }; readonly podSelector?: { readonly matchLabels: Readonly<Record<string, string>> } };

/** A config peer as Strimzi takes it; namespaces by their immutable name label. */
export function networkPolicyPeer(peer: ListenerPeer): NetworkPolicyPeer {
  if ('cidr' in peer) return { ipBlock: { cidr: peer.cidr } };
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': peer.namespace } },
    ...(peer.podLabels ? { podSelector: { matchLabels: { ...peer.podLabels } } } : {}),
  };
}

/** What the external listener gets beyond its name, port, type and authentication. */
export interface ExternalListenerAccess {
  readonly configuration?: { readonly loadBalancerSourceRanges: readonly string[] };
  readonly networkPolicyPeers?: readonly NetworkPolicyPeer[];
}

/** The listener's source ranges (load balancers only) and its NetworkPolicy peers, from the config. */
export function externalListenerAccess(kafka: KafkaClusterConfig): ExternalListenerAccess {
  const access = kafka.externalAccess;
  if (!access || kafka.externalListener === 'none') return {};
  return {
    ...(kafka.externalListener === 'loadbalancer' && access.sourceRanges.length > 0 ? { configuration: { loadBalancerSourceRanges: [...access.sourceRanges] } } : {}),
    ...(access.peers.length > 0 ? { networkPolicyPeers: access.peers.map(networkPolicyPeer) } : {}),
  };
}

/** Metadata of a Service template of the Kafka resource. */
export interface ServiceTemplate {
  readonly metadata: { readonly annotations: Readonly<Record<string, string>> };
}

/**
 * The Kafka resource's templates for the external bootstrap Service and the per-broker
 * Services, carrying the cloud's load balancer annotations; none unless a load balancer.
 */
export function externalServiceTemplates(kafka: KafkaClusterConfig, platform: KubernetesPlatform): { externalBootstrapService?: ServiceTemplate; perPodService?: ServiceTemplate } {
  if (kafka.externalListener !== 'loadbalancer' || !kafka.externalAccess) return {};
  const annotations = LOAD_BALANCER_ANNOTATIONS[platform][kafka.externalAccess.exposure];
  if (Object.keys(annotations).length === 0) return {};
  const template = { metadata: { annotations: { ...annotations } } };
  return { externalBootstrapService: template, perPodService: template };
}
