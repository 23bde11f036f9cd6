import { Construct } from 'constructs';
import { KafkaProvider } from '../.gen/providers/kafka/provider';
import { localBootstrapServers } from '../config';
import { platformTopics } from '../config/topics';
import { KafkaTopics, TopicSpec } from '../modules/kafka-topics';
import { PlatformStack, PlatformStackProps } from '../modules/platform-stack';

export interface LocalKafkaStackProps extends PlatformStackProps {
  /** Topics to manage; the platform's topics (config/topics.ts) when omitted. */
  readonly topics?: readonly TopicSpec[];
}

/**
 * kafka-stack of the `local` environment: no Kubernetes, so only the platform topics,
 * through the same topics module, on the local cluster (`npm run kafka:up`).
 */
export class LocalKafkaStack extends PlatformStack {
  readonly topics: KafkaTopics;

  constructor(scope: Construct, id: string, props: LocalKafkaStackProps) {
    super(scope, id, props);
    const cluster = props.env.localCluster;

    // The local cluster listens in plaintext; the provider defaults to TLS.
    const provider = new KafkaProvider(this, 'kafka', { bootstrapServers: localBootstrapServers(cluster), tlsEnabled: false });

    this.topics = new KafkaTopics(this, 'topics', {
      provider,
      brokerCount: cluster.nodes,
      topics: props.topics ?? platformTopics(cluster.nodes),
      manageAcls: true,
    });
  }
}
