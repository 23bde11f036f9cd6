import * as fs from 'fs';
import { clusterDown } from '../../tools/local-cluster';
import { postgresDown } from '../../tools/local-postgres';
import { STARTED_BY_TESTS_MARKER } from './kafka';
import { POSTGRES_STARTED_BY_TESTS_MARKER } from './postgres';

/** Stops what this run's global setup started; a developer's own cluster or database stays up. */
export default async function globalTeardown(): Promise<void> {
  if (fs.existsSync(POSTGRES_STARTED_BY_TESTS_MARKER)) {
    postgresDown();
    fs.rmSync(POSTGRES_STARTED_BY_TESTS_MARKER, { force: true });
  }
  if (!fs.existsSync(STARTED_BY_TESTS_MARKER)) return;
  await clusterDown({ log: (line) => console.log(`[local-kafka] ${line}`) });
  fs.rmSync(STARTED_BY_TESTS_MARKER, { force: true });
}
