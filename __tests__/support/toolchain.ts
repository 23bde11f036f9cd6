import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { paths } from '../../tools/paths';

/** The variables tools/toolchain.ts wrote; a missing toolchain fails the test loudly. */
export function toolchainEnv(): NodeJS.ProcessEnv {
  if (!fs.existsSync(paths.toolchainEnv)) {
    throw new Error(`${paths.toolchainEnv} is missing: run \`npm run bootstrap\` (npm test does it first)`);
  }
  const vars: Record<string, string> = {};
  for (const line of fs.readFileSync(paths.toolchainEnv, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]] = JSON.parse(m[2]) as string;
  }
  return { ...process.env, ...vars };
}

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A Terraform-compatible CLI the toolchain found or built. */
export interface Cli {
  readonly name: 'terraform' | 'opentofu';
  readonly path: string;
}

/** Every CLI on this machine (Terraform >= the minimum, OpenTofu when built); at least one. */
export function availableClis(): Cli[] {
  const env = toolchainEnv();
  const clis: Cli[] = [];
  if (env.KAFKA_PLATFORM_TERRAFORM) clis.push({ name: 'terraform', path: env.KAFKA_PLATFORM_TERRAFORM });
  if (env.KAFKA_PLATFORM_OPENTOFU) clis.push({ name: 'opentofu', path: env.KAFKA_PLATFORM_OPENTOFU });
  if (clis.length === 0) throw new Error('no Terraform-compatible CLI in the toolchain: run `npm run bootstrap`');
  return clis;
}

/** Runs the project's Terraform-compatible CLI (or `cli`) in `cwd`. */
export function terraform(args: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}, cliPath?: string): CommandResult {
  const env: NodeJS.ProcessEnv = { ...toolchainEnv(), ...extraEnv, TF_IN_AUTOMATION: '1' };
  const cli = cliPath ?? (env.TERRAFORM_BINARY_NAME as string);
  const r = spawnSync(cli, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like terraform(), but throws with the CLI's own output when it fails. */
export function terraformOk(args: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}, cliPath?: string): string {
  const r = terraform(args, cwd, extraEnv, cliPath);
  if (r.status !== 0) throw new Error(`terraform ${args.join(' ')} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
