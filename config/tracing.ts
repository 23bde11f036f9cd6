/** The services a sampler is chosen for. */
export type TracedService = 'producer' | 'consumer';

/**
 * The standard OTel sampler variables each service runs with, wherever it runs (workloads-stack,
 * `npm start`, the tests, the bench). The producer starts one trace per message and keeps `ratio`
 * of them; it writes a `traceparent` header only on a record whose trace it kept. The consumer
 * continues exactly those (`parentbased_always_off`): a record without a header is not traced,
 * so a trace the producer dropped costs the consumer nothing, not even the header's bytes. Error
 * and DLQ spans are kept whatever the sampler (services/shared/tracing.ts).
 */
export function serviceSamplerEnv(service: TracedService, ratio: number): Record<'OTEL_TRACES_SAMPLER', string> & Partial<Record<'OTEL_TRACES_SAMPLER_ARG', string>> {
  if (service === 'consumer') return { OTEL_TRACES_SAMPLER: 'parentbased_always_off' };
  return { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(ratio) };
}
