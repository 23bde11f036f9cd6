import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT, paths } from '../tools/paths';

/**
 * `cdktf synth` of the project (every stack of `dev`) against a bare cdktf app with a single
 * resource, both through the same CLI and app command, so the difference is what the
 * project's own code costs.
 */

/** The variables tools/toolchain.ts writes (Terraform CLI config, provider mirror); synth needs the generated bindings too. */
export function toolchainEnv(): Record<string, string> {
  if (!fs.existsSync(paths.toolchainEnv) || !fs.existsSync(path.join(PROJECT_ROOT, '.gen'))) {
    throw new Error(`the toolchain is not installed (${paths.toolchainEnv}, .gen/): run \`npm run bootstrap\` first`);
  }
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(paths.toolchainEnv, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = JSON.parse(m[2]) as string;
  }
  return env;
}

const BARE_MAIN = `import { App, TerraformResource, TerraformStack } from 'cdktf';

// The smallest useful cdktf app: one stack, one resource of Terraform's built-in provider.
const app = new App();
const stack = new TerraformStack(app, 'bare');
new TerraformResource(stack, 'marker', { terraformResourceType: 'terraform_data' });
app.synth();
`;

/** Writes the bare app beside the bench's other scratch files; it resolves cdktf from the project's node_modules. */
export function writeBareApp(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const project = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdktf.json'), 'utf8')) as { app: string };
  fs.writeFileSync(path.join(dir, 'cdktf.json'), JSON.stringify({ language: 'typescript', app: project.app, sendCrashReports: 'false' }, null, 2));
  fs.writeFileSync(path.join(dir, 'main.ts'), BARE_MAIN);
}

/** Wall time of one `cdktf synth` in `appDir`; fails with the CLI's output when it fails or writes no stack. */
export function timeSynth(appDir: string, outDir: string, env: Record<string, string>): Promise<number> {
  fs.rmSync(outDir, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('cdktf', ['synth', '--output', outDir], {
      cwd: appDir,
      env: { ...process.env, ...env, KAFKA_PLATFORM_ENV: 'dev', CHECKPOINT_DISABLE: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => reject(new Error(`cannot run cdktf: ${err.message} (run the bench through npm run bench)`)));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const stacks = fs.existsSync(path.join(outDir, 'stacks')) ? fs.readdirSync(path.join(outDir, 'stacks')) : [];
      if (code !== 0 || stacks.length === 0) return reject(new Error(`cdktf synth in ${appDir} failed (exit ${code}):\n${output.slice(-3000)}`));
      resolve(seconds);
    });
  });
}
