import { DataTerraformRemoteStateConfig, TerraformBackend, TerraformRemoteState } from 'cdktf';
import { Construct } from 'constructs';

export interface KubernetesBackendProps {
  /** Suffix of the state Secret (`tfstate-<workspace>-<suffix>`); one per stack. */
  readonly secretSuffix: string;
  /** Namespace holding the Secret and its lock Lease. */
  readonly namespace: string;
  /** kubeconfig path; credentials stay in the kubeconfig, never in the synthesized JSON. */
  readonly configPath?: string;
  /** kubeconfig context; undefined uses the current one. */
  readonly configContext?: string;
}

const attributes = (p: KubernetesBackendProps) => ({
  secret_suffix: p.secretSuffix,
  namespace: p.namespace,
  config_path: p.configPath,
  config_context: p.configContext,
});

/** Remote state lookup of a stack whose state lives in a Kubernetes Secret. */
export class DataTerraformRemoteStateKubernetes extends TerraformRemoteState {
  constructor(scope: Construct, id: string, config: DataTerraformRemoteStateConfig & Record<string, unknown>) {
    super(scope, id, 'kubernetes', config);
  }
}

/**
 * Terraform's `kubernetes` backend, which cdktf has no class for. A raw
 * `addOverride('terraform.backend', ...)` would write the block but leave cdktf's default
 * local backend in place, and cross-stack references would then read local files; as a
 * backend class, cross-stack lookups read the other stack's Secret.
 */
export class KubernetesBackend extends TerraformBackend {
  constructor(
    scope: Construct,
    private readonly props: KubernetesBackendProps,
  ) {
    super(scope, 'backend', 'kubernetes');
  }

  protected override synthesizeAttributes(): { [name: string]: unknown } {
    return attributes(this.props);
  }

  protected override synthesizeHclAttributes(): { [name: string]: unknown } {
    return attributes(this.props);
  }

  public getRemoteStateDataSource(scope: Construct, name: string): TerraformRemoteState {
    return new DataTerraformRemoteStateKubernetes(scope, name, { ...attributes(this.props), workspace: '${terraform.workspace}' });
  }
}
