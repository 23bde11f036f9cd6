import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ENVIRONMENT_VARIABLE, environments, loadConfig, versions } from '../../config';
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

  it('deploy every environment with state shared by its jobs and images where its cluster pulls them from', () => {
    const stage = load('deploy-environment.yml');
    // What a job's `env:` becomes for a run: `${{ inputs.x }}` and `${{ vars.X }}` substituted.
    const resolve = (env: Record<string, string>, inputs: Record<string, string>, vars: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(env).map(([k, v]) => [
          k,
          String(v).replace(/\$\{\{\s*(inputs|vars)\.(\w+)\s*\}\}/g, (_m, scope: string, name: string) => (scope === 'inputs' ? inputs : vars)[name] ?? ''),
        ]),
      );
    const configFor = (env: Record<string, string>) => {
      const saved = { ...process.env };
      try {
        Object.assign(process.env, env);
        return loadConfig(env[ENVIRONMENT_VARIABLE]);
      } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
      }
    };
    for (const environment of ['dev', 'prod']) {
      const vars = { IMAGE_REGISTRY: `registry.example.com/kafka-platform-${environment}` };
      const stack = configFor(resolve(stage.jobs.stack.env, { environment }, vars));
      const images = configFor(resolve(stage.jobs.images.env, { environment }, vars));
      // Each stack job is a fresh runner: a local state file would be gone for the next job and the next run.
      expect({ environment, backend: stack.backend.type }).toEqual({ environment, backend: 'pg' });
      // The images job pushes where workloads-stack points the pods.
      expect({ environment, registry: stack.imageRegistry }).toEqual({ environment, registry: vars.IMAGE_REGISTRY });
      expect(images.imageRegistry).toBe(stack.imageRegistry);
    }
    // prod keeps the schemas its config names; the workflow only makes dev shared as well.
    expect(stage.jobs.stack.env.KAFKA_PLATFORM_PG_SCHEMA_PREFIX.replace('${{ inputs.environment }}', 'prod')).toBe((environments.prod.backend as { schemaPrefix: string }).schemaPrefix);
    // Without IMAGE_REGISTRY, dev's laptop registry is refused before anything is pushed.
    const check = (stage.jobs.images.steps as { name?: string; run?: string }[]).find((step) => step.name === 'Check the registry is one the cluster can pull from')!;
    expect(check.run).toMatch(/localhost\|localhost:\*\|127\.\*/);
    expect(environments.dev.imageRegistry).toMatch(/^localhost:/);
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
