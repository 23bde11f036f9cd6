/** What the producer and consumer share: config, Kafka access, messages, logs, metrics, lifecycle. */
export * from './config';
export * from './kafka';
export * from './lifecycle';
export * from './message';
export * from './observability';
export * from './producer-pipeline';
export * from './tracing';
export * from './tracing-config';
