import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { loadConfig } from '../../../config';
import { TopicSpec } from '../../../config/topic-spec';
import { TopicSpecError, topicId } from '../../../modules/kafka-topics';
import { LocalKafkaStack } from '../../../stacks/local-kafka-stack';
import { postgresUp } from '../../../tools/local-postgres';
import { KafkaTools, runKafkaTool } from '../../../tools/kafka-tool';
import { bootstrapServers, uniqueName } from '../../support/kafka';
import { terraform, terraformOk } from '../../support/toolchain';
import { DescribedTopic, describeTopic, listTopics } from '../../support/topics';

/**
 * Bad topic specs against a topic that Terraform has applied to the real local cluster, with
 * its state in PostgreSQL. Each is refused with the topic, the problem and the fix: the spec
 * ones when the stack is built, so no Terraform JSON is written; a partition decrease when
 * the plan runs. Afterwards the state serial, the synthesized JSON and the topic as Kafka's
 * own tools describe it are what they were.
 */

const prefix = uniqueName('tf_bad').replace(/-/g, '_');
const name = `${prefix}.orders`;
const valid: TopicSpec = {
  name,
  partitions: 6,
  replicationFactor: 3,
  config: { 'min.insync.replicas': '2', 'retention.ms': '604800000', 'cleanup.policy': 'delete' },
};
const at = `topic "${name}"`;

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'topic-bad-input-'));
const stackDir = path.join(outdir, 'stacks', 'kafka-stack');
const stackJson = path.join(stackDir, 'cdk.tf.json');
let pgEnv: NodeJS.ProcessEnv;
let applied: { serial: number; json: string; topic: DescribedTopic };

/** Builds and synthesizes kafka-stack of `local` with `topics`; throws what the stack throws. */
function synth(topics: readonly TopicSpec[]): void {
  const app = new App({ outdir });
  const env = { ...loadConfig('local'), backend: { type: 'pg' as const, schemaPrefix: prefix } };
  new LocalKafkaStack(app, 'kafka-stack', { env, topics });
  app.synth();
}

function stateSerial(): number {
  return (JSON.parse(terraformOk(['state', 'pull'], stackDir, pgEnv)) as { serial: number }).serial;
}

function problemsOf(build: () => void): readonly string[] {
  try {
    build();
  } catch (err) {
    if (err instanceof TopicSpecError) return err.problems;
    throw err;
  }
  throw new Error('expected a TopicSpecError');
}

const withConfig = (config: Record<string, string>): TopicSpec[] => [{ ...valid, config: { ...valid.config, ...config } }];

/** [what is wrong, the declared topics, the problems reported] */
const badSpecs: [string, TopicSpec[], string[]][] = [
  ['a replication factor above the broker count', [{ ...valid, replicationFactor: 4 }], [`${at}: replication factor 4 exceeds the 3 brokers; lower it or add brokers`]],
  ['a replication factor of 0', [{ ...valid, replicationFactor: 0 }], [`${at}: replication factor is 0; it must be a whole number of at least 1`]],
  ['min.insync.replicas equal to the replication factor', withConfig({ 'min.insync.replicas': '3' }), [`${at}: min.insync.replicas 3 must be below the replication factor 3, or one broker down stops all writes; use 2`]],
  ['min.insync.replicas above the replication factor', withConfig({ 'min.insync.replicas': '5' }), [`${at}: min.insync.replicas 5 must be below the replication factor 3, or one broker down stops all writes; use 2`]],
  ['min.insync.replicas of 0', withConfig({ 'min.insync.replicas': '0' }), [`${at}: min.insync.replicas is "0"; expected a whole number of replicas of at least 1, e.g. "2"`]],
  ['an unknown config key', withConfig({ 'retention.msec': '1000' }), [`${at}: unknown config key "retention.msec"; see the Kafka topic configuration reference for valid keys`]],
  ['a retention with a unit', withConfig({ 'retention.ms': '7d' }), [`${at}: retention.ms is "7d"; expected a whole number of milliseconds (-1: no limit), e.g. "604800000"`]],
  ['a misspelt cleanup policy', withConfig({ 'cleanup.policy': 'deleet' }), [`${at}: cleanup.policy is "deleet"; expected "delete", "compact" or "compact,delete"`]],
  ['a codec Kafka does not have', withConfig({ 'compression.type': 'brotli' }), [`${at}: compression.type is "brotli"; expected one of producer, uncompressed, gzip, snappy, lz4, zstd`]],
  ['a boolean spelt "yes"', withConfig({ 'unclean.leader.election.enable': 'yes' }), [`${at}: unclean.leader.election.enable is "yes"; expected "true" or "false"`]],
  ['segments below the 1 MiB minimum', withConfig({ 'segment.bytes': '1000' }), [`${at}: segment.bytes is "1000"; expected a whole number of bytes of at least 1048576 (1 MiB), e.g. "268435456"`]],
  ['no partitions', [{ ...valid, partitions: 0 }], [`${at}: partitions is 0; it must be a whole number of at least 1`]],
  ['a fractional partition count', [{ ...valid, partitions: 2.5 }], [`${at}: partitions is 2.5; it must be a whole number of at least 1`]],
  ['a name with a slash', [valid, { ...valid, name: `${prefix}/orders` }], [`topic "${prefix}/orders": illegal name; use only letters, digits, '.', '_' and '-'`]],
  ['a name with a space', [valid, { ...valid, name: `${prefix} orders` }], [`topic "${prefix} orders": illegal name; use only letters, digits, '.', '_' and '-'`]],
  ['the name ".."', [valid, { ...valid, name: '..' }], ['topic "..": "." and ".." are not legal topic names; choose another name']],
  ['a name of 250 characters', [valid, { ...valid, name: `${prefix}.${'x'.repeat(249 - prefix.length)}` }], [`topic "${prefix}.${'x'.repeat(249 - prefix.length)}": name is 250 characters; Kafka allows at most 249`]],
  ['the same topic declared twice', [valid, valid], [`${at}: declared twice; keep one declaration`]],
];

