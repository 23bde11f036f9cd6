import * as fs from 'fs';
import { clusterUp } from '../../tools/local/kafka';
import { attachJmxExporter, jmxExporterArgs } from '../../tools/jmx-exporter';
import { postgresRunning, postgresUp } from '../../tools/local-postgres';
import { STARTED_BY_TESTS_MARKER } from './kafka';
import { POSTGRES_STARTED_BY_TESTS_MARKER } from './postgres';
import { startKubernetesBuild } from './kubernetes-build';
import { testTraceBackendUp } from './traces';
import { useRunScratch } from './scratch';

/**
 * One local Kafka cluster and one PostgreSQL per test run: reuse running ones, otherwise
 * start them and remember that, so teardown stops only what the run started.
 */
export default async function globalSetup(): Promise<void> {
  // First, so every temporary file of the run (the clusters' included) lands in the run's scratch directory.
  useRunScratch();
  startKubernetesBuild((line) => console.log(`[local-kubernetes] ${line}`));
  const log = (line: string) => console.log(`[local-kafka] ${line}`);
  // Every node carries the JMX exporter with the rules kafka-stack deploys, so alert tests scrape real metrics.
  const result = await clusterUp({ extraJvmArgs: jmxExporterArgs, log });
  await attachJmxExporter({ log });
  if (result.startedNodes.length > 0) {
    fs.writeFileSync(STARTED_BY_TESTS_MARKER, `${JSON.stringify({ startedNodes: result.startedNodes, at: new Date().toISOString() })}\n`);
  } else {
    fs.rmSync(STARTED_BY_TESTS_MARKER, { force: true });
  }
  // Test workers are forked after global setup and inherit this.
  process.env.KAFKA_BOOTSTRAP_SERVERS = result.bootstrapServers;
  // Every service the tests start traces into it (the bootstrap built it).
  await testTraceBackendUp((line) => console.log(`[traces] ${line}`));

  if (postgresRunning()) {
    fs.rmSync(POSTGRES_STARTED_BY_TESTS_MARKER, { force: true });
  } else {
    await postgresUp();
    fs.writeFileSync(POSTGRES_STARTED_BY_TESTS_MARKER, `${new Date().toISOString()}\n`);
  }
}
