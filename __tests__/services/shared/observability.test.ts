import { Writable } from 'stream';
import pino from 'pino';
import { SERVICE_METRICS } from '../../../modules/observability/service-metrics';
import { Histogram, Registry } from 'prom-client';
import { SeriesHistogram, createMetrics, startHttpServer } from '../../../services/shared/observability';

const silent = pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));

describe('health, readiness and metrics endpoints', () => {
  test('bind every interface by default (pods), or only the HTTP_HOST address (a shared host network)', async () => {
    const everywhere = await startHttpServer(0, () => true, createMetrics('bind-all'), silent, undefined);
    const loopback = await startHttpServer(0, () => true, createMetrics('bind-loopback'), silent, '127.0.0.1');
    try {
      expect(['::', '0.0.0.0']).toContain(everywhere.address);
      expect(loopback.address).toBe('127.0.0.1');
      expect((await fetch(`http://127.0.0.1:${loopback.port}/healthz`)).status).toBe(200);
    } finally {
      await everywhere.close();
      await loopback.close();
    }
  });

  test('/healthz is always 200, /readyz follows Kafka connectivity, /metrics exposes the service counters', async () => {
    let ready = false;
    const metrics = createMetrics('test-service');
    const server = await startHttpServer(0, () => ready, metrics, silent);
    const get = (p: string) => fetch(`http://127.0.0.1:${server.port}${p}`);
    try {
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/readyz')).status).toBe(503);
      ready = true;
      expect((await get('/readyz')).status).toBe(200);
      expect((await get('/nope')).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`, { method: 'POST' })).status).toBe(405);

      metrics.produced.inc({ topic: 'posts' }, 3);
      metrics.dlq.inc({ topic: 'posts' });
      metrics.latency.observe({ topic: 'posts' }, 0.02);
      const res = await get('/metrics');
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toContain('kafka_platform_messages_produced_total{topic="posts",service="test-service"} 3');
      expect(text).toContain('kafka_platform_dlq_messages_total{topic="posts",service="test-service"} 1');
      expect(text).toMatch(/kafka_platform_end_to_end_latency_seconds_bucket\{le="0.025",[^}]*\} 1/);
      for (const name of ['messages_consumed_total', 'messages_duplicate_total', 'errors_total']) expect(text).toContain(`# TYPE kafka_platform_${name} counter`);
      expect(text).toContain('process_cpu_seconds_total');
    } finally {
      await server.close();
    }
  });

  test('registers every metric of the contract the alerts and dashboards use, with its type and labels', async () => {
    const metrics = createMetrics('contract');
    const registered = await metrics.registry.getMetricsAsJSON();
    for (const expected of Object.values(SERVICE_METRICS)) {
      const found = registered.find((m) => m.name === expected.name);
      expect({ name: expected.name, type: found?.type }).toEqual({ name: expected.name, type: expected.type });
      // prom-client keeps the declared label names on the metric object.
      const { labelNames } = metrics.registry.getSingleMetric(expected.name) as unknown as { labelNames: string[] };
      expect(labelNames).toEqual([...expected.labelNames]);
    }
  });
});

describe('SeriesHistogram', () => {
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
  const values = [0, 0.001, 0.005, 0.0050001, 0.02, 0.1, 0.99, 1, 7, 299.9, 300, 301, 4000];
  const pair = () => {
    const fast = new Registry();
    const plain = new Registry();
    for (const r of [fast, plain]) r.setDefaultLabels({ service: 'consumer' });
    const config = { name: 'latency_seconds', help: 'h', labelNames: ['topic'] as const, buckets };
    return { fast, plain, series: new SeriesHistogram({ ...config, registers: [fast] }), histogram: new Histogram({ ...config, registers: [plain] }) };
  };

  test("exports what prom-client's own observe gives for the same values", async () => {
    const { fast, plain, series, histogram } = pair();
    const posts = series.series({ topic: 'posts' });
    for (const v of values) {
      posts(v);
      histogram.labels({ topic: 'posts' }).observe(v);
    }
    // The other observe on the same label set adds to the same series.
    series.observe({ topic: 'posts' }, 0.2);
    histogram.observe({ topic: 'posts' }, 0.2);
    series.observe({ topic: 'other' }, 0.2);
    histogram.observe({ topic: 'other' }, 0.2);
    expect(await fast.metrics()).toBe(await plain.metrics());
    expect(await fast.metrics()).toContain(`latency_seconds_count{service="consumer",topic="posts"} ${values.length + 1}`);
  });

  test('starts again from zero after a reset, and refuses a value that is not a number', async () => {
    const { fast, plain, series, histogram } = pair();
    const posts = series.series({ topic: 'posts' });
    posts(0.3);
    series.reset();
    posts(0.02);
    histogram.labels({ topic: 'posts' }).observe(0.02);
    expect(await fast.metrics()).toBe(await plain.metrics());
    expect(() => posts(Number.NaN)).toThrow('Value is not a valid number: NaN');
  });
});
