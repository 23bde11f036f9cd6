import { TerraformStack, Testing } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { KafkaAlertRules } from '../../modules/observability/kafka-alerts';
import { ServiceAlertRules } from '../../modules/observability/service-alerts';
import { validateCustomResource } from '../support/schemas';
import { TerraformJson, resourcesOf, synthEnvironment } from '../support/synth';

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string };
}

/** `<stack>.<resource id> (<kind> <name>): <problem>` for every kubernetes_manifest that fails its CRD schema. */
function manifestProblems(stacks: Record<string, TerraformJson>): { checked: number; problems: string[] } {
  let checked = 0;
  const problems: string[] = [];
  for (const [stackName, stack] of Object.entries(stacks)) {
    for (const [id, resource] of Object.entries(resourcesOf(stack, 'kubernetes_manifest'))) {
      const manifest = resource.manifest as Manifest;
      checked += 1;
      for (const problem of validateCustomResource(manifest)) {
        problems.push(`${stackName}.${id} (${manifest.kind} ${manifest.metadata?.name ?? '?'}): ${problem}`);
      }
    }
  }
  return { checked, problems };
}

describe.each(['dev', 'prod'])('kubernetes_manifest objects of the %s environment', (environment) => {
  const { stacks } = synthEnvironment(environment);

  it('all validate against their CRD schemas (unknown fields rejected)', () => {
    const { checked, problems } = manifestProblems(stacks);
    expect(checked).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('stay out of addons-stack, which installs the CRDs they need at plan time', () => {
    expect(Object.keys(resourcesOf(stacks['addons-stack'], 'kubernetes_manifest'))).toEqual([]);
  });
});

describe('the alert rule constructs', () => {
  function synthRules(): Record<string, TerraformJson> {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'rules');
    new KubernetesProvider(stack, 'kubernetes', {});
    new KafkaAlertRules(stack, 'kafka-alerts', { namespace: 'kafka', labels: { team: 'platform' }, expectedBrokers: 3 });
    const ns = new NamespaceV1(stack, 'workloads-namespace', { metadata: { name: 'workloads' } });
    new ServiceAlertRules(stack, 'service-alerts', { namespace: 'workloads', labels: {}, dependsOn: [ns] });
    return { rules: JSON.parse(Testing.synth(stack)) as TerraformJson };
  }

  it('synthesize PrometheusRules that validate against the CRD', () => {
    const stacks = synthRules();
    const { checked, problems } = manifestProblems(stacks);
    expect(checked).toBe(2);
    expect(problems).toEqual([]);
    const kinds = Object.values(resourcesOf(stacks.rules, 'kubernetes_manifest')).map((r) => `${r.manifest.kind}/${r.manifest.metadata.namespace}/${r.manifest.metadata.name}`);
    expect(kinds.sort()).toEqual(['PrometheusRule/kafka/kafka-platform-kafka-alerts', 'PrometheusRule/workloads/kafka-platform-service-alerts']);
  });

  it('are ordered after what they are told to depend on', () => {
    const manifests = resourcesOf(synthRules().rules, 'kubernetes_manifest');
    const services = Object.values(manifests).find((r) => r.manifest.metadata.namespace === 'workloads')!;
    expect(services.depends_on).toEqual(['kubernetes_namespace_v1.workloads-namespace']);
  });

  it('would be caught with a misspelt rule field, named by its path', () => {
    const [resource] = Object.values(resourcesOf(synthRules().rules, 'kubernetes_manifest'));
    const broken = JSON.parse(JSON.stringify(resource.manifest)) as { spec: { groups: { rules: Record<string, unknown>[] }[] } };
    const rule = broken.spec.groups[0].rules[0];
    rule.fore = rule.for;
    delete rule.for;
    expect(validateCustomResource(broken as unknown as Manifest)).toEqual(['/spec/groups/0/rules/0 must NOT have additional properties (unknown field "fore")']);
  });
});
