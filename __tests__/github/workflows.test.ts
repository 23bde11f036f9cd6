import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { versions } from '../../config';
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

  it('run Node.js at the pinned LTS version', () => {
    for (const file of fs.readdirSync(WORKFLOWS)) {
      const workflow = load(file);
      for (const job of Object.values(workflow.jobs) as { steps?: { uses?: string; with?: { 'node-version'?: string } }[] }[]) {
        for (const step of job.steps ?? []) {
          if (step.uses?.startsWith('actions/setup-node@')) expect(`${file}: ${step.with?.['node-version']}`).toBe(`${file}: ${versions.node.version}`);
        }
      }
    }
  });

  it('build the images from the pinned bases, scan both SBOMs (high or critical fails) and sign only what passed', () => {
    type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown> };
    const scans = (steps: Step[]) => steps.filter((s) => s.uses?.startsWith('anchore/scan-action@'));
    const index = (steps: Step[], pattern: RegExp) => steps.findIndex((s) => pattern.test(s.run ?? ''));

    const pr = load('pull-request.yml').jobs.images.steps as Step[];
    expect(pr[index(pr, /npm run images\b/)].run).toContain('--bases pinned');
    expect(scans(pr).map((s) => s.with)).toEqual(
      ['producer', 'consumer'].map((service) => ({ sbom: `.cache/images/sbom/${service}.cdx.json`, 'fail-build': true, 'severity-cutoff': 'high' })),
    );

    const stage = load('deploy-environment.yml');
    const steps = stage.jobs.images.steps as Step[];
    const build = index(steps, /npm run images -- --bases pinned --environment/);
    const sign = index(steps, /npm run images -- sign --sign-key env:\/\/COSIGN_PRIVATE_KEY/);
    expect(build).toBeGreaterThanOrEqual(0);
    expect(scans(steps)).toHaveLength(2);
    for (const scan of scans(steps)) expect(steps.indexOf(scan)).toBeGreaterThan(build);
    for (const scan of scans(steps)) expect(steps.indexOf(scan)).toBeLessThan(sign);
    expect(stage.jobs.stack.needs).toBe('images');
  });

  it('take credentials only from repository secrets', () => {
    for (const file of fs.readdirSync(WORKFLOWS)) {
      const text = fs.readFileSync(path.join(WORKFLOWS, file), 'utf8');
      for (const m of text.matchAll(/^\s+(PG_CONN_STR|TF_VAR_\w+|KUBECONFIG_B64|COSIGN_\w+|REGISTRY_\w+):\s*(.+)$/gm)) {
        // Image digests are no secret: they come from the job that pushed, scanned and signed them.
        const digest = /^TF_VAR_(producer|consumer)_image_digest$/.exec(m[1]);
        if (digest) expect(m[2]).toBe(`\${{ needs.images.outputs.${digest[1]}-digest }}`);
        else expect(m[2]).toMatch(/^\$\{\{ secrets\.[A-Z0-9_]+ \}\}$/);
      }
    }
  });
});
