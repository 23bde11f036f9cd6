import * as path from 'path';
import { LocalBackend, PgBackend, TerraformStack } from 'cdktf';
import { StateBackendConfig } from '../config';

/** Root of the project: local state paths are resolved from here, not from cdktf.out. */
const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * Gives `stack` its own state in the environment's backend. Connection secrets are
 * never synthesized: the pg backend reads `PG_CONN_STR` when `terraform init` runs.
 */
export function configureStateBackend(stack: TerraformStack, stackName: string, backend: StateBackendConfig): void {
  switch (backend.type) {
    case 'local':
      new LocalBackend(stack, { path: path.join(PROJECT_ROOT, backend.directory, `${stackName}.tfstate`) });
      return;
    case 'pg':
      // connStr is mandatory in the binding; an empty value leaves PG_CONN_STR in charge.
      new PgBackend(stack, { connStr: '', schemaName: `${backend.schemaPrefix}_${stackName.replace(/-/g, '_')}` });
      stack.addOverride('terraform.backend.pg.conn_str', null);
      return;
  }
}
