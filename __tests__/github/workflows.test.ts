import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../tools/paths';
import { toolchainEnv } from '../support/toolchain';

const WORKFLOWS = path.join(PROJECT_ROOT, '.github', 'workflows');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (name: string): any => parse(fs.readFileSync(path.join(WORKFLOWS, name), 'utf8'));

describe('GitHub workflows', () => {
  it('pass actionlint', () => {
    const actionlint = toolchainEnv().KAFKA_PLATFORM_ACTIONLINT;
    if (!actionlint || !fs.existsSync(actionlint)) throw new Error('actionlint is missing from the toolchain: run `npm run bootstrap`');
    const r = spawnSync(actionlint, ['-no-color'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('diff every environment on pull requests and keep one comment per environment updated in place', () => {
    const pr = load('pull-request.yml');
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    const steps = pr.jobs.diff.steps as { run?: string; with?: { script?: string } }[];
    expect(steps.some((s) => s.run?.includes('tools/plan-summary.ts'))).toBe(true);
    const script = steps.find((s) => s.with?.script)!.with!.script!;
    expect(script).toContain('updateComment');
    expect(script).toContain('kafka-platform-plan:');
    expect(pr.jobs.diff.strategy.matrix.environment).toEqual(['dev', 'prod']);
  });

  it('deploy dev then prod, one stack at a time in dependency order, prod behind its environment', () => {
    const deploy = load('deploy.yml');
    expect(deploy.jobs.prod.needs).toBe('dev');
    expect(deploy.jobs.dev.needs).toBe('test');
    const stage = load('deploy-environment.yml');
    const job = stage.jobs.stack;
    expect(job.strategy.matrix.stack).toEqual(['addons-stack', 'kafka-stack', 'workloads-stack']);
    expect(job.strategy['max-parallel']).toBe(1);
    // The environment carries the required reviewers for prod.
    expect(job.environment).toBe('${{ inputs.environment }}');
  });

  it('take credentials only from repository secrets', () => {
    for (const file of fs.readdirSync(WORKFLOWS)) {
      const text = fs.readFileSync(path.join(WORKFLOWS, file), 'utf8');
      for (const m of text.matchAll(/^\s+(PG_CONN_STR|TF_VAR_\w+|KUBECONFIG_B64):\s*(.+)$/gm)) {
        expect(m[2]).toMatch(/^\$\{\{ secrets\.[A-Z0-9_]+ \}\}$/);
      }
    }
  });
});
