import * as path from 'path';
import { ENVIRONMENT_NAMES } from '../../config/environments';
import { BindingPackage, BindingShape, bindingShape } from '../support/binding-schema';
import { ProviderSchema, SchemaAttribute, SchemaBlock, mirrorProviderSchemas } from '../support/provider-schema';
import { TerraformJson, synthEnvironment } from '../support/synth';

const ROOT = path.resolve(__dirname, '../..');
/** Where each provider's TypeScript bindings come from: the prebuilt packages, and `cdktf get` for Kafka. */
const BINDINGS: Record<string, BindingPackage> = {
  kubernetes: { dir: path.join(ROOT, 'node_modules/@cdktf/provider-kubernetes/lib'), prefix: 'kubernetes_' },
  helm: { dir: path.join(ROOT, 'node_modules/@cdktf/provider-helm/lib'), prefix: 'helm_' },
  kafka: { dir: path.join(ROOT, '.gen/providers/kafka'), prefix: 'kafka_' },
};
/** Terraform's meta-arguments: no provider schema lists them. */
const META = new Set(['//', 'count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection', 'alias']);

type Kind = 'provider' | 'resource' | 'data';
interface Used {
  readonly kind: Kind;
  readonly type: string;
  /** Every synthesized body of this type, with where it came from. */
  readonly bodies: { readonly where: string; readonly body: TerraformJson }[];
}

/** Every provider, resource and data source type the stacks of every environment synthesize. */
function usedTypes(): Map<string, Used> {
  const used = new Map<string, Used>();
  const add = (kind: Kind, type: string, where: string, body: TerraformJson) => {
    const key = `${kind} ${type}`;
    if (!used.has(key)) used.set(key, { kind, type, bodies: [] });
    (used.get(key)!.bodies as { where: string; body: TerraformJson }[]).push({ where, body });
  };
  for (const environment of ENVIRONMENT_NAMES) {
    for (const [stack, json] of Object.entries(synthEnvironment(environment).stacks)) {
      for (const [type, configs] of Object.entries((json.provider ?? {}) as Record<string, TerraformJson[]>)) {
        configs.forEach((c, i) => add('provider', type, `${environment}/${stack} provider.${type}[${i}]`, c));
      }
      for (const kind of ['resource', 'data'] as const) {
        for (const [type, byId] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, TerraformJson>>)) {
          for (const [id, body] of Object.entries(byId)) add(kind, type, `${environment}/${stack} ${kind}.${type}.${id}`, body);
        }
      }
    }
  }
  return used;
}

function providerOf(type: string): string {
  return type.split('_')[0];
}

function schemaOf(schemas: Record<string, ProviderSchema>, kind: Kind, type: string): SchemaBlock {
  const provider = schemas[providerOf(type)];
  const block = kind === 'provider' ? provider?.provider.block : (kind === 'resource' ? provider?.resource_schemas : provider?.data_source_schemas)?.[type]?.block;
  if (!block) throw new Error(`the provider builds in the mirror have no ${kind} ${type}`);
  return block;
}

/** The fields of an attribute typed as an object (or a list, set or map of objects), as a block of optional attributes. */
function objectFields(attr: SchemaAttribute | undefined): SchemaBlock | undefined {
  let type = attr?.type as unknown[] | undefined;
  if (Array.isArray(type) && ['list', 'set', 'map'].includes(type[0] as string)) type = type[1] as unknown[];
  if (!Array.isArray(type) || type[0] !== 'object') return undefined;
  return { attributes: Object.fromEntries(Object.keys(type[1] as object).map((k) => [k, { optional: true }])) };
}

/** What the binding can write that the provider does not know, and what the provider requires that the binding cannot write. */
function compareBinding(binding: BindingShape, schema: SchemaBlock, at: string): string[] {
  const problems: string[] = [];
  const attrs = schema.attributes ?? {};
  const blocks = schema.block_types ?? {};
  for (const name of binding.attributes) {
    if (META.has(name)) continue;
    if (blocks[name]) problems.push(`${at}.${name}: the binding writes an attribute, the provider has a block`);
    else if (!attrs[name]) problems.push(`${at}.${name}: the binding writes it, the provider does not know it`);
    else if (attrs[name].computed && !attrs[name].optional && !attrs[name].required && name !== 'id') problems.push(`${at}.${name}: the binding can set it, the provider only computes it`);
  }
  for (const [name, nested] of [...Object.entries(binding.blocks), ...Object.entries(binding.nestedAttributes)]) {
    // Blocks and nested attributes are written alike in Terraform JSON; what matters is their fields.
    // An attribute typed as an object takes the same JSON as a block with those fields.
    const inner: SchemaBlock | undefined = blocks[name]?.block ?? (attrs[name]?.nested_type ? { attributes: attrs[name].nested_type!.attributes } : objectFields(attrs[name]));
    if (inner) problems.push(...compareBinding(nested, inner, `${at}.${name}`));
    else problems.push(`${at}.${name}: the binding writes it as nested fields, the provider ${attrs[name] ? 'has a plain attribute' : 'does not know it'}`);
  }
  const written = new Set([...binding.attributes, ...Object.keys(binding.blocks), ...Object.keys(binding.nestedAttributes)]);
  for (const [name, a] of Object.entries(attrs)) if (a.required && !written.has(name)) problems.push(`${at}.${name}: required by the provider, the binding cannot set it`);
  for (const [name, b] of Object.entries(blocks)) if ((b.min_items ?? 0) > 0 && !written.has(name)) problems.push(`${at}.${name}: a required block the binding cannot write`);
  return problems;
}

