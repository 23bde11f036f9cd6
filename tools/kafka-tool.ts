import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { versions } from '../config';
import { paths } from './paths';

/** Directory holding the Kafka jars (broker, storage tool, admin tools) from Maven Central. */
export const KAFKA_LIBS_DIR = paths.kafkaLibs;
/** Java classpath covering every jar of `KAFKA_LIBS_DIR`. */
export const KAFKA_CLASSPATH = `${KAFKA_LIBS_DIR}${path.sep}*`;

/** Jars of another Kafka release (fetched by `fetchKafkaJars`), e.g. the one a rolling upgrade starts from. */
export function kafkaLibsDir(version: string): string {
  return version === versions.kafka.version ? KAFKA_LIBS_DIR : path.join(path.dirname(path.dirname(KAFKA_LIBS_DIR)), version, 'libs');
}

/** Java classpath of one Kafka release. */
export function kafkaClasspath(version: string): string {
  return `${kafkaLibsDir(version)}${path.sep}*`;
}

/** Well-known main classes of Kafka's command-line tools (as in the kafka-*.sh scripts). */
export const KafkaTools = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  configs: 'kafka.admin.ConfigCommand',
  metadataQuorum: 'org.apache.kafka.tools.MetadataQuorumCommand',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  brokerApiVersions: 'org.apache.kafka.tools.BrokerApiVersionsCommand',
  features: 'org.apache.kafka.tools.FeatureCommand',
  storage: 'kafka.tools.StorageTool',
  acls: 'org.apache.kafka.tools.AclCommand',
  consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  getOffsets: 'org.apache.kafka.tools.GetOffsetShell',
  producerPerformance: 'org.apache.kafka.tools.ProducerPerformance',
  consumerPerformance: 'org.apache.kafka.tools.ConsumerPerformance',
  endToEndLatency: 'org.apache.kafka.tools.EndToEndLatency',
  verifiableProducer: 'org.apache.kafka.tools.VerifiableProducer',
} as const;

/** The java binary: `$JAVA_HOME/bin/java` when set, otherwise `java` from PATH. */
export function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  if (home) {
    const candidate = path.join(home, 'bin', 'java');
    if (fs.existsSync(candidate)) return candidate;
  }
  return 'java';
}

/** The JDK's keytool: `$JAVA_HOME/bin/keytool` when set, otherwise `keytool` from PATH. */
export function keytoolBinary(): string {
  const home = process.env.JAVA_HOME;
  if (home) {
    const candidate = path.join(home, 'bin', 'keytool');
    if (fs.existsSync(candidate)) return candidate;
  }
  return 'keytool';
}

/**
 * Runs the JDK's keytool and resolves with its stdout. Pass passwords through `env` and
 * `-storepass:env NAME`, never as arguments: arguments show up in error messages and `ps`.
 */
export function runKeytool(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      keytoolBinary(),
      args,
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env }, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        const detail = missing ? 'keytool not found: it comes with the JDK (JAVA_HOME/bin or PATH)' : (stderr || stdout || error.message).trim();
        reject(new Error(`keytool ${args.join(' ')} failed:\n${detail}`));
      },
    );
  });
}

const JAVA_MISSING =
  'Java 17+ is required: install openjdk-17-jre-headless (apt-get install openjdk-17-jre-headless) or any JDK 17+, and put java on PATH or set JAVA_HOME';

let javaChecked = false;

/** Throws a clear error when Java 17+ or the Kafka jars are missing. Cheap after the first call. */
export function requireJavaAndKafka(version: string = versions.kafka.version): void {
  if (!javaChecked) {
    const r = spawnSync(javaBinary(), ['-version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(JAVA_MISSING);
    // `java -version` prints e.g. `openjdk version "17.0.15"` (or "1.8.0_392" for Java 8).
    const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
    const major = m ? (Number(m[1]) === 1 ? Number(m[2]) : Number(m[1])) : NaN;
    if (!(major >= 17)) throw new Error(`${JAVA_MISSING} (found: ${(r.stderr || r.stdout).split('\n')[0].trim()})`);
    javaChecked = true;
  }
  if (!fs.existsSync(path.join(kafkaLibsDir(version), `kafka_${versions.kafka.scala}-${version}.jar`))) {
    const fix = version === versions.kafka.version ? 'run `npm run bootstrap`' : `fetch them with fetchKafkaJars('${version}') from tools/toolchain.ts`;
    throw new Error(`Kafka ${version} jars are missing in ${kafkaLibsDir(version)}: ${fix}`);
  }
}

/** JVM flags for short-lived tools: start fast, stay small. */
const TOOL_JVM_ARGS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];
/**
 * JVM flags of Kafka's own scripts (kafka-run-class.sh with the perf scripts' 512 MiB heap): G1 and
 * the full JIT. Benchmarks run the perf tools with these, so the tools are measured as shipped.
 */
const KAFKA_SCRIPT_JVM_ARGS = ['-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-Djava.awt.headless=true'];

/** Drops the logging framework's own start-up chatter, which is not the tool's output. */
function withoutLoggerNoise(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('SLF4J:') && !line.startsWith('SLF4J('))
    .join('\n')
    .trim();
}

export interface KafkaToolOptions {
  /** Kill the tool after this many milliseconds (default 60 s). */
  readonly timeoutMs?: number;
  /** Extra JVM flags placed before the main class. */
  readonly jvmArgs?: readonly string[];
  /** Run the tool of this Kafka release (default: the pinned one). */
  readonly kafkaVersion?: string;
  /** JVM flags of Kafka's own scripts instead of the quick-start ones (for the perf tools). */
  readonly asKafkaScripts?: boolean;
}

/**
 * Runs one of Kafka's own Java tools (e.g. `KafkaTools.topics`) from the project's Kafka jars
 * and resolves with its stdout. Rejects with the tool's stderr (or stdout) when it exits non-zero.
 */
export function runKafkaTool(mainClass: string, args: readonly string[], options: KafkaToolOptions = {}): Promise<string> {
  const version = options.kafkaVersion ?? versions.kafka.version;
  requireJavaAndKafka(version);
  const javaArgs = [...(options.asKafkaScripts ? KAFKA_SCRIPT_JVM_ARGS : TOOL_JVM_ARGS), ...(options.jvmArgs ?? []), '-cp', kafkaClasspath(version), mainClass, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      javaBinary(),
      javaArgs,
      { encoding: 'utf8', timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const shortName = mainClass.split('.').pop();
        const detail = withoutLoggerNoise(stderr) || withoutLoggerNoise(stdout) || error.message;
        const why = error.killed ? `timed out after ${options.timeoutMs ?? 60_000} ms` : `failed (exit ${error.code ?? error.signal})`;
        reject(new Error(`${shortName} ${args.join(' ')} ${why}:\n${detail}`));
      },
    );
  });
}
