import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KAFKA_METRICS_FILE, buildPodMonitors, readKafkaMetricsRules } from '../../../modules/kafka-cluster';
import { validateCustomResource } from '../../support/schemas';

describe('buildPodMonitors', () => {
  const monitors = buildPodMonitors({ namespace: 'kafka', clusterName: 'platform', interval: '30s' });

  it('validate against the Prometheus Operator PodMonitor CRD', () => {
    for (const monitor of Object.values(monitors)) expect(validateCustomResource(monitor)).toEqual([]);
  });

  it('scrape the Kafka nodes of every pool and nothing else of the cluster', () => {
    expect(monitors.nodes.spec.selector).toEqual({
      matchLabels: { 'strimzi.io/cluster': 'platform', 'strimzi.io/kind': 'Kafka' },
      matchExpressions: [{ key: 'strimzi.io/pool-name', operator: 'Exists' }],
    });
    expect(monitors.nodes.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'tcp-prometheus', path: '/metrics', interval: '30s' });
  });

  it('scrape Kafka Exporter for consumer lag', () => {
    expect(monitors.exporter.spec.selector.matchLabels).toEqual({ 'strimzi.io/cluster': 'platform', 'strimzi.io/name': 'platform-kafka-exporter' });
    expect(monitors.exporter.spec.podMetricsEndpoints[0].port).toBe('tcp-prometheus');
  });

  it('are rejected by the validator when an endpoint field is misspelt', () => {
    const [endpoint] = monitors.nodes.spec.podMetricsEndpoints;
    const mutated = { ...monitors.nodes, spec: { ...monitors.nodes.spec, podMetricsEndpoints: [{ ...endpoint, intervall: '30s' }] } };
    expect(validateCustomResource(mutated)).toEqual([expect.stringMatching(/^\/spec\/podMetricsEndpoints\/0 .*unknown field "intervall"/)]);
  });
});

describe('readKafkaMetricsRules', () => {
  it('reads the exporter rules beside the module', () => {
    expect(readKafkaMetricsRules()).toBe(fs.readFileSync(KAFKA_METRICS_FILE, 'utf8'));
  });

  it('names the file when it is missing or has no rules', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-'));
    expect(() => readKafkaMetricsRules(path.join(dir, 'absent.yaml'))).toThrow(/absent\.yaml is missing/);
    fs.writeFileSync(path.join(dir, 'empty.yaml'), 'lowercaseOutputName: true\n');
    expect(() => readKafkaMetricsRules(path.join(dir, 'empty.yaml'))).toThrow(/empty\.yaml has no top-level "rules:" list/);
  });
});
