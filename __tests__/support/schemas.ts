import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv, { ErrorObject } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { versions } from '../../config/versions';
import { PROJECT_ROOT } from '../../tools/paths';

/** Upstream CRDs and chart values, byte-exact copies beside the project. */
export const SCHEMAS_DIR = process.env.KAFKA_PLATFORM_SCHEMAS ?? path.resolve(PROJECT_ROOT, '..', 'shared', 'schemas');

function requireSchemas(): void {
  if (!fs.existsSync(SCHEMAS_DIR)) {
    throw new Error(`upstream schemas not found at ${SCHEMAS_DIR}: check out shared/ beside the project or set KAFKA_PLATFORM_SCHEMAS`);
  }
}

type JsonSchema = Record<string, unknown>;

/**
 * Kubernetes prunes fields a structural schema does not declare, so a typo is silently
 * dropped at apply time. Closing every declared object makes the same typo fail here.
 */
function closeObjects(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, closeObjects(v)]));
    } else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      out[key] = closeObjects(value as JsonSchema);
    } else if ((key === 'oneOf' || key === 'anyOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map((v) => closeObjects(v as JsonSchema));
    } else {
      out[key] = value;
    }
  }
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: JsonSchema };
}

let crdIndex: Map<string, JsonSchema> | undefined;

/** Every CRD under the schemas directory, keyed by `apiVersion/kind`. */
export function crdSchemas(): Map<string, JsonSchema> {
  if (crdIndex) return crdIndex;
  requireSchemas();
  crdIndex = new Map();
  for (const dir of fs.readdirSync(SCHEMAS_DIR)) {
    const full = path.join(SCHEMAS_DIR, dir);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const file of fs.readdirSync(full).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(fs.readFileSync(path.join(full, file), 'utf8'))) {
        const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: CrdVersion[] } };
        if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
        for (const v of crd.spec.versions) {
          crdIndex.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, closeObjects(v.schema.openAPIV3Schema));
        }
      }
    }
  }
  for (const text of templatedChartCrds()) {
    for (const doc of parseAllDocuments(text)) {
      const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: CrdVersion[] } };
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const v of crd.spec.versions) crdIndex.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, closeObjects(v.schema.openAPIV3Schema));
    }
  }
  return crdIndex;
}

/** Charts that ship their CRDs as templates (`templates/crds/`), read from the pinned archives. */
const TEMPLATED_CRD_CHARTS = ['keda'] as const;

/**
 * The CRDs of TEMPLATED_CRD_CHARTS, from the chart archives beside the project, with the
 * template lines (only labels and annotations in them) dropped so the YAML parses.
 */
function templatedChartCrds(): string[] {
  const dir = process.env.KAFKA_PLATFORM_CHART_BUNDLE ?? path.resolve(PROJECT_ROOT, '..', 'shared', 'charts');
  const texts: string[] = [];
  for (const chart of TEMPLATED_CRD_CHARTS) {
    const pin = versions.charts[chart];
    const archive = path.join(dir, `${pin.chart}-${pin.version}.tgz`);
    if (!fs.existsSync(archive)) throw new Error(`chart archive ${archive} not found: its CRDs validate the custom resources (check out shared/ beside the project or set KAFKA_PLATFORM_CHART_BUNDLE)`);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `${chart}-crds-`));
    try {
      execFileSync('tar', ['-xzf', archive, '-C', out, `${pin.chart}/templates/crds`]);
      const crds = path.join(out, pin.chart, 'templates', 'crds');
      for (const file of fs.readdirSync(crds).filter((f) => f.endsWith('.yaml'))) {
        texts.push(fs.readFileSync(path.join(crds, file), 'utf8').split('\n').filter((l) => !l.includes('{{')).join('\n'));
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }
  return texts;
}

/** CRDs use Go regular expressions; Go's `(?i)` becomes JavaScript's `i` flag. */
function goRegExp(pattern: string, flags?: string): RegExp {
  return pattern.includes('(?i)') ? new RegExp(pattern.replace('(?i)', ''), `${flags ?? ''}i`) : new RegExp(pattern, flags ?? '');
}
goRegExp.code = 'goRegExp';