/**
 * The values refused above for their form, each of which the broker refuses too: the form
 * rules are no stricter than Kafka (min.insync.replicas >= the replication factor is a
 * platform policy on top, which Kafka accepts).
 */
const refusedValues = badSpecs
  .flatMap(([, , problems]) => problems)
  .map((p) => /: ([a-z.]+) is "([^"]*)"; expected /.exec(p))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => `${m[1]}=${m[2]}`);

beforeAll(async () => {
  pgEnv = { PG_CONN_STR: await postgresUp() };
  synth([valid]);
  terraformOk(['init', '-input=false', '-no-color'], stackDir, pgEnv);
  terraformOk(['apply', '-input=false', '-no-color', '-auto-approve'], stackDir, pgEnv);
  applied = { serial: stateSerial(), json: fs.readFileSync(stackJson, 'utf8'), topic: await describeTopic(name) };
}, 240_000);

afterAll(async () => {
  await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', bootstrapServers(), '--delete', '--topic', name]).catch(() => undefined);
});

describe('a bad topic spec', () => {
  test('the valid spec is applied as declared, so each refusal below is down to its one change', () => {
    expect(applied.topic).toEqual({ partitions: 6, replicationFactor: 3, config: valid.config });
  });

  test.each(badSpecs)('%s is refused before any Terraform JSON is written', (_what, topics, problems) => {
    expect(problemsOf(() => synth(topics))).toEqual(problems);
    expect(fs.readFileSync(stackJson, 'utf8')).toBe(applied.json);
    expect(stateSerial()).toBe(applied.serial);
  });

  test.each(refusedValues)("Kafka's own ConfigCommand refuses %s too", async (setting) => {
    const alter = runKafkaTool(KafkaTools.configs, ['--bootstrap-server', bootstrapServers(), '--alter', '--entity-type', 'topics', '--entity-name', name, '--add-config', setting]);
    await expect(alter).rejects.toThrow(/InvalidConfigurationException|Invalid value|Invalid config/);
  });

  test('a partition decrease is refused at plan time with the current count and the fix', async () => {
    synth([{ ...valid, partitions: 3 }]);
    const refused = terraform(['plan', '-input=false', '-no-color'], stackDir, pgEnv);
    expect(refused.status).not.toBe(0);
    const message = refused.stderr.replace(/\s+/g, ' ');
    expect(message).toContain(
      `topic "${name}" has 6 partitions on the cluster but declares 3: Kafka cannot remove partitions, so the plan would delete and recreate the topic with all its messages ` +
        `(kafka_topic.${topicId(name)} has lifecycle.prevent_destroy set; never remove it to get past this). ` +
        'Declare at least 6 partitions; to shrink a topic, create a new one and move its producers and consumers.',
    );
    // Refused by the precondition, not by prevent_destroy's advice to drop the protection.
    expect(message).not.toContain('Instance cannot be destroyed');
    expect(stateSerial()).toBe(applied.serial);
  });

  test("after every refusal, the state, the plan and the topic as Kafka's tools see it are unchanged", async () => {
    synth([valid]);
    expect(fs.readFileSync(stackJson, 'utf8')).toBe(applied.json);
    expect(terraform(['plan', '-input=false', '-no-color', '-detailed-exitcode'], stackDir, pgEnv).status).toBe(0);
    expect(stateSerial()).toBe(applied.serial);
    expect(await describeTopic(name)).toEqual(applied.topic);
    const onCluster = await listTopics();
    expect(onCluster.filter((t) => t.startsWith(prefix))).toEqual([name]);
  });
});