const isToken = (v: unknown) => typeof v === 'string' && /^\$\{.*\}$/s.test(v);
const elements = (v: unknown): TerraformJson[] => (Array.isArray(v) ? v : [v]).filter((e) => !isToken(e)) as TerraformJson[];

/** What a synthesized body writes that the provider does not know, and the required fields it leaves out. */
function compareJson(body: TerraformJson, schema: SchemaBlock, at: string): string[] {
  const problems: string[] = [];
  const attrs = schema.attributes ?? {};
  const blocks = schema.block_types ?? {};
  for (const [name, value] of Object.entries(body)) {
    if (META.has(name)) continue;
    if (name === 'dynamic') {
      for (const [blockName, d] of Object.entries(value as Record<string, { content: TerraformJson }>)) {
        if (!blocks[blockName]) problems.push(`${at}.dynamic.${blockName}: the provider has no such block`);
        else problems.push(...compareJson(d.content, blocks[blockName].block, `${at}.${blockName}[dynamic]`));
      }
    } else if (blocks[name]) {
      const single = ['single', 'group'].includes(blocks[name].nesting_mode);
      if (single && Array.isArray(value) && value.length > 1) problems.push(`${at}.${name}: ${value.length} blocks where the provider takes one`);
      elements(value).forEach((e, i) => problems.push(...compareJson(e, blocks[name].block, `${at}.${name}[${i}]`)));
    } else if (attrs[name]?.nested_type) {
      const mode = attrs[name].nested_type!.nesting_mode;
      if (mode === 'single' && Array.isArray(value)) problems.push(`${at}.${name}: a list where the provider takes one object`);
      if (mode !== 'map') elements(value).forEach((e, i) => problems.push(...compareJson(e, { attributes: attrs[name].nested_type!.attributes }, `${at}.${name}[${i}]`)));
    } else if (objectFields(attrs[name])) {
      const fields = objectFields(attrs[name])!;
      const values = isToken(value) ? [] : Array.isArray(value) ? value : (attrs[name].type as unknown[])[0] === 'map' ? Object.values(value as object) : [value];
      values.filter((e) => !isToken(e)).forEach((e, i) => problems.push(...compareJson(e as TerraformJson, fields, `${at}.${name}[${i}]`)));
    } else if (!attrs[name]) {
      problems.push(`${at}.${name}: written, the provider does not know it`);
    } else if (attrs[name].computed && !attrs[name].optional && !attrs[name].required) {
      problems.push(`${at}.${name}: written, the provider only computes it`);
    }
  }
  for (const [name, a] of Object.entries(attrs)) if (a.required && !(name in body)) problems.push(`${at}.${name}: required, not written`);
  for (const [name, b] of Object.entries(blocks)) {
    if ((b.min_items ?? 0) > 0 && !(name in body) && !(name in ((body.dynamic ?? {}) as object))) problems.push(`${at}.${name}: a required block, not written`);
  }
  return problems;
}

describe('the provider bindings against the provider builds they drive', () => {
  let schemas: Record<string, ProviderSchema>;
  let used: Map<string, Used>;
  beforeAll(() => {
    schemas = mirrorProviderSchemas();
    used = usedTypes();
  }, 5 * 60 * 1000);

  test('the stacks use the three pinned providers and Terraform built-ins, nothing else', () => {
    const providers = new Set([...used.values()].map((u) => providerOf(u.type)));
    expect([...providers].sort()).toEqual(['helm', 'kafka', 'kubernetes', 'terraform']);
    // Enough types that a reader that found none would show.
    expect(used.size).toBeGreaterThan(10);
  });

  test("every attribute and block each used type's binding can write is one the provider knows, and every required one can be written", () => {
    const problems: string[] = [];
    for (const u of used.values()) {
      const pkg = BINDINGS[providerOf(u.type)];
      // Terraform's own types (terraform_remote_state, terraform_data) come with cdktf itself.
      if (!pkg) continue;
      problems.push(...compareBinding(bindingShape(pkg, u.kind, u.type), schemaOf(schemas, u.kind, u.type), `${u.kind} ${u.type}`));
    }
    expect(problems).toEqual([]);
  });

  test('what the stacks synthesize for every environment is known to the provider and writes every required field', () => {
    const problems = [...used.values()].flatMap((u) => u.bodies.flatMap(({ where, body }) => compareJson(body, schemaOf(schemas, u.kind, u.type), where)));
    expect(problems).toEqual([]);
  });

  test('the comparison catches an attribute the provider does not know and a required one left out', () => {
    const namespace = schemaOf(schemas, 'resource', 'kubernetes_namespace_v1');
    expect(compareJson({ metadata: { name: 'x', colour: 'blue' } }, namespace, 'probe')).toEqual(['probe.metadata[0].colour: written, the provider does not know it']);
    expect(compareJson({}, namespace, 'probe')).toEqual(['probe.metadata: a required block, not written']);
    const binding = bindingShape(BINDINGS.kubernetes, 'resource', 'kubernetes_namespace_v1');
    expect(compareBinding({ ...binding, attributes: [...binding.attributes, 'colour'] }, namespace, 'probe')).toEqual(['probe.colour: the binding writes it, the provider does not know it']);
    expect(compareBinding({ ...binding, blocks: {} }, namespace, 'probe')).toEqual(['probe.metadata: a required block the binding cannot write']);
  });
});
