import { PROJECT_ROOT } from '../../../tools/paths';
import * as path from 'path';
import * as fs from 'fs';
import { environments } from '../../../config';
import {
  BROKER_CONFIG,
  KafkaClusterSpec,
  buildKafka,
  buildNodePools,
  internalBootstrapAddress,
  clusterCaCertSecretName,
} from '../../../modules/kafka-cluster';
import { validateCustomResource } from '../../support/schemas';

const specFor = (name: 'dev' | 'prod'): KafkaClusterSpec => ({
  namespace: 'kafka',
  kafka: environments[name].kafka,
  adminUser: 'kafka-admin',
  metricsConfig: { name: 'platform-kafka-metrics', key: 'kafka-metrics-config.yaml' },
});

describe.each(['dev', 'prod'] as const)('the %s cluster resources', (name) => {
  const spec = specFor(name);
  const env = environments[name].kafka;

  it('validate against the Strimzi CRDs', () => {
    expect(validateCustomResource(buildKafka(spec))).toEqual([]);
    for (const pool of buildNodePools(spec)) expect(validateCustomResource(pool)).toEqual([]);
  });

  it('run the configured Kafka and metadata versions', () => {
    const kafka = buildKafka(spec).spec.kafka;
    expect(kafka.version).toBe(env.version);
    expect(kafka.metadataVersion).toBe(env.metadataVersion);
  });

  it('listen with TLS + SCRAM inside the cluster and on the environment external listener', () => {
    const kafka = buildKafka(spec).spec.kafka;
    expect(kafka.listeners.map(({ configuration: _c, ...l }) => l)).toEqual([
      { name: 'tls', port: 9093, type: 'internal', tls: true, authentication: { type: 'scram-sha-512' } },
      // Who may reach it: external-access.test.ts.
      expect.objectContaining({ name: 'external', port: 9094, type: env.externalListener, tls: true, authentication: { type: 'scram-sha-512' } }),
    ]);
    expect(kafka.authorization).toEqual({ type: 'simple', superUsers: ['kafka-admin'] });
  });

  it('advertise, on a NodePort listener, the configured host on fixed node ports, so every broker certificate names it', () => {
    const external = buildKafka(spec).spec.kafka.listeners[1];
    // A load balancer listener has no node ports or advertised host, only its source ranges (external-access.test.ts).
    if (env.externalListener !== 'nodeport') return expect(Object.keys(external.configuration ?? {})).toEqual(['loadBalancerSourceRanges']);
    expect(external.configuration).toEqual({
      bootstrap: { nodePort: 31092 },
      brokers: [{ broker: 0, nodePort: 31093 }, { broker: 1, nodePort: 31094 }, { broker: 2, nodePort: 31095 }],
      advertisedHostTemplate: '127.0.0.1',
    });
    expect(buildKafka({ ...spec, externalAdvertisedHost: 'kafka.dev.example' }).spec.kafka.listeners[1].configuration?.advertisedHostTemplate).toBe('kafka.dev.example');
  });

  it('make writes durable and topic creation deliberate', () => {
    expect(buildKafka(spec).spec.kafka.config).toMatchObject({
      'default.replication.factor': 3,
      'min.insync.replicas': 2,
      'auto.create.topics.enable': false,
      'unclean.leader.election.enable': false,
      'offsets.topic.replication.factor': 3,
      'transaction.state.log.replication.factor': 3,
    });
  });

  it('are rack aware, spread each pool over zones and nodes, and allow one disruption at a time', () => {
    const kafka = buildKafka(spec);
    expect(kafka.spec.kafka.rack).toEqual({ topologyKey: 'topology.kubernetes.io/zone' });
    expect(kafka.spec.kafka.template.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
    for (const pool of buildNodePools(spec)) {
      const constraints = pool.spec.template.pod.topologySpreadConstraints;
      expect(constraints.map((c) => c.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
      for (const c of constraints) {
        expect(c).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' });
        expect(c.labelSelector.matchLabels).toEqual({ 'strimzi.io/cluster': 'platform', 'strimzi.io/pool-name': pool.metadata.name });
      }
    }
  });

  it('keep data on persistent claims of the configured size and class', () => {
    for (const pool of buildNodePools(spec)) {
      expect(pool.spec.storage.type).toBe('jbod');
      const [volume] = pool.spec.storage.volumes;
      expect(volume).toMatchObject({ type: 'persistent-claim', deleteClaim: false, kraftMetadata: 'shared' });
      expect(volume.class).toBe(env.storageClass);
      const isControllerOnly = !pool.spec.roles.includes('broker');
      expect(volume.size).toBe(isControllerOnly ? env.controllerStorageSize ?? env.storageSize : env.storageSize);
    }
  });

  it('give every component requests and limits from the environment', () => {
    const kafka = buildKafka(spec).spec;
    expect(kafka.entityOperator.userOperator.resources).toEqual(env.resources.userOperator);
    expect(kafka.kafkaExporter.resources).toEqual(env.resources.kafkaExporter);
    expect(kafka.cruiseControl?.resources).toEqual(env.cruiseControl ? env.resources.cruiseControl : undefined);
    for (const pool of buildNodePools(spec)) {
      const expected = pool.spec.roles.includes('broker') ? env.resources.brokers : env.resources.controllers;
      expect(pool.spec.resources).toEqual(expected);
    }
  });

  it('export JMX metrics from the ConfigMap and run Kafka Exporter', () => {
    const kafka = buildKafka(spec).spec;
    expect(kafka.kafka.metricsConfig).toEqual({
      type: 'jmxPrometheusExporter',
      valueFrom: { configMapKeyRef: { name: 'platform-kafka-metrics', key: 'kafka-metrics-config.yaml' } },
    });
    expect(kafka.kafkaExporter).toMatchObject({ topicRegex: '.*', groupRegex: '.*' });
  });
});

describe('node pools', () => {
  it('are 3 dedicated controllers and 3 brokers in prod, with stable node ids', () => {
    const pools = buildNodePools(specFor('prod'));
    expect(pools.map((p) => [p.metadata.name, p.spec.roles, p.spec.replicas])).toEqual([
      ['controllers', ['controller'], 3],
      ['brokers', ['broker'], 3],
    ]);
    expect(pools.map((p) => p.metadata.annotations?.['strimzi.io/next-node-ids'])).toEqual(['[100-199]', '[0-99]']);
    for (const p of pools) expect(p.metadata.labels?.['strimzi.io/cluster']).toBe('platform');
  });

  it('are one pool of 3 combined-role nodes in dev', () => {
    const pools = buildNodePools(specFor('dev'));
    expect(pools.map((p) => [p.metadata.name, p.spec.roles, p.spec.replicas])).toEqual([['combined', ['controller', 'broker'], 3]]);
  });

  it('leave the storage class out when the environment uses the cluster default', () => {
    const [volume] = buildNodePools(specFor('dev'))[0].spec.storage.volumes;
    expect(Object.keys(volume)).not.toContain('class');
  });
});

describe('Cruise Control', () => {
  it('runs in prod only', () => {
    expect(buildKafka(specFor('prod')).spec.cruiseControl).toBeDefined();
    expect(buildKafka(specFor('dev')).spec).not.toHaveProperty('cruiseControl');
  });
});

describe('an environment without an external listener', () => {
  it('has only the internal TLS listener', () => {
    const spec = { ...specFor('dev'), kafka: { ...environments.dev.kafka, externalListener: 'none' as const } };
    expect(buildKafka(spec).spec.kafka.listeners.map((l) => l.name)).toEqual(['tls']);
  });
});

describe('the CRD validator', () => {
  it('reports an unknown field with its path', () => {
    const kafka = buildKafka(specFor('prod'));
    const mutated = { ...kafka, spec: { ...kafka.spec, kafka: { ...kafka.spec.kafka, replicas: 3 } } };
    expect(validateCustomResource(mutated)).toEqual([expect.stringMatching(/^\/spec\/kafka .*unknown field "replicas"/)]);
  });

  it('reports a value outside an enum with its path', () => {
    const [pool] = buildNodePools(specFor('dev'));
    const mutated = { ...pool, spec: { ...pool.spec, roles: ['broker', 'zookeeper'] } };
    expect(validateCustomResource(mutated)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/spec\/roles\/1 must be equal to one of the allowed values/)]));
  });

  it('reports a missing required field', () => {
    const kafka = buildKafka(specFor('dev'));
    const { listeners: _omitted, ...withoutListeners } = kafka.spec.kafka;
    const mutated = { ...kafka, spec: { ...kafka.spec, kafka: withoutListeners } };
    expect(validateCustomResource(mutated)).toEqual([expect.stringMatching(/^\/spec\/kafka must have required property 'listeners'/)]);
  });
});

describe('well-known names', () => {
  it('follow Strimzi naming of the bootstrap service and the cluster CA Secret', () => {
    expect(internalBootstrapAddress('platform', 'kafka')).toBe('platform-kafka-bootstrap.kafka.svc:9093');
    expect(clusterCaCertSecretName('platform')).toBe('platform-cluster-ca-cert');
  });

  it('keeps broker defaults in one exported object', () => {
    expect(BROKER_CONFIG['min.insync.replicas']).toBeLessThan(BROKER_CONFIG['default.replication.factor']);
  });

  it('sets no rack-aware replica selector, which acts only for clients that send a rack, while no service sets one', () => {
    // kafkajs sends a rack only when a consumer is given `rackId`.
    const servicesSource = ['services/shared', 'services/consumer', 'services/producer']
      .flatMap((dir) => fs.readdirSync(path.join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(PROJECT_ROOT, dir, f)))
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    const clientsSendRack = /\brackId\b/.test(servicesSource);
    expect({ selector: (BROKER_CONFIG as Record<string, unknown>)['replica.selector.class'] ?? 'none', clientsSendRack }).toEqual({ selector: 'none', clientsSendRack: false });
  });
});
