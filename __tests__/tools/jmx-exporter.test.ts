import * as fs from 'fs';
import { parse } from 'yaml';
import { versions } from '../../config';
import { JMX_EXPORTER_BASE_PORT, KAFKA_METRICS_RULES, ensureJmxExporterAgent, jmxExporterArgs, jmxExporterJar, jmxExporterPort, jmxExporterTargets } from '../../tools/jmx-exporter';

describe('JMX exporter agent for the local cluster', () => {
  it('is fetched from Maven Central into the cache once, then reused', () => {
    const jar = ensureJmxExporterAgent();
    expect(jar).toBe(jmxExporterJar());
    expect(jar).toContain(`${versions.jmxExporter.artifactId}-${versions.jmxExporter.version}.jar`);
    const mtime = fs.statSync(jar).mtimeMs;
    const started = Date.now();
    expect(ensureJmxExporterAgent()).toBe(jar);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fs.statSync(jar).mtimeMs).toBe(mtime);
  }, 300_000);

  it('listens on 127.0.0.1 at one port per node and reads the shared rules file', () => {
    expect(jmxExporterPort(1)).toBe(JMX_EXPORTER_BASE_PORT);
    expect(jmxExporterPort(3)).toBe(JMX_EXPORTER_BASE_PORT + 2);
    expect(jmxExporterArgs(2)).toEqual([`-javaagent:${jmxExporterJar()}=127.0.0.1:${JMX_EXPORTER_BASE_PORT + 1}:${KAFKA_METRICS_RULES}`]);
    expect(jmxExporterTargets()).toEqual([1, 2, 3].map((n) => `127.0.0.1:${JMX_EXPORTER_BASE_PORT + n - 1}`));
    expect(() => jmxExporterPort(9)).toThrow(/node 9 does not exist/);
  });

  it('uses a rules file with explicit rules over the Kafka domains only', () => {
    const config = parse(fs.readFileSync(KAFKA_METRICS_RULES, 'utf8')) as { lowercaseOutputName: boolean; includeObjectNames: string[]; rules: { pattern: string; name: string }[] };
    expect(config.lowercaseOutputName).toBe(true);
    expect(config.includeObjectNames.every((n) => n.startsWith('kafka.'))).toBe(true);
    expect(config.rules.length).toBeGreaterThan(10);
    // No catch-all rule: every exported name is one somebody chose.
    for (const rule of config.rules) {
      expect(rule.pattern).not.toBe('.*');
      expect(rule.name).toMatch(/^kafka_[a-z0-9_$]+$/);
    }
  });
});
