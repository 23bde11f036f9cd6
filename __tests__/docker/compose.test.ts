import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { versions } from '../../config';
import { PROJECT_ROOT } from '../../tools/paths';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Service = Record<string, any>;
const COMPOSE = path.join(PROJECT_ROOT, 'docker', 'compose.yaml');
// Compose resolves YAML merge keys (<<); so does the parser here.
const compose = parse(fs.readFileSync(COMPOSE, 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const KAFKA_NODES = ['kafka-1', 'kafka-2', 'kafka-3'];

describe('docker/compose.yaml', () => {
  test('runs a three-node KRaft cluster on the official image of the pinned Kafka version', () => {
    const [repository, tag] = versions.images.kafka.split(':');
    expect(repository).toBe('apache/kafka');
    expect(tag).toBe(versions.kafka.version);
    for (const [i, name] of KAFKA_NODES.entries()) {
      const node = services[name];
      expect(node.image).toBe(versions.images.kafka);
      expect(node.environment).toMatchObject({
        KAFKA_NODE_ID: String(i + 1),
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093',
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${name}:9092`,
        KAFKA_MIN_INSYNC_REPLICAS: '2',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      });
      expect(node.healthcheck.test[0]).toBe('CMD');
      expect(node.volumes).toEqual([`${name}-data:/var/lib/kafka/data`]);
      expect(compose.volumes).toHaveProperty(`${name}-data`);
    }
    expect(new Set(KAFKA_NODES.map((n) => services[n].environment.CLUSTER_ID)).size).toBe(1);
  });

  test('a one-shot container creates posts (RF 3, min.insync.replicas 2) and posts.dlq once all nodes are healthy', () => {
    const init = services['kafka-init'];
    expect(init.image).toBe(versions.images.kafka);
    expect(init.restart).toBe('no');
    expect(init.depends_on).toEqual(Object.fromEntries(KAFKA_NODES.map((n) => [n, { condition: 'service_healthy' }])));
    const script = (init.command as string[]).join(' ');
    expect(script).toMatch(/--create --if-not-exists --topic posts --partitions 6 --replication-factor 3\s+--config min\.insync\.replicas=2/);
    expect(script).toMatch(/--create --if-not-exists --topic posts\.dlq --partitions \d+ --replication-factor 3\s+--config min\.insync\.replicas=2/);
  });

  test.each(['producer', 'consumer'])('the %s is built from the services Dockerfile and runs hardened', (name) => {
    const s = services[name];
    expect(s.build).toEqual({ context: '..', dockerfile: 'docker/services.Dockerfile', target: name });
    expect(s.image).toBe(`kafka-platform-${name}:${versions.images.services}`);
    expect(s).toMatchObject({ user: '65532:65532', read_only: true, cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] });
    expect(s.tmpfs).toEqual([expect.stringMatching(/^\/tmp\b/)]);
    expect(s.healthcheck.test).toEqual(['CMD', '/nodejs/bin/node', '/app/services/shared/healthcheck.js', '/readyz']);
    expect(s.environment.KAFKA_BROKERS).toBe('kafka-1:9092,kafka-2:9092,kafka-3:9092');
    expect(s.depends_on['kafka-init']).toEqual({ condition: 'service_completed_successfully' });
  });

  test('the producer starts once the consumer is healthy and runs once', () => {
    expect(services.producer.depends_on.consumer).toEqual({ condition: 'service_healthy' });
    expect(services.producer.restart).toBe('no');
    expect(services.producer.environment).toMatchObject({ MESSAGE_COUNT: expect.stringMatching(/^\d+$/), KAFKA_TOPIC: 'posts' });
    expect(services.consumer.environment).toMatchObject({ KAFKA_TOPIC: 'posts', KAFKA_DLQ_TOPIC: 'posts.dlq' });
  });

  test('every service has a healthcheck or is a one-shot, and no image is latest or untagged', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.restart !== 'no' || name === 'producer') expect(s.healthcheck).toBeDefined();
      expect(s.image).toMatch(/:[^:]+$/);
      expect(s.image).not.toMatch(/:latest$/);
    }
    expect(fs.readFileSync(COMPOSE, 'utf8')).not.toMatch(/:latest\b/);
  });
});
