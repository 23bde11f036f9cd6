import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { versions } from '../config';
import { kafkaLibsDir } from './kafka-tool';
import { PROJECT_ROOT, paths } from './paths';
import { runLogged, step } from './progress';

/**
 * Apache Kafka jars of one release from Maven Central into `kafkaLibsDir(version)`: the pinned
 * one for the local cluster and its tools, older ones for the rolling-upgrade tests.
 */
export async function fetchKafkaJars(version: string = versions.kafka.version): Promise<void> {
  const libs = kafkaLibsDir(version);
  const marker = path.join(libs, '.complete');
  const pom = path.join(PROJECT_ROOT, 'tools', 'kafka', 'pom.xml');
  // Any change to the pom or the version fetches the jars again.
  const fingerprint = `${version} ${createHash('sha256').update(fs.readFileSync(pom)).digest('hex')}\n`;
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === fingerprint) {
    console.log(`    Apache Kafka ${version}: jars present`);
    return;
  }
  if (spawnSync('mvn', ['-v'], { stdio: 'ignore' }).error) throw new Error('Maven is required to fetch Apache Kafka from Maven Central: apt-get install maven');
  const done = step(`fetching Apache Kafka ${version} from Maven Central`);
  fs.rmSync(libs, { recursive: true, force: true });
  await runLogged(
    'mvn',
    [
      '-B', '-f', pom,
      `-Dmaven.repo.local=${paths.mavenRepo}`,
      `-Dkafka.version=${version}`,
      `-Dscala.binary.version=${versions.kafka.scala}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
      '-DincludeScope=runtime',
    ],
    { logFile: path.join(paths.logs, `kafka-jars-${version}.log`), activity: `downloading Kafka ${version} jars` },
  );
  fs.writeFileSync(marker, fingerprint);
  done();
}
