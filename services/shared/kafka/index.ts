/**
 * The services' Kafka access. Only this folder talks to the Kafka client library (kafkajs), one
 * file per concern: the connection settings, the gzip codec, the topic checks, the producer and
 * the consumer with its commits. The services use the interfaces in ./types, so swapping the
 * library touches this folder alone.
 */
import { Kafka } from 'kafkajs';
import { KafkaConnectionConfig } from '../config';
import { Logger } from '../observability';
import { requireTopics } from './admin';
import { kafkaConfig } from './connection';
import { createConsumer } from './consumer';
import './gzip-codec';
import { createProducer } from './producer';
import { ConsumerOptions, MessageConsumer, MessageProducer, ProducerOptions, RequiredTopic } from './types';

export * from './types';
export { sendUntilAcknowledged } from './producer';
export type { PartitionSend } from './producer';

/** A connection factory for one service. */
export class KafkaClient {
  private readonly kafka: Kafka;

  constructor(cfg: KafkaConnectionConfig, private readonly logger: Logger) {
    this.kafka = new Kafka(kafkaConfig(cfg, logger));
  }

  /** See requireTopics in ./admin. */
  requireTopics(required: readonly RequiredTopic[]): Promise<void> {
    return requireTopics(this.kafka, required);
  }

  /** An idempotent producer (./producer). */
  producer(options: ProducerOptions = { compression: 'gzip', sessions: 1 }): MessageProducer {
    return createProducer(this.kafka, this.logger, options);
  }

  /** A group consumer with at-least-once commits (./consumer). */
  consumer(options: ConsumerOptions): MessageConsumer {
    return createConsumer(this.kafka, this.logger, options);
  }
}
