/**
 * Runs `cdktf diff` for every stack of an environment in dependency order and writes a
 * Markdown summary for the pull request comment.
 *
 *   tools/with-toolchain.sh npx tsx tools/plan-summary.ts --environment dev --out plan-summary.md
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from './paths';

export interface StackPlan {
  readonly stack: string;
  /** The plan line, e.g. `Plan: 1 to add, 0 to change, 0 to destroy.`, or `No changes.`. */
  readonly summary: string;
  readonly ok: boolean;
  readonly output: string;
}

/** Stacks of a synthesized app, each after the stacks it depends on. */
export function stacksInDependencyOrder(manifestFile: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { stacks: Record<string, { name: string; dependencies: string[] }> };
  const stacks = Object.values(manifest.stacks);
  const ordered: string[] = [];
  const visit = (name: string, trail: string[]) => {
    if (ordered.includes(name)) return;
    if (trail.includes(name)) throw new Error(`stack dependency cycle: ${[...trail, name].join(' -> ')}`);
    const stack = stacks.find((s) => s.name === name);
    if (!stack) throw new Error(`unknown stack "${name}" in ${manifestFile}`);
    for (const dep of stack.dependencies) visit(dep, [...trail, name]);
    ordered.push(name);
  };
  for (const s of stacks) visit(s.name, []);
  return ordered;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/**
 * The one-line outcome of a `cdktf diff` / `terraform plan` output. A failed plan is a
 * failure even when Terraform printed a plan line first ("planned the following actions,
 * but then encountered a problem").
 */
export function summarizePlan(output: string, ok: boolean): string {
  const text = output.replace(ANSI, '');
  if (!ok) {
    const error = /Error: (.+)/.exec(text);
    return `Failed: ${error ? error[1].trim() : 'see the job log'}`;
  }
  const plan = /Plan: \d+ to add, \d+ to change, \d+ to destroy\./.exec(text);
  if (plan) return plan[0];
  if (/No changes\./.test(text)) return 'No changes.';
  return 'Unknown: no plan line in the output';
}

const COMMENT_LIMIT = 60000;

/** The pull request comment: a table of outcomes, then each stack's plan, folded and bounded. */
export function renderComment(environment: string, plans: readonly StackPlan[]): string {
  const rows = plans.map((p) => `| \`${p.stack}\` | ${p.ok ? '' : ':x: '}${p.summary} |`);
  const head = [`### Plan for \`${environment}\``, '', '| stack | plan |', '| --- | --- |', ...rows, ''].join('\n');
  const budget = Math.floor((COMMENT_LIMIT - head.length) / Math.max(1, plans.length)) - 200;
  const details = plans.map((p) => {
    const clean = p.output.replace(ANSI, '').trim();
    const body = clean.length > budget ? `${clean.slice(0, budget)}\n... (truncated: full plan in the job log)` : clean;
    return `<details><summary>${p.stack}: ${p.summary}</summary>\n\n\`\`\`\n${body}\n\`\`\`\n</details>`;
  });
  return `${head}\n${details.join('\n\n')}\n`;
}

function diff(stack: string): StackPlan {
  const r = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdktf'), ['diff', stack, '--skip-synth', '--skip-provider-lock'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: '1', FORCE_COLOR: '0' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const ok = r.status === 0;
  return { stack, ok, output, summary: summarizePlan(output, ok) };
}

function main(): void {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const environment = arg('environment') ?? process.env.KAFKA_PLATFORM_ENV ?? 'dev';
  const out = arg('out') ?? 'plan-summary.md';
  process.env.KAFKA_PLATFORM_ENV = environment;
  const synth = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdktf'), ['synth'], { cwd: PROJECT_ROOT, stdio: 'inherit', env: { ...process.env, CI: '1' } });
  if (synth.status !== 0) throw new Error('cdktf synth failed');
  const plans: StackPlan[] = [];
  for (const stack of stacksInDependencyOrder(path.join(PROJECT_ROOT, 'cdktf.out', 'manifest.json'))) {
    console.log(`==> cdktf diff ${stack} (${environment})`);
    const plan = diff(stack);
    console.log(`    ${plan.summary}`);
    plans.push(plan);
  }
  fs.writeFileSync(out, renderComment(environment, plans));
  console.log(`plan summary written to ${out}`);
  if (plans.some((p) => !p.ok)) process.exitCode = 1;
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`plan-summary: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
