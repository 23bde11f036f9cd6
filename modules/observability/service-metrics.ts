/**
 * The metrics contract between the producer/consumer services (prom-client) and the platform's
 * alerts and dashboards. The services register exactly these names, types and label names
 * (more metrics and a default `service` label are fine; histogram buckets are theirs to choose);
 * changing one means changing the alerts (service-alerts.ts) and the dashboard (dashboards.ts).
 */
export const SERVICE_METRICS = {
  produced: {
    name: 'kafka_platform_messages_produced_total',
    type: 'counter',
    help: 'Messages the producer had acknowledged by Kafka',
    labelNames: ['topic'],
  },
  consumed: {
    name: 'kafka_platform_messages_consumed_total',
    type: 'counter',
    help: 'Messages the consumer processed successfully',
    labelNames: ['topic'],
  },
  errors: {
    name: 'kafka_platform_errors_total',
    type: 'counter',
    help: 'Failures by stage: produce (a send was not acknowledged), consume, connect',
    labelNames: ['stage'],
  },
  dlq: {
    name: 'kafka_platform_dlq_messages_total',
    type: 'counter',
    help: 'Messages moved to the dead-letter topic, by the topic they came from',
    labelNames: ['topic'],
  },
  endToEndLatency: {
    name: 'kafka_platform_end_to_end_latency_seconds',
    type: 'histogram',
    help: 'Time from the record timestamp set by the producer to the end of its processing by the consumer',
    labelNames: ['topic'],
  },
} as const;

/** The `stage` of `kafka_platform_errors_total` the producer alert counts: failed sends. */
export const PRODUCE_ERROR_STAGE = 'produce';
