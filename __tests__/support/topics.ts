import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { bootstrapServers } from './kafka';

/** A topic as Kafka's own tools report it, independent of the Terraform provider and kafkajs. */
export interface DescribedTopic {
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Topic-level overrides only (what `kafka-configs --describe` lists). */
  readonly config: Record<string, string>;
}

/** The topic as TopicCommand and ConfigCommand from the Kafka jars describe it. */
export async function describeTopic(name: string): Promise<DescribedTopic> {
  const described = await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', bootstrapServers(), '--describe', '--topic', name]);
  const header = described.split('\n').find((l) => l.startsWith('Topic:') && l.includes('PartitionCount'));
  if (!header) throw new Error(`TopicCommand printed no summary line for ${name}:\n${described}`);
  const partitions = Number(/PartitionCount:\s*(\d+)/.exec(header)![1]);
  const replicationFactor = Number(/ReplicationFactor:\s*(\d+)/.exec(header)![1]);
  const configs = await runKafkaTool(KafkaTools.configs, ['--bootstrap-server', bootstrapServers(), '--describe', '--entity-type', 'topics', '--entity-name', name]);
  const config: Record<string, string> = {};
  for (const m of configs.matchAll(/^\s+([a-z0-9.]+)=(\S*) sensitive=/gm)) config[m[1]] = m[2];
  return { partitions, replicationFactor, config };
}

/** Every topic name on the cluster, as TopicCommand lists them. */
export async function listTopics(): Promise<string[]> {
  const out = await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', bootstrapServers(), '--list']);
  return out.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}
