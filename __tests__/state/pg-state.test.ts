import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, DataResource } from 'cdktf';
import { loadConfig } from '../../config';
import { topicId } from '../../modules/kafka-topics';
import { LocalKafkaStack } from '../../stacks/local-kafka-stack';
import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { postgresDown, postgresUp } from '../../tools/local-postgres';
import { bootstrapServers, uniqueName } from '../support/kafka';
import { CommandResult, availableClis, terraform, terraformOk, toolchainEnv } from '../support/toolchain';

/**
 * Terraform state in a real PostgreSQL, with the real Kafka provider and each CLI this
 * machine has (Terraform and OpenTofu). The stack is kafka-stack of `local`, the one
 * stack that can be applied without Kubernetes.
 */
describe.each(availableClis())('PostgreSQL state with $name', (cli) => {
  const schemaPrefix = uniqueName(`state_${cli.name}`).replace(/-/g, '_');
  const topic = `${schemaPrefix}.events`;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `pg-state-${cli.name}-`));
  const stackDir = path.join(outdir, 'stacks', 'kafka-stack');
  let pgEnv: NodeJS.ProcessEnv;

  /** kafka-stack with one topic; `slowApply` adds a resource whose creation takes that long. */
  function synth(partitions: number, slowApply?: { seconds: number; trigger: string }): void {
    const app = new App({ outdir });
    const env = { ...loadConfig('local'), backend: { type: 'pg' as const, schemaPrefix } };
    const stack = new LocalKafkaStack(app, 'kafka-stack', {
      env,
      topics: [{ name: topic, partitions, replicationFactor: 3, config: { 'min.insync.replicas': '2' } }],
    });
    if (slowApply) {
      new DataResource(stack, 'slow', {
        triggersReplace: [slowApply.trigger],
        provisioners: [{ type: 'local-exec', command: `sleep ${slowApply.seconds}` }],
      });
    }
    app.synth();
  }

  const tf = (args: string[]) => terraform(args, stackDir, pgEnv, cli.path);
  const tfOk = (args: string[]) => terraformOk(args, stackDir, pgEnv, cli.path);
  const apply = (extra: string[] = []) => tfOk(['apply', '-input=false', '-no-color', '-auto-approve', ...extra]);
  const emptyPlan = () => tf(['plan', '-input=false', '-no-color', '-detailed-exitcode']).status === 0;

  function applyAsync(): Promise<CommandResult> {
    return new Promise((resolve) => {
      const child = spawn(cli.path, ['apply', '-input=false', '-no-color', '-auto-approve', '-lock-timeout=0s'], {
        cwd: stackDir,
        env: { ...toolchainEnv(), ...pgEnv, TF_IN_AUTOMATION: '1' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    pgEnv = { PG_CONN_STR: await postgresUp() };
    synth(3);
    tfOk(['init', '-input=false', '-no-color']);
  }, 180000);

  afterAll(async () => {
    await postgresUp();
    await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', bootstrapServers(), '--delete', '--topic', topic]).catch(() => undefined);
  });

  it('applies, and a second plan is empty', () => {
    apply();
    expect(emptyPlan()).toBe(true);
    apply();
    expect(emptyPlan()).toBe(true);
  });

  it('lists and shows the expected state addresses', () => {
    const id = topicId(topic);
    expect(tfOk(['state', 'list']).trim().split('\n').sort()).toEqual(['data.kafka_topics.existing_topics', `kafka_topic.${id}`]);
    const shown = tfOk(['state', 'show', '-no-color', `kafka_topic.${id}`]);
    expect(shown).toContain(`name               = "${topic}"`);
    expect(shown).toMatch(/partitions\s+= 3/);
  });

  it('lets only one of two concurrent applies take the lock, and the state stays valid', async () => {
    synth(3, { seconds: 8, trigger: uniqueName('lock') });
    const first = applyAsync();
    await new Promise((r) => setTimeout(r, 3000));
    const second = await applyAsync();
    const firstResult = await first;

    expect(firstResult.status).toBe(0);
    expect(second.status).not.toBe(0);
    expect(second.stderr.replace(/\s+/g, ' ')).toMatch(/Error acquiring the state lock/);

    expect(tfOk(['state', 'list']).trim().split('\n').sort()).toEqual(['data.kafka_topics.existing_topics', 'terraform_data.slow', `kafka_topic.${topicId(topic)}`].sort());
    expect(emptyPlan()).toBe(true);
  }, 120000);

  it('fails clearly when PostgreSQL is down, changes nothing, and resumes once it is back', async () => {
    const serialBefore = (JSON.parse(tfOk(['state', 'pull'])) as { serial: number }).serial;
    synth(6);
    postgresDown();
    try {
      const refused = tf(['apply', '-input=false', '-no-color', '-auto-approve']);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr.replace(/\s+/g, ' ')).toMatch(/127\.0\.0\.1.*(connection refused|connect: connection refused)/i);
      const described = await runKafkaTool(KafkaTools.topics, ['--bootstrap-server', bootstrapServers(), '--describe', '--topic', topic]);
      expect(described).toMatch(/PartitionCount:\s*3\b/);
    } finally {
      pgEnv = { PG_CONN_STR: await postgresUp() };
    }
    const serialAfter = (JSON.parse(tfOk(['state', 'pull'])) as { serial: number }).serial;
    expect(serialAfter).toBe(serialBefore);
    apply();
    expect(emptyPlan()).toBe(true);
  }, 120000);
});
