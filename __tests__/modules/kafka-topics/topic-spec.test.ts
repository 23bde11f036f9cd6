import { App, TerraformStack } from 'cdktf';
import { KafkaProvider } from '../../../.gen/providers/kafka/provider';
import { platformTopics } from '../../../config/topics';
import { KAFKA_TOPIC_CONFIG_KEYS, KafkaTopics, TopicSpec, TopicSpecError, topicProblems } from '../../../modules/kafka-topics';
import { KafkaTools, runKafkaTool } from '../../../tools/kafka-tool';
import { bootstrapServers, uniqueName } from '../../support/kafka';

const valid: TopicSpec = { name: 'orders', partitions: 3, replicationFactor: 3, config: { 'min.insync.replicas': '2' } };
const problemsOf = (overrides: Partial<TopicSpec>, brokers = 3) => topicProblems([{ ...valid, ...overrides }], brokers);

describe('topicProblems', () => {
  it('accepts the platform topics', () => {
    expect(topicProblems(platformTopics(3), 3)).toEqual([]);
  });

  it('refuses a replication factor above the broker count, naming the topic and the fix', () => {
    expect(problemsOf({ replicationFactor: 4 })).toEqual(['topic "orders": replication factor 4 exceeds the 3 brokers; lower it or add brokers']);
  });

  it('refuses min.insync.replicas equal to or above the replication factor', () => {
    expect(problemsOf({ config: { 'min.insync.replicas': '3' } })).toEqual([
      expect.stringMatching(/^topic "orders": min\.insync\.replicas 3 must be below the replication factor 3.*use 2$/),
    ]);
  });

  it('refuses fewer than one partition', () => {
    expect(problemsOf({ partitions: 0 })).toEqual(['topic "orders": partitions is 0; it must be a whole number of at least 1']);
  });

  it.each([
    ['.', /"\." and "\.\." are not legal/],
    ['..', /"\." and "\.\." are not legal/],
    ['posts/v2', /illegal name; use only letters, digits/],
    ['a'.repeat(250), /name is 250 characters; Kafka allows at most 249/],
  ])('refuses the illegal name %s', (name, message) => {
    expect(problemsOf({ name })).toEqual([expect.stringMatching(message)]);
  });

  it('refuses an unknown config key', () => {
    expect(problemsOf({ config: { 'retention.msec': '1000' } })).toEqual([
      'topic "orders": unknown config key "retention.msec"; see the Kafka topic configuration reference for valid keys',
    ]);
  });

  it('refuses a topic declared twice', () => {
    expect(topicProblems([valid, valid], 3)).toEqual(['topic "orders": declared twice; keep one declaration']);
  });
});

describe('KafkaTopics', () => {
  it('fails synthesis with every problem before anything is planned', () => {
    const build = () => {
      const stack = new TerraformStack(new App(), 'test');
      const provider = new KafkaProvider(stack, 'kafka', { bootstrapServers: ['127.0.0.1:1'] });
      return new KafkaTopics(stack, 'topics', { provider, brokerCount: 3, manageAcls: false, topics: [{ ...valid, partitions: 0, replicationFactor: 5 }] });
    };
    expect(build).toThrow(TopicSpecError);
    expect(build).toThrow(/partitions is 0[\s\S]*replication factor 5 exceeds the 3 brokers/);
  });
});

describe('KAFKA_TOPIC_CONFIG_KEYS', () => {
  it('matches the topic configs the real broker reports', async () => {
    const topic = uniqueName('config-keys');
    const servers = bootstrapServers();
    await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', servers, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1']);
    try {
      const out = await runKafkaTool(KafkaTools.configs, ['--bootstrap-server', servers, '--describe', '--all', '--entity-type', 'topics', '--entity-name', topic]);
      const reported = new Set([...out.matchAll(/^\s+([a-z0-9.]+)=/gm)].map((m) => m[1]));
      expect([...KAFKA_TOPIC_CONFIG_KEYS].sort()).toEqual([...reported].sort());
    } finally {
      await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', servers, '--delete', '--topic', topic]);
    }
  });
});
