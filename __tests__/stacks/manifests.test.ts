import { TerraformStack, Testing } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { KafkaAlertRules } from '../../modules/observability/kafka-alerts';
import { ServiceAlertRules } from '../../modules/observability/service-alerts';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { SCHEMAS_DIR, crdSchemas } from '../support/schemas';
import { TerraformJson, resourcesOf, synthEnvironment } from '../support/synth';

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string };
}

/**
 * CRD patterns are Go (RE2) regular expressions; the PrometheusRule CRD uses the inline flag
 * `(?i)`, which JavaScript rejects. Translate it to the `i` flag; everything else is shared syntax.
 */
function goRegExp(pattern: string, flags: string): RegExp {
  const inline = /^\^?\(\?i\)/.exec(pattern);
  return inline ? new RegExp(pattern.replace('(?i)', ''), `${flags}i`) : new RegExp(pattern, flags);
}
goRegExp.code = 'goRegExp';

const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp: goRegExp } });
ajv.addFormat('int32', true);
ajv.addFormat('int64', true);
ajv.addFormat('double', true);
ajv.addFormat('date-time', true);
const validators = new Map<string, ValidateFunction>();

function describeError(e: ErrorObject): string {
  const extra = e.keyword === 'additionalProperties' ? ` (unknown field "${(e.params as { additionalProperty: string }).additionalProperty}")` : '';
  return `${e.instancePath || '/'} ${e.message}${extra}`;
}

/** Problems of one custom resource against its CRD's openAPIV3Schema (unknown fields rejected); [] when valid. */
function validateCustomResource(resource: Manifest): string[] {
  const key = `${resource.apiVersion}/${resource.kind}`;
  let validate = validators.get(key);
  if (!validate) {
    const schema = crdSchemas().get(key);
    if (!schema) return [`no CRD schema for ${key} in ${SCHEMAS_DIR}`];
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  return validate(resource) ? [] : (validate.errors ?? []).map(describeError);
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
    new ServiceAlertRules(stack, 'service-alerts', { namespace: 'workloads', labels: {} });
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

  it('would be caught with a misspelt rule field, named by its path', () => {
    const [resource] = Object.values(resourcesOf(synthRules().rules, 'kubernetes_manifest'));
    const broken = JSON.parse(JSON.stringify(resource.manifest)) as { spec: { groups: { rules: Record<string, unknown>[] }[] } };
    const rule = broken.spec.groups[0].rules[0];
    rule.fore = rule.for;
    delete rule.for;
    expect(validateCustomResource(broken as unknown as Manifest)).toEqual(['/spec/groups/0/rules/0 must NOT have additional properties (unknown field "fore")']);
  });
});