const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, code: { regExp: goRegExp as never } });
ajv.addFormat('int32', true);
ajv.addFormat('int64', true);
ajv.addFormat('double', true);
ajv.addFormat('date-time', true);

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (unknown field "${(e.params as { additionalProperty: string }).additionalProperty}")` : '';
    return `${e.instancePath || '/'} ${e.message}${extra}`;
  });
}

const crdValidators = new Map<string, ReturnType<typeof ajv.compile>>();

/** Problems of one custom resource against its CRD's openAPIV3Schema; [] when valid. */
export function validateCustomResource(resource: { apiVersion: string; kind: string }): string[] {
  const key = `${resource.apiVersion}/${resource.kind}`;
  let validate = crdValidators.get(key);
  if (!validate) {
    const schema = crdSchemas().get(key);
    if (!schema) return [`no CRD schema for ${key} in ${SCHEMAS_DIR}`];
    validate = ajv.compile(schema);
    crdValidators.set(key, validate);
  }
  if (validate(resource)) return [];
  // A whole-value Terraform expression (`${min(2, ...)}`) is a string in the synthesized JSON and
  // becomes the schema's type when Terraform evaluates it; the server checks that value at plan.
  const errors = (validate.errors ?? []).filter((e) => !(e.keyword === 'type' && typeof e.data === 'string' && /^\$\{[^{}]*\}$/.test(e.data)));
  return describe(errors);
}

/** The default values.yaml of a chart in the schemas directory (strimzi, loki, alloy, ...). */
export function chartDefaults(chart: string): unknown {
  requireSchemas();
  return parse(fs.readFileSync(path.join(SCHEMAS_DIR, chart, 'values.yaml'), 'utf8')) as unknown;
}

/** A chart read from its own archive (`<chart>/values.yaml` and `<chart>/templates/`), for charts the schemas directory lacks. */
export interface ChartArchive {
  /** The chart's default values.yaml. */
  readonly defaults: unknown;
  /** Every `.Values.a.b.c` path its templates read: keys that values.yaml only mentions in a comment still count. */
  readonly templatePaths: ReadonlySet<string>;
}

export function chartArchive(archive: string, chart: string): ChartArchive {
  if (!fs.existsSync(archive)) throw new Error(`chart archive ${archive} not found: check out shared/ beside the project or set KAFKA_PLATFORM_CHART_BUNDLE`);
  const members = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n').filter((m) => m.startsWith(`${chart}/templates/`) && !m.endsWith('/'));
  const read = (member: string) => execFileSync('tar', ['-xzOf', archive, member], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const templatePaths = new Set<string>();
  for (const member of members) for (const m of read(member).matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) templatePaths.add(m[1].replace(/\.$/, ''));
  return { defaults: parse(read(`${chart}/values.yaml`)) as unknown, templatePaths };
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Key paths set in `values` that the chart's defaults do not have. A default that is an
 * empty map (e.g. podAnnotations) or null is free-form and accepts any key below it. A path in
 * `templatePaths` is accepted too: the chart's templates read it though its values.yaml has it
 * only as a comment (e.g. tempo's persistence.storageClassName).
 */
export function unknownValuesKeys(values: unknown, defaults: unknown, prefix = '', templatePaths: ReadonlySet<string> = new Set()): string[] {
  if (!isMap(values) || !isMap(defaults)) return [];
  if (Object.keys(defaults).length === 0) return [];
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const at = prefix ? `${prefix}.${key}` : key;
    if (!(key in defaults)) {
      if (!templatePaths.has(at)) unknown.push(at);
      continue;
    }
    unknown.push(...unknownValuesKeys(value, defaults[key], at, templatePaths));
  }
  return unknown;
}

const valuesValidators = new Map<string, ReturnType<typeof ajv.compile>>();

/** Problems of chart values against a chart's values.schema.json, when the chart ships one. */
export function validateChartValuesSchema(chart: string, values: unknown): string[] {
  const file = path.join(SCHEMAS_DIR, chart, 'values.schema.json');
  if (!fs.existsSync(file)) return [];
  let validate = valuesValidators.get(file);
  if (!validate) {
    validate = ajv.compile(JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSchema);
    valuesValidators.set(file, validate);
  }
  return validate(values) ? [] : describe(validate.errors);
}
