import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { buildApp } from '../../main';

/** A synthesized environment: the output directory and each stack's Terraform JSON. */
export interface Synthesized {
  readonly outdir: string;
  readonly stacks: Record<string, TerraformJson>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TerraformJson = Record<string, any>;

/** Synthesizes every stack of `environment` into a fresh directory, as `cdktf synth` does. */
export function synthEnvironment(environment: string): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `synth-${environment}-`));
  const app = buildApp(new App({ outdir, context: { environment } }));
  app.synth();
  const stacksDir = path.join(outdir, 'stacks');
  const stacks: Record<string, TerraformJson> = {};
  for (const name of fs.readdirSync(stacksDir)) {
    stacks[name] = JSON.parse(fs.readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8')) as TerraformJson;
  }
  return { outdir, stacks };
}

/** All resources of one type in a stack, keyed by their logical id. */
export function resourcesOf(stack: TerraformJson, type: string): Record<string, TerraformJson> {
  return (stack.resource?.[type] ?? {}) as Record<string, TerraformJson>;
}
