import { EnvironmentConfig, KafkaClusterConfig, KubernetesPlatform, environments } from '../../../config';
import { buildKafka, KafkaClusterSpec, LOAD_BALANCER_ANNOTATIONS } from '../../../modules/kafka-cluster';
import { validateCustomResource } from '../../support/schemas';
import { resourcesOf, synthEnvironment } from '../../support/synth';

/**
 * The external listener as each cloud sees it. A LoadBalancer Service is internet-facing by
 * default on EKS and on GKE; what makes it internal is an annotation the cloud's load balancer
 * controller reads, so these tests check what the project writes into the Kafka resource (which
 * Strimzi copies onto the Services), validated against the real CRD.
 */

const spec = (kafka: KafkaClusterConfig, platform: KubernetesPlatform): KafkaClusterSpec => ({
  namespace: 'kafka',
  kafka,
  adminUser: 'kafka-admin',
  metricsConfig: { name: 'platform-kafka-metrics', key: 'kafka-metrics-config.yaml' },
  platform,
});
const prod: EnvironmentConfig = environments.prod;
const external = (kafka: ReturnType<typeof buildKafka>) => kafka.spec.kafka.listeners.find((l) => l.name === 'external')!;
const serviceAnnotations = (kafka: ReturnType<typeof buildKafka>) => [
  kafka.spec.kafka.template.externalBootstrapService?.metadata.annotations,
  kafka.spec.kafka.template.perPodService?.metadata.annotations,
];

describe('the external listener of prod', () => {
  it('is private by default: a load balancer listener with source ranges and NetworkPolicy peers', () => {
    expect(prod.kafka.externalListener).toBe('loadbalancer');
    expect(prod.kafka.externalAccess?.exposure).toBe('private');
    const listener = external(buildKafka(spec(prod.kafka, prod.kubernetes!.platform)));
    expect(listener.configuration).toEqual({ loadBalancerSourceRanges: ['10.0.0.0/8'] });
    expect(listener.networkPolicyPeers).toEqual([{ ipBlock: { cidr: '10.0.0.0/8' } }]);
  });

  it('on EKS gets an internal load balancer for the bootstrap and every broker Service', () => {
    const kafka = buildKafka(spec(prod.kafka, 'eks'));
    expect(validateCustomResource(kafka)).toEqual([]);
    for (const annotations of serviceAnnotations(kafka)) {
      expect(annotations).toEqual({
        'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
        'service.beta.kubernetes.io/aws-load-balancer-internal': 'true',
      });
    }
  });

  it('on GKE gets an internal passthrough Network Load Balancer', () => {
    const kafka = buildKafka(spec(prod.kafka, 'gke'));
    expect(validateCustomResource(kafka)).toEqual([]);
    for (const annotations of serviceAnnotations(kafka)) expect(annotations).toEqual({ 'networking.gke.io/load-balancer-type': 'Internal' });
  });

  it('is public only when the config says so, and then still limited to its source ranges', () => {
    const publicKafka: KafkaClusterConfig = { ...prod.kafka, externalAccess: { exposure: 'public', sourceRanges: ['203.0.113.0/24'], peers: [{ cidr: '203.0.113.0/24' }] } };
    for (const platform of ['eks', 'gke'] as const) {
      const kafka = buildKafka(spec(publicKafka, platform));
      expect(validateCustomResource(kafka)).toEqual([]);
      for (const annotations of serviceAnnotations(kafka)) expect(annotations).toEqual(LOAD_BALANCER_ANNOTATIONS[platform].public);
      expect(external(kafka).configuration).toEqual({ loadBalancerSourceRanges: ['203.0.113.0/24'] });
    }
    // Neither cloud's internal annotation is left on a public load balancer.
    for (const platform of ['eks', 'gke'] as const) {
      for (const annotations of serviceAnnotations(buildKafka(spec(publicKafka, platform)))) expect(Object.values(annotations ?? {})).not.toContainEqual(expect.stringMatching(/^(internal|Internal|true)$/));
    }
  });

  it('admits namespaces and pods as peers by their name label', () => {
    const kafka: KafkaClusterConfig = { ...prod.kafka, externalAccess: { ...prod.kafka.externalAccess!, peers: [{ namespace: 'ci', podLabels: { app: 'runner' } }] } };
    const built = buildKafka(spec(kafka, 'eks'));
    expect(validateCustomResource(built)).toEqual([]);
    expect(external(built).networkPolicyPeers).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ci' } }, podSelector: { matchLabels: { app: 'runner' } } },
    ]);
  });
});

describe('the external listener of dev (NodePort)', () => {
  it('gets no load balancer annotations or source ranges', () => {
    const kafka = buildKafka(spec(environments.dev.kafka, environments.dev.kubernetes!.platform));
    expect(serviceAnnotations(kafka)).toEqual([undefined, undefined]);
    expect(external(kafka)).toEqual({
      name: 'external',
      port: 9094,
      type: 'nodeport',
      tls: true,
      authentication: { type: 'scram-sha-512' },
      // Only the NodePort addresses: no source ranges, and dev sets no peers.
      configuration: {
        bootstrap: { nodePort: 31092 },
        brokers: [{ broker: 0, nodePort: 31093 }, { broker: 1, nodePort: 31094 }, { broker: 2, nodePort: 31095 }],
        advertisedHostTemplate: '127.0.0.1',
      },
    });
  });

  it('keeps its node ports and advertised host when peers restrict it, and gets no source ranges', () => {
    const kafka: KafkaClusterConfig = { ...environments.dev.kafka, externalAccess: { exposure: 'private', sourceRanges: ['10.0.0.0/8'], peers: [{ cidr: '192.168.0.0/16' }] } };
    const built = buildKafka(spec(kafka, 'generic'));
    expect(validateCustomResource(built)).toEqual([]);
    expect(external(built).networkPolicyPeers).toEqual([{ ipBlock: { cidr: '192.168.0.0/16' } }]);
    expect(external(built).configuration).toEqual({
      bootstrap: { nodePort: 31092 },
      brokers: [{ broker: 0, nodePort: 31093 }, { broker: 1, nodePort: 31094 }, { broker: 2, nodePort: 31095 }],
      advertisedHostTemplate: '127.0.0.1',
    });
  });
});

describe('prod’s synthesized kafka-stack', () => {
  it('carries the internal load balancer, the source ranges and the peers into the Kafka resource it applies', () => {
    const kafka = resourcesOf(synthEnvironment('prod').stacks['kafka-stack'], 'kubernetes_manifest').kafka.manifest;
    expect(validateCustomResource(kafka)).toEqual([]);
    expect(kafka.spec.kafka.template.externalBootstrapService.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-scheme']).toBe('internal');
    expect(kafka.spec.kafka.template.perPodService.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-scheme']).toBe('internal');
    const listener = kafka.spec.kafka.listeners.find((l: { name: string }) => l.name === 'external');
    expect(listener).toMatchObject({ type: 'loadbalancer', configuration: { loadBalancerSourceRanges: ['10.0.0.0/8'] }, networkPolicyPeers: [{ ipBlock: { cidr: '10.0.0.0/8' } }] });
  });
});
