import * as os from 'os';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { environments } from '../../config';
import { requireDeployed } from '../../modules/deploy-order';
import { PlatformStack } from '../../modules/platform-stack';
import { synthEnvironment, TerraformJson } from '../support/synth';

describe('deploy order checks', () => {
  const { stacks } = synthEnvironment('prod');

  it.each([
    ['kafka-stack', 'addons-stack', 'CustomResourceDefinition', 'metadata.name=kafkas.kafka.strimzi.io'],
    ['workloads-stack', 'addons-stack', 'Namespace', 'metadata.name=monitoring'],
    ['workloads-stack', 'kafka-stack', 'ConfigMap', 'metadata.name=platform-kafka-metrics'],
  ])('%s checks that %s is deployed (%s %s) before it reads its state', (stack, source, kind, selector) => {
    const tf: TerraformJson = stacks[stack];
    const guard = tf.data.kubernetes_resources[`requires-${source}`];
    expect(guard).toMatchObject({ kind, field_selector: selector });
    expect(guard.lifecycle.postcondition[0]).toEqual({
      condition: '${length(self.objects) > 0}',
      error_message: expect.stringMatching(new RegExp(`^${stack} reads ${source}'s outputs, but ${source} has not been deployed to this environment \\(.+ is missing\\): deploy ${source} first\\.$`)),
    });
    const lookup = tf.data.terraform_remote_state[`cross-stack-reference-input-${source}`];
    expect(lookup.depends_on).toEqual([`data.kubernetes_resources.requires-${source}`]);
    // A destroyed stack leaves a state without outputs: the same advice.
    expect(lookup.lifecycle.postcondition[0].condition).toBe('${length(keys(self.outputs)) > 0}');
    expect(lookup.lifecycle.postcondition[0].error_message).toMatch(new RegExp(`\\(its state has no outputs\\): deploy ${source} first\\.$`));
  });

  it('addons-stack reads no other stack and checks nothing', () => {
    expect(stacks['addons-stack'].data?.terraform_remote_state).toBeUndefined();
    // Its one cluster lookup is the storage class check (modules/storage-class-check.ts), no deploy-order guard.
    expect(Object.keys(stacks['addons-stack'].data?.kubernetes_resources ?? {}).filter((id) => id.startsWith('requires-'))).toEqual([]);
  });

  it('refuses a check of a stack whose outputs are never read (a misspelt stack name)', () => {
    class Reader extends PlatformStack {}
    const app = new App({ outdir: os.tmpdir() });
    const source = new TerraformStack(app, 'source-stack');
    const out = new TerraformOutput(source, 'x', { value: 'v' });
    const reader = new Reader(app, 'reader-stack', { env: environments.prod });
    new KubernetesProvider(reader, 'kubernetes', {});
    new TerraformOutput(reader, 'y', { value: out.value });
    requireDeployed(reader, 'sorce-stack', { apiVersion: 'v1', kind: 'Namespace', name: 'x', description: 'x' });
    expect(() => app.synth()).toThrow('reader-stack checks that sorce-stack is deployed but reads nothing from it: remove the check or fix the stack name');
  });
});
