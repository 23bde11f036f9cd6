import { spawnSync } from 'child_process';
import { toolchainEnv } from '../../tools/paths';

export { toolchainEnv };

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
