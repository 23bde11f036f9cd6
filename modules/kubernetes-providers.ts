import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { EnvironmentConfig, ProviderPin, versions } from '../config';

export interface KubernetesProvidersProps {
  /** kubeconfig path shared by the kubernetes and helm providers. */
  readonly configPath: string;
  /** kubeconfig context; undefined uses the current context. */
  readonly context?: string;
  /** Pinned kubernetes provider (version written into required_providers). */
  readonly kubernetesProvider: ProviderPin;
  /** Pinned helm provider (version written into required_providers). */
  readonly helmProvider: ProviderPin;
}

/**
 * The kubernetes and helm providers of one stack, talking to the same cluster, with
 * `required_providers` pinned to the exact builds in the local provider mirror.
 */
export class KubernetesProviders extends Construct {
  readonly kubernetes: KubernetesProvider;
  readonly helm: HelmProvider;

  /** The providers for an environment's cluster, with the pinned provider builds. */
  static forEnvironment(scope: Construct, env: EnvironmentConfig): KubernetesProviders {
    if (!env.kubernetes) {
      throw new Error(`environment "${env.name}" has no Kubernetes cluster: set environments.${env.name}.kubernetes in config/environments.ts`);
    }
    return new KubernetesProviders(scope, 'providers', {
      configPath: env.kubernetes.configPath,
      context: env.kubernetes.context,
      kubernetesProvider: versions.providers.kubernetes,
      helmProvider: versions.providers.helm,
    });
  }

  constructor(scope: Construct, id: string, props: KubernetesProvidersProps) {
    super(scope, id);
    this.kubernetes = new KubernetesProvider(this, 'kubernetes', {
      configPath: props.configPath,
      configContext: props.context,
    });
    this.helm = new HelmProvider(this, 'helm', {
      kubernetes: { configPath: props.configPath, configContext: props.context },
    });
    const stack = TerraformStack.of(this);
    for (const pin of [props.kubernetesProvider, props.helmProvider]) {
      stack.addOverride(`terraform.required_providers.${pin.type}.version`, pin.version);
    }
  }
}
