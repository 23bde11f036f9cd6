import { ENVIRONMENT_NAMES } from '../../config/environments';
import type { Synthesized, TerraformJson } from '../support/synth';

/**
 * The way off the archived cdktf: CDK Terrain (npm `cdktn`) in its place, as the npm alias
 * `"cdktf": "npm:cdktn@..."` would put it, so the project's code, the prebuilt provider
 * bindings and the generated Kafka bindings all load it (docs/architecture.md, "Moving to CDK
 * Terrain"). Every stack of every environment must synthesize to the same Terraform JSON.
 */
type Engine = 'cdktf' | 'cdktn';

/** Synthesizes an environment with one engine, in a module registry of its own. */
function synthWith(engine: Engine, environment: string): { synthesized: Synthesized; loaded: unknown } {
  let result: { synthesized: Synthesized; loaded: unknown } | undefined;
  jest.isolateModules(() => {
    if (engine === 'cdktn') jest.doMock('cdktf', () => jest.requireActual('cdktn'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { synthEnvironment } = require('../support/synth') as typeof import('../support/synth');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    result = { synthesized: synthEnvironment(environment), loaded: require('cdktf') };
  });
  jest.dontMock('cdktf');
  return result!;
}

/** The metadata each tool stamps into a stack (its own version), set aside for the comparison. */
function withoutStamp(stack: TerraformJson): { stack: TerraformJson; stamp: unknown } {
  const copy = JSON.parse(JSON.stringify(stack)) as TerraformJson;
  const stamp = copy['//']?.metadata?.version;
  if (copy['//']?.metadata) delete copy['//'].metadata.version;
  return { stack: copy, stamp };
}

describe.each(ENVIRONMENT_NAMES)('the %s environment under CDK Terrain', (environment) => {
  const cdktf = synthWith('cdktf', environment);
  const cdktn = synthWith('cdktn', environment);

  test('really runs on each engine: cdktf 0.21 and cdktn 0.24 each stamp their own version', () => {
    // Ephemeral resources exist in CDK Terrain only.
    expect(Object.keys(cdktn.loaded as object)).toContain('TerraformEphemeralResource');
    expect(Object.keys(cdktf.loaded as object)).not.toContain('TerraformEphemeralResource');
    for (const name of Object.keys(cdktf.synthesized.stacks)) {
      expect(withoutStamp(cdktf.synthesized.stacks[name]).stamp).toBe('0.21.0');
      expect(withoutStamp(cdktn.synthesized.stacks[name]).stamp).toBe('0.24.0');
    }
  });

  test('synthesizes the same stacks to the same Terraform JSON, apart from the stamped version', () => {
    expect(Object.keys(cdktn.synthesized.stacks).sort()).toEqual(Object.keys(cdktf.synthesized.stacks).sort());
    for (const name of Object.keys(cdktf.synthesized.stacks)) {
      expect({ name, ...withoutStamp(cdktn.synthesized.stacks[name]).stack }).toEqual({ name, ...withoutStamp(cdktf.synthesized.stacks[name]).stack });
    }
  });
});
