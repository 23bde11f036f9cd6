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
interface Run {
  readonly synthesized: Synthesized;
  /** What `require('cdktf')` gave. */
  readonly loaded: unknown;
  /** Whether the prebuilt Kubernetes binding's resources extend that module's TerraformResource. */
  readonly bindingOnLoaded: boolean;
}

function synthWith(engine: Engine, environment: string): Run {
  let result: Run | undefined;
  jest.isolateModules(() => {
    if (engine === 'cdktn') jest.doMock('cdktf', () => jest.requireActual('cdktn'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { synthEnvironment } = require('../support/synth') as typeof import('../support/synth');
    /* eslint-disable @typescript-eslint/no-require-imports */
    const loaded = require('cdktf') as typeof import('cdktf');
    const { NamespaceV1 } = require('@cdktf/provider-kubernetes/lib/namespace-v1') as typeof import('@cdktf/provider-kubernetes/lib/namespace-v1');
    /* eslint-enable @typescript-eslint/no-require-imports */
    result = { synthesized: synthEnvironment(environment), loaded, bindingOnLoaded: Object.getPrototypeOf(NamespaceV1) === loaded.TerraformResource };
  });
  jest.dontMock('cdktf');
  return result!;
}

/** The version of an installed package (package.json pins them exactly). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const installed = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

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

  test('really runs on each engine: cdktf and cdktn each stamp their own version', () => {
    // Ephemeral resources exist in CDK Terrain only.
    expect(Object.keys(cdktn.loaded as object)).toContain('TerraformEphemeralResource');
    expect(Object.keys(cdktf.loaded as object)).not.toContain('TerraformEphemeralResource');
    // The prebuilt bindings run on the same engine as the stacks, as the npm alias makes them.
    expect([cdktf.bindingOnLoaded, cdktn.bindingOnLoaded]).toEqual([true, true]);
    for (const name of Object.keys(cdktf.synthesized.stacks)) {
      expect(withoutStamp(cdktf.synthesized.stacks[name]).stamp).toBe(installed('cdktf'));
      expect(withoutStamp(cdktn.synthesized.stacks[name]).stamp).toBe(installed('cdktn'));
    }
  });

  test('synthesizes the same stacks to the same Terraform JSON, apart from the stamped version', () => {
    expect(Object.keys(cdktn.synthesized.stacks).sort()).toEqual(Object.keys(cdktf.synthesized.stacks).sort());
    for (const name of Object.keys(cdktf.synthesized.stacks)) {
      expect({ name, ...withoutStamp(cdktn.synthesized.stacks[name]).stack }).toEqual({ name, ...withoutStamp(cdktf.synthesized.stacks[name]).stack });
    }
  });
});
