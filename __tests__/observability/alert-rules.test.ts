import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { parse } from 'yaml';
import { environments } from '../../config';
import { KafkaAlertRules } from '../../modules/observability/kafka-alerts';
import { AlertRule, RUNBOOKS_DOC, RuleGroup, renderRulesFile, runbookAnchor } from '../../modules/observability/prometheus-rules';
import { ServiceAlertRules } from '../../modules/observability/service-alerts';
import { localRuleGroups } from '../../tools/local-prometheus';
import { PROJECT_ROOT } from '../../tools/paths';

const TESTS_DIR = path.join(__dirname, 'rules');
const RULES_FILE = 'kafka-platform-rules.yml';

function promtool(args: readonly string[], cwd: string): { status: number; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? 'promtool is not installed: apt-get install prometheus (it ships promtool); .ci/run installs it' : r.error.message);
  }
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** The rule groups exactly as the stacks deploy them: read back from the PrometheusRule objects. */
function deployedGroups(): RuleGroup[] {
  const { namespaces, kafka } = environments.dev;
  const stack = new TerraformStack(Testing.app(), 'rules');
  const kafkaRules = new KafkaAlertRules(stack, 'kafka', { namespace: namespaces.kafka, expectedBrokers: kafka.brokers });
  const serviceRules = new ServiceAlertRules(stack, 'services', { namespace: namespaces.workloads });
  return [kafkaRules, serviceRules].flatMap((c) => (c.rule.object.spec as { groups: RuleGroup[] }).groups);
}

interface PromtoolTestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

describe('alert rules', () => {
  const groups = deployedGroups();
  const rules: AlertRule[] = groups.flatMap((g) => [...g.rules]);
  let workDir: string;

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'alert-rules-'));
    fs.writeFileSync(path.join(workDir, RULES_FILE), renderRulesFile(groups));
    // promtool resolves rule_files relative to the test file, so both sit in one directory.
    for (const file of fs.readdirSync(TESTS_DIR)) fs.copyFileSync(path.join(TESTS_DIR, file), path.join(workDir, file));
  });

  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

  it('pass `promtool check rules` as deployed', () => {
    const r = promtool(['check', 'rules', RULES_FILE], workDir);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('pass `promtool check rules` with the local test override of `for:`', () => {
    fs.writeFileSync(path.join(workDir, 'local.yml'), renderRulesFile(localRuleGroups('5s')));
    const r = promtool(['check', 'rules', 'local.yml'], workDir);
    expect(r.status).toBe(0);
  });

  it('pass every `promtool test rules` unit test', () => {
    const files = fs.readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const r = promtool(['test', 'rules', ...files], workDir);
    if (r.status !== 0) throw new Error(`promtool test rules failed:\n${r.output}`);
  });

  it('have unit tests for every alert, both firing and silent', () => {
    const cases = new Map<string, { firing: number; silent: number }>();
    for (const file of fs.readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yaml'))) {
      const doc = parse(fs.readFileSync(path.join(TESTS_DIR, file), 'utf8')) as PromtoolTestFile;
      for (const t of doc.tests.flatMap((x) => x.alert_rule_test ?? [])) {
        const c = cases.get(t.alertname) ?? { firing: 0, silent: 0 };
        if ((t.exp_alerts ?? []).length > 0) c.firing += 1;
        else c.silent += 1;
        cases.set(t.alertname, c);
      }
    }
    const missing = rules.filter((r) => !(cases.get(r.alert)?.firing && cases.get(r.alert)?.silent)).map((r) => r.alert);
    expect(missing).toEqual([]);
    // No test for an alert that does not exist.
    expect([...cases.keys()].filter((name) => !rules.some((r) => r.alert === name))).toEqual([]);
  });

  it('carry a severity, a summary, a description and a runbook link', () => {
    for (const rule of rules) {
      expect({ alert: rule.alert, severity: rule.labels.severity }).toEqual({ alert: rule.alert, severity: expect.stringMatching(/^(warning|critical)$/) });
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toBeTruthy();
      expect(rule.annotations.runbook_url).toBe(`${RUNBOOKS_DOC}#${runbookAnchor(rule.alert)}`);
    }
  });

  it('each have a runbook section with meaning, impact, diagnosis and fix', () => {
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, RUNBOOKS_DOC), 'utf8');
    const sections = new Map<string, string>();
    for (const part of doc.split(/^## /m).slice(1)) {
      const [heading, ...body] = part.split('\n');
      sections.set(heading.trim().toLowerCase(), body.join('\n'));
    }
    for (const rule of rules) {
      const body = sections.get(runbookAnchor(rule.alert));
      expect({ alert: rule.alert, hasSection: body !== undefined }).toEqual({ alert: rule.alert, hasSection: true });
      for (const sub of ['Meaning', 'Impact', 'Diagnosis', 'Fix']) {
        expect({ alert: rule.alert, sub, present: new RegExp(`^### ${sub}$`, 'm').test(body!) }).toEqual({ alert: rule.alert, sub, present: true });
      }
    }
    // No runbook left behind for an alert that was removed.
    expect([...sections.keys()].filter((s) => !rules.some((r) => runbookAnchor(r.alert) === s))).toEqual([]);
  });

  it('keep their production durations unless a local test overrides them explicitly', () => {
    const local = localRuleGroups('5s').flatMap((g) => [...g.rules]);
    const byName = new Map(local.map((r) => [r.alert, r]));
    for (const rule of rules) {
      expect(rule.for).not.toBe('5s');
      expect({ ...byName.get(rule.alert), for: rule.for }).toEqual(rule);
    }
  });
});
