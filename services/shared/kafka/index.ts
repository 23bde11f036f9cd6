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
import { createPlatformaticConsumer } from './platformatic-consumer';
import './gzip-codec';
import { createProducer } from './producer';
import { StartupRetry, untilBrokersAnswer } from './startup';
import { ConsumerLibrary, ConsumerOptions, MessageConsumer, MessageProducer, ProducerOptions, RequiredTopic } from './types';

export * from './types';
export { sendUntilAcknowledged } from './producer';
export type { PartitionSend } from './producer';
export { BROKER_FENCING_WINDOW_MS, DEFAULT_STARTUP_TIMEOUT_MS, isBrokerUnavailable } from './startup';

/** A connection factory for one service. */
export class KafkaClient {
  private readonly kafka: Kafka;
  /** Every start-up step waits out brokers that do not answer yet (./startup). */
  private readonly startup: StartupRetry;

  constructor(private readonly cfg: KafkaConnectionConfig, private readonly logger: Logger) {
    this.kafka = new Kafka(kafkaConfig(cfg, logger));
    this.startup = { brokers: cfg.brokers, timeoutMs: cfg.startupTimeoutMs, logger };
  }

  /** See requireTopics in ./admin; retried while brokers do not answer. */
  requireTopics(required: readonly RequiredTopic[]): Promise<void> {
    return untilBrokersAnswer('topic check', () => requireTopics(this.kafka, required), this.startup);
  }

  /** An idempotent producer (./producer). */
  producer(options: ProducerOptions = { compression: 'gzip', sessions: 1 }): MessageProducer {
    return createProducer(this.kafka, this.logger, options, this.startup);
  }

  /** A group consumer with at-least-once commits (./consumer), or the same on @platformatic/kafka (./platformatic-consumer). */
  consumer(options: ConsumerOptions, library: ConsumerLibrary = 'kafkajs'): MessageConsumer {
    if (library === 'platformatic') return createPlatformaticConsumer(this.cfg, this.logger, options, this.startup);
    return createConsumer(this.kafka, this.logger, options, this.startup);
  }
}
