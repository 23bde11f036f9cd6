import * as fs from 'fs';
import { clusterDown } from '../../tools/local/kafka';
import { chaosCluster } from '../chaos/cluster';
import { CHAOS_STARTED_MARKER } from '../chaos/runs';
import { postgresDown } from '../../tools/local-postgres';
import { STARTED_BY_TESTS_MARKER } from './kafka';
import { POSTGRES_STARTED_BY_TESTS_MARKER } from './postgres';
import { stopKubernetesBuild } from './kubernetes-build';
import { removeRunScratch, testRunId } from './scratch';
import { testTraceBackendDown } from './traces';

/** Stops what this run's global setup started; a developer's own cluster or database stays up. */
export default async function globalTeardown(): Promise<void> {
  stopKubernetesBuild();
  await testTraceBackendDown((line) => console.log(`[traces] ${line}`));
  // The fault-test cluster holds nothing worth keeping: gone with the run that started it.
  if (fs.existsSync(CHAOS_STARTED_MARKER) && fs.readFileSync(CHAOS_STARTED_MARKER, 'utf8').trim() === testRunId()) {
    await chaosCluster.down({ purge: true, log: (line) => console.log(`[chaos-kafka] ${line}`) });
  }
  if (fs.existsSync(POSTGRES_STARTED_BY_TESTS_MARKER)) {
    postgresDown();
    fs.rmSync(POSTGRES_STARTED_BY_TESTS_MARKER, { force: true });
  }
  if (fs.existsSync(STARTED_BY_TESTS_MARKER)) {
    await clusterDown({ log: (line) => console.log(`[local-kafka] ${line}`) });
    fs.rmSync(STARTED_BY_TESTS_MARKER, { force: true });
  }
  removeRunScratch();
}
