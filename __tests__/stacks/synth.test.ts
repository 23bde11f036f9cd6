import * as path from 'path';
import { synthEnvironment } from '../support/synth';
import { terraformOk } from '../support/toolchain';
import { versions } from '../../config';

const KUBERNETES_ENVIRONMENTS = ['dev', 'prod'] as const;

describe.each(KUBERNETES_ENVIRONMENTS)('the %s environment', (environment) => {
  const synthesized = synthEnvironment(environment);

  it('synthesizes the three stacks', () => {
    expect(Object.keys(synthesized.stacks).sort()).toEqual(['addons-stack', 'kafka-stack', 'workloads-stack']);
  });

  it('pins every provider to the build in the local mirror', () => {
    for (const stack of Object.values(synthesized.stacks)) {
      const required = stack.terraform.required_providers as Record<string, { version: string }>;
      for (const [type, spec] of Object.entries(required)) {
        const pin = Object.values(versions.providers).find((p) => p.type === type);
        expect(pin).toBeDefined();
        expect(spec.version).toBe(pin!.version);
      }
    }
  });

  it('keeps connection secrets out of the synthesized JSON', () => {
    for (const stack of Object.values(synthesized.stacks)) {
      const text = JSON.stringify(stack);
      expect(text).not.toMatch(/postgres(ql)?:\/\/[^"]*:[^"]*@/);
      expect(text).not.toMatch(/"password"\s*:\s*"[^"$]/);
    }
  });

  it.each(['addons-stack', 'kafka-stack', 'workloads-stack'])('%s passes terraform init and validate with the real providers', (stack) => {
    const dir = path.join(synthesized.outdir, 'stacks', stack);
    terraformOk(['init', '-backend=false', '-input=false', '-no-color'], dir);
    const out = terraformOk(['validate', '-json', '-no-color'], dir);
    const result = JSON.parse(out) as { valid: boolean; error_count: number; diagnostics: unknown[] };
    expect(result).toMatchObject({ valid: true, error_count: 0 });
  });
});

describe('stack dependencies', () => {
  it('orders addons -> kafka -> workloads and wires the bootstrap address across stacks', () => {
    const { stacks } = synthEnvironment('dev');
    // Cross-stack references become remote state lookups, never copied literals.
    const workloadsRemote = JSON.stringify(stacks['workloads-stack'].data?.terraform_remote_state ?? {});
    expect(workloadsRemote).toContain('kafka-stack');
    const configMap = Object.values(stacks['workloads-stack'].resource.kubernetes_config_map_v1)[0] as { data: Record<string, string> };
    expect(configMap.data.KAFKA_BROKERS).toMatch(/^\$\{data\.terraform_remote_state\./);
  });
});
