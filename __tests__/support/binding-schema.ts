import * as fs from 'fs';
import * as path from 'path';

/**
 * What a generated cdktf binding (prebuilt `@cdktf/provider-*` or `cdktf get` output) can write
 * for one Terraform type: every attribute and block, nested blocks expanded. Read from the
 * binding's own JavaScript, the `...ToHclTerraform` functions that list each field with
 * `isBlock`; the generator writes them in one fixed shape, and a shape this reader does not
 * know fails loudly instead of reading as "no fields".
 */
export interface BindingShape {
  readonly attributes: readonly string[];
  /** Attributes whose value is an object or a list of objects (the schema's `nested_type`). */
  readonly nestedAttributes: Readonly<Record<string, BindingShape>>;
  readonly blocks: Readonly<Record<string, BindingShape>>;
}

/** The npm package or generated directory holding one provider's bindings. */
export interface BindingPackage {
  /** Directory with one sub-directory per type (`<dir>/namespace-v1/index.js`, or `index.ts` from `cdktf get`). */
  readonly dir: string;
  /** Type prefix the directories leave out (`kubernetes_`). */
  readonly prefix: string;
}

interface Field {
  readonly name: string;
  readonly isBlock: boolean;
  /** The binding's function that writes the nested value, for a block or an object attribute. */
  readonly child?: string;
}

/** Each `function xToHclTerraform(struct)` (and the class's synthesizeHclAttributes) with its fields. */
function parseFunctions(source: string, file: string): Map<string, Field[]> {
  const functions = new Map<string, Field[]>();
  // JavaScript of the npm packages and TypeScript of `cdktf get` alike.
  const starts = [...source.matchAll(/^(?:export )?function (\w+)ToHclTerraform\(struct[^)]*\)[^{\n]*\{$|^ +(?:protected |public )?synthesizeHclAttributes\(\)[^\n]*\{$/gm)];
  for (const [i, start] of starts.entries()) {
    const end = i + 1 < starts.length ? starts[i + 1].index : source.length;
    const body = source.slice(start.index, end);
    const name = start[1] ?? '#resource';
    const fields: Field[] = [];
    for (const m of body.matchAll(/^ {4,}(\w+): \{\n\s+value: (.*),\n\s+isBlock: (true|false),/gm)) {
      const child = /(?<!cdktf\.)\b(\w+)ToHclTerraform\b/.exec(m[2])?.[1];
      fields.push({ name: m[1], isBlock: m[3] === 'true', child });
    }
    if (fields.length === 0 && !/const attrs = \{\s*\};/.test(body)) {
      throw new Error(`${file}: ${name} lists no fields in the shape this reader knows; the binding generator changed, update __tests__/support/binding-schema.ts`);
    }
    functions.set(name, fields);
  }
  return functions;
}

function expand(functions: Map<string, Field[]>, name: string, file: string, seen: readonly string[]): BindingShape {
  const fields = functions.get(name);
  if (!fields) throw new Error(`${file}: no function ${name}ToHclTerraform`);
  const attributes: string[] = [];
  const nestedAttributes: Record<string, BindingShape> = {};
  const blocks: Record<string, BindingShape> = {};
  for (const f of fields) {
    if (f.isBlock && !f.child) throw new Error(`${file}: block ${f.name} of ${name} has no writer function`);
    // A recursive schema (rare) stops one level down: its fields are compared there already.
    const nested = f.child === undefined ? undefined : seen.includes(f.child) ? { attributes: [], nestedAttributes: {}, blocks: {} } : expand(functions, f.child, file, [...seen, f.child]);
    if (f.isBlock) blocks[f.name] = nested!;
    else if (nested) nestedAttributes[f.name] = nested;
    else attributes.push(f.name);
  }
  return { attributes, nestedAttributes, blocks };
}

/** The directory of a type inside a binding package: `kubernetes_namespace_v1` -> `namespace-v1`, data sources `data-<type>`. */
export function bindingFile(pkg: BindingPackage, kind: 'resource' | 'data' | 'provider', type: string): string {
  let dir: string;
  if (kind === 'provider') dir = 'provider';
  else if (kind === 'data') dir = `data-${type.replace(/_/g, '-')}`;
  else {
    if (!type.startsWith(pkg.prefix)) throw new Error(`${type} does not start with ${pkg.prefix}`);
    dir = type.slice(pkg.prefix.length).replace(/_/g, '-');
  }
  const js = path.join(pkg.dir, dir, 'index.js');
  return fs.existsSync(js) ? js : path.join(pkg.dir, dir, 'index.ts');
}

/** Every attribute and block the binding of `type` can write. */
export function bindingShape(pkg: BindingPackage, kind: 'resource' | 'data' | 'provider', type: string): BindingShape {
  const file = bindingFile(pkg, kind, type);
  if (!fs.existsSync(file)) throw new Error(`no binding for ${kind} ${type} at ${file}`);
  const source = fs.readFileSync(file, 'utf8');
  const declared = /tfResourceType = "(\w+)";/.exec(source)?.[1];
  if (declared !== type) throw new Error(`${file} binds ${declared ?? 'nothing'}, expected ${type}`);
  // Large types keep their structs in index-structs/structsN.js next to index.js.
  const functions = parseFunctions(source, file);
  const structs = path.join(path.dirname(file), 'index-structs');
  if (fs.existsSync(structs)) {
    for (const name of fs.readdirSync(structs).filter((n) => /\.(js|ts)$/.test(n) && !n.endsWith('.d.ts'))) {
      for (const [fn, fields] of parseFunctions(fs.readFileSync(path.join(structs, name), 'utf8'), path.join(structs, name))) {
        if (fn !== '#resource') functions.set(fn, fields);
      }
    }
  }
  return expand(functions, '#resource', file, []);
}
