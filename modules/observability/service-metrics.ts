/**
 * The metrics contract between the producer/consumer services (prom-client) and the platform's
 * alerts and dashboards. The services register exactly these names, types and label names;
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
    help: 'Failures, by operation: produce (send not acknowledged), consume (fetch/commit), process (handler threw)',
    labelNames: ['operation'],
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
    // From a few milliseconds on a healthy cluster to a minute during a broker failover.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
} as const;

/** Values of the `operation` label of `kafka_platform_errors_total`. */
export const ERROR_OPERATIONS = ['produce', 'consume', 'process'] as const;
