import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderComment, stacksInDependencyOrder, summarizePlan } from '../../tools/plan-summary';
import { PROJECT_ROOT } from '../../tools/paths';
import { synthEnvironment } from '../support/synth';
import { toolchainEnv } from '../support/toolchain';

describe('stacksInDependencyOrder', () => {
  it('orders the synthesized stacks addons -> kafka -> workloads', () => {
    const { outdir } = synthEnvironment('prod');
    expect(stacksInDependencyOrder(path.join(outdir, 'manifest.json'))).toEqual(['addons-stack', 'kafka-stack', 'workloads-stack']);
  });
});

describe('summarizePlan', () => {
  it('finds the plan line through colour codes', () => {
    expect(summarizePlan('\u001b[1mPlan:\u001b[0m 2 to add, 0 to change, 0 to destroy.', true)).toBe('Plan: 2 to add, 0 to change, 0 to destroy.');
    expect(summarizePlan('Apply complete!', true)).toBe('Unknown: no plan line in the output');
    expect(summarizePlan('kafka-stack  Plan: 2 to add, 1 to change, 0 to destroy.', true)).toBe('Plan: 2 to add, 1 to change, 0 to destroy.');
    expect(summarizePlan('No changes. Your infrastructure matches the configuration.', true)).toBe('No changes.');
    expect(summarizePlan('Error: Failed to get existing workspaces: connection refused', false)).toBe('Failed: Failed to get existing workspaces: connection refused');
    // Terraform prints the plan it made before the error that stopped it.
    expect(summarizePlan('Plan: 0 to add, 1 to change, 0 to destroy.\nError: no bootstrap_servers provided', false)).toBe('Failed: no bootstrap_servers provided');
  });
});

describe('renderComment', () => {
  it('keeps a huge plan under the pull request comment limit', () => {
    const output = 'x'.repeat(200000);
    const comment = renderComment('dev', [
      { stack: 'addons-stack', ok: true, summary: 'No changes.', output },
      { stack: 'kafka-stack', ok: false, summary: 'Failed: boom', output },
    ]);
    expect(comment.length).toBeLessThan(65536);
    expect(comment).toContain('| `kafka-stack` | :x: Failed: boom |');
    expect(comment).toContain('truncated: full plan in the job log');
  });
});

describe('plan-summary on the local environment', () => {
  it('runs cdktf diff with the real CLI and provider and writes the summary', () => {
    const run = () => {
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'plan-summary-')), 'summary.md');
      const r = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['tools/plan-summary.ts', '--environment', 'local', '--out', out], {
        cwd: PROJECT_ROOT,
        env: toolchainEnv(),
        encoding: 'utf8',
      });
      // On a failure, the summary (with each stack's plan output) says why.
      const comment = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
      return { r, comment, why: r.status === 0 ? '' : (comment || r.stdout).slice(-4000) };
    };
    let attempt = run();
    if (attempt.r.status !== 0) {
      // One full-suite run out of two saw a failed local diff here, with no output kept; until its
      // cause is known, the first failure is printed whole and the command runs once more.
      console.log(`plan-summary failed once (exit ${attempt.r.status}), running it again; its summary:\n${attempt.why}`);
      attempt = run();
    }
    expect(attempt.r.stderr).not.toMatch(/plan-summary:/);
    expect({ status: attempt.r.status, why: attempt.why }).toEqual({ status: 0, why: '' });
    expect(attempt.comment).toMatch(/\| `kafka-stack` \| (Plan: \d+ to add, \d+ to change, 0 to destroy\.|No changes\.) \|/);
  }, 240000);
});
