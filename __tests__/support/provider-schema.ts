import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { versions } from '../../config';
import { terraformOk } from './toolchain';

/** One attribute of `terraform providers schema -json`. */
export interface SchemaAttribute {
  readonly type?: unknown;
  readonly nested_type?: { readonly attributes: Readonly<Record<string, SchemaAttribute>>; readonly nesting_mode: string };
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly deprecated?: boolean;
}
export interface SchemaBlockType {
  readonly nesting_mode: string;
  readonly block: SchemaBlock;
  readonly min_items?: number;
  readonly max_items?: number;
}
export interface SchemaBlock {
  readonly attributes?: Readonly<Record<string, SchemaAttribute>>;
  readonly block_types?: Readonly<Record<string, SchemaBlockType>>;
}
export interface ProviderSchema {
  readonly provider: { readonly block: SchemaBlock };
  readonly resource_schemas?: Readonly<Record<string, { readonly block: SchemaBlock }>>;
  readonly data_source_schemas?: Readonly<Record<string, { readonly block: SchemaBlock }>>;
}

/**
 * The schemas of the exact provider builds in the project's filesystem mirror (every pin of
 * versions.providers) and of Terraform's built-in provider, keyed by provider type
 * (`kubernetes`, `helm`, `kafka`, `terraform`), from `terraform providers schema -json`.
 */
export function mirrorProviderSchemas(): Record<string, ProviderSchema> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-schemas-'));
  const required = Object.fromEntries(Object.values(versions.providers).map((p) => [p.type, { source: `${p.namespace}/${p.type}`, version: p.version }]));
  // A terraform_remote_state data source brings the built-in provider's schema in too.
  const config = { terraform: { required_providers: required }, data: { terraform_remote_state: { probe: { backend: 'local', config: { path: 'none.tfstate' } } } } };
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(config, null, 2));
  terraformOk(['init', '-backend=false', '-input=false', '-no-color'], dir);
  const out = JSON.parse(terraformOk(['providers', 'schema', '-json'], dir)) as { provider_schemas: Record<string, ProviderSchema> };
  fs.rmSync(dir, { recursive: true, force: true });
  const byType: Record<string, ProviderSchema> = {};
  for (const [source, schema] of Object.entries(out.provider_schemas)) byType[source.split('/').pop()!] = schema;
  for (const p of Object.values(versions.providers)) {
    if (!byType[p.type]) throw new Error(`terraform providers schema -json has no ${p.namespace}/${p.type}: is ${p.version} in the mirror? (npm run bootstrap)`);
  }
  return byType;
}
