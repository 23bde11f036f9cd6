import { createMetrics } from '../../services/shared/observability';
import { SERVICE_METRICS } from '../../modules/observability/service-metrics';

/**
 * The contract the alerts and the services dashboard are written against, checked against the
 * registry the producer and consumer really export.
 */
describe('the services metrics contract', () => {
  it('is what the services register: names, types and label names', async () => {
    const { registry } = createMetrics('contract-test');
    const exported = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, m]));
    for (const metric of Object.values(SERVICE_METRICS)) {
      // prom-client names counters with their _total suffix and histograms without _bucket.
      const found = exported.get(metric.name);
      expect({ name: metric.name, type: found?.type }).toEqual({ name: metric.name, type: metric.type });
    }
    // Label names are checked on real samples: one observation of each metric.
    const m = createMetrics('contract-test');
    m.produced.inc({ topic: 't' });
    m.consumed.inc({ topic: 't' });
    m.errors.inc({ stage: 'produce' });
    m.dlq.inc({ topic: 't' });
    m.latency.observe({ topic: 't' }, 0.01);
    const text = await m.registry.metrics();
    for (const metric of Object.values(SERVICE_METRICS)) {
      const sample = metric.type === 'histogram' ? `${metric.name}_count` : metric.name;
      const line = text.split('\n').find((l) => l.startsWith(`${sample}{`));
      expect({ sample, line: line !== undefined }).toEqual({ sample, line: true });
      for (const label of metric.labelNames) expect(line).toContain(`${label}="`);
    }
  });
});
