import * as path from 'path';
import { LOCAL_KAFKA_DIR, localBootstrapServers } from '../../tools/local/kafka';

/** Present while the cluster was started by the test run's global setup (and must be stopped by its teardown). */
export const STARTED_BY_TESTS_MARKER = path.join(LOCAL_KAFKA_DIR, 'started-by-tests.json');

/** Bootstrap servers of the cluster under test: `KAFKA_BOOTSTRAP_SERVERS`, else the local cluster from config. */
export function bootstrapServers(): string {
  const fromEnv = process.env.KAFKA_BOOTSTRAP_SERVERS;
  return fromEnv && fromEnv.trim().length > 0 ? fromEnv.trim() : localBootstrapServers();
}

/** `bootstrapServers()` as the broker list clients such as kafkajs take. */
export function brokerList(): string[] {
  return bootstrapServers().split(',');
}

/** A topic or group name no earlier run used, so reruns never see old data. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
