import * as path from 'path';
import { LocalBackend, PgBackend, S3Backend, TerraformStack } from 'cdktf';
import { EnvironmentConfig, StateBackendConfig } from '../config';
import { KubernetesBackend } from './kubernetes-backend';

/** Root of the project: local state paths are resolved from here, not from cdktf.out. */
const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * Gives `stack` its own state in the environment's backend. Connection secrets are
 * never synthesized: pg reads `PG_CONN_STR`, s3 the AWS environment, kubernetes the
 * kubeconfig, when `terraform init` runs.
 */
export function configureStateBackend(stack: TerraformStack, stackName: string, backend: StateBackendConfig, env: EnvironmentConfig): void {
  const suffix = stackName.replace(/-/g, '_');
  switch (backend.type) {
    case 'local':
      new LocalBackend(stack, { path: path.join(PROJECT_ROOT, backend.directory, `${stackName}.tfstate`) });
      return;
    case 'pg':
      // connStr is mandatory in the binding; PlatformStack drops it so PG_CONN_STR is in charge.
      new PgBackend(stack, { connStr: '', schemaName: `${backend.schemaPrefix}_${suffix}` });
      return;
    case 's3':
      new S3Backend(stack, { bucket: backend.bucket, region: backend.region, key: `${backend.keyPrefix}/${stackName}.tfstate`, encrypt: true });
      // S3-native locking (Terraform >= 1.10, OpenTofu >= 1.10) replaces the DynamoDB table.
      stack.addOverride('terraform.backend.s3.use_lockfile', true);
      return;
    case 'kubernetes':
      new KubernetesBackend(stack, {
        secretSuffix: `${backend.secretSuffixPrefix}-${stackName}`,
        namespace: backend.namespace,
        configPath: env.kubernetes?.configPath,
        configContext: env.kubernetes?.context,
      });
      return;
  }
}
