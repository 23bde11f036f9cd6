import { Construct } from 'constructs';
import { DataResource } from 'cdktf';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { ChartPin, ChartSourceConfig, ContainerResources } from '../config';
import { chartArchive, HelmChart } from './helm-chart';

export interface StrimziOperatorProps {
  /** Namespace created for the operator; it always watches it, so Kafka clusters live here. */
  readonly namespace: string;
  /** Pinned strimzi-kafka-operator chart; its version also selects the CRDs applied. */
  readonly chart: ChartPin;
  /** Where the chart comes from; default its repository. */
  readonly chartSource?: ChartSourceConfig;
  /** Further namespaces to watch; each must exist before the release (RoleBindings go there). */
  readonly watchNamespaces?: readonly string[];
  /** Requests and limits of the operator container. */
  readonly resources?: ContainerResources;
  /** kubeconfig kubectl uses to apply the CRDs: the same cluster as the providers. */
  readonly kubeconfig: { readonly configPath: string; readonly context?: string };
  /**
   * CRD bundle to apply; defaults to the Strimzi release asset of `chart.version`, or to the
   * chart archive's own `crds/` with a directory chart source (air-gapped: nothing downloaded).
   */
  readonly crdsUrl?: string;
  /** Seconds to wait for the operator to become ready. */
  readonly timeoutSeconds?: number;
}

/** The chart's own defaults: enough for one cluster of a few brokers. */
const DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: '200m', memory: '384Mi' },
  limits: { cpu: '1', memory: '384Mi' },
};

/** The CRD bundle Strimzi publishes with each release. */
export function strimziCrdsUrl(version: string): string {
  return `https://github.com/strimzi/strimzi-kafka-operator/releases/download/${version}/strimzi-crds-${version}.yaml`;
}

/** POSIX single-quoting; a leading `~/` stays outside the quotes so the shell expands it. */
export function shellWord(value: string): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return value.startsWith('~/') ? `~/${quote(value.slice(2))}` : quote(value);
}

/** `kubectl` with the kubeconfig (and context) the providers use. */
export function kubectlCommand(kubeconfig: StrimziOperatorProps['kubeconfig']): string {
  const words = ['kubectl', '--kubeconfig', shellWord(kubeconfig.configPath)];
  if (kubeconfig.context) words.push('--context', shellWord(kubeconfig.context));
  return words.join(' ');
}

/** `kubectl apply` of `target`, server-side, taking over Helm's fields. */
function kubectlApply(target: string, kubeconfig: StrimziOperatorProps['kubeconfig']): string {
  return `${kubectlCommand(kubeconfig)} apply --server-side --force-conflicts -f ${target}`;
}

/** `${` would start a Terraform template sequence inside the command string. */
const escapeTemplate = (command: string) => command.replace(/\$\{/g, '$${');

/** The kubectl command that installs or upgrades the CRDs from a bundle URL or file. */
export function crdApplyCommand(url: string, kubeconfig: StrimziOperatorProps['kubeconfig']): string {
  return escapeTemplate(kubectlApply(shellWord(url), kubeconfig));
}

/** The command that applies the CRDs shipped in a chart archive (`<chart>/crds/`), via a scratch directory. */
export function crdArchiveApplyCommand(archive: string, chart: string, kubeconfig: StrimziOperatorProps['kubeconfig']): string {
  const crds = `${chart}/crds`;
  return escapeTemplate(
    `d=$(mktemp -d) && tar -xzf ${shellWord(archive)} -C "$d" ${shellWord(crds)} && ${kubectlApply(`"$d"/${shellWord(crds)}`, kubeconfig)}; s=$?; rm -rf "$d"; exit $s`,
  );
}

/**
 * The Strimzi cluster operator: its namespace, its CRDs and its Helm release.
 *
 * `helm upgrade` never touches CRDs, so a chart bump alone would run a new operator
 * against old schemas. A terraform_data resource keyed on the chart version applies the
 * release's CRD bundle with kubectl first (kubectl must be on PATH where Terraform runs).
 */
export class StrimziOperator extends Construct {
  /** Namespace name, as a reference to the namespace resource. */
  readonly namespace: string;
  /** The CRD installer; the release depends on it. */
  readonly crds: DataResource;
  /** The operator's Helm release. */
  readonly chart: HelmChart;
  /** Helm values set on the release (tests check every key against the chart). */
  readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: StrimziOperatorProps) {
    super(scope, id);
    const namespace = new NamespaceV1(this, 'namespace', {
      metadata: {
        name: props.namespace,
        labels: {
          'app.kubernetes.io/part-of': 'kafka-platform',
          // Like the workloads' namespace: every pod here (operator, brokers, entity operator) must meet it.
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    });
    this.namespace = namespace.metadata.name;

    const source = props.chartSource ?? { type: 'repository' };
    const archive = source.type === 'directory' && !props.crdsUrl ? chartArchive(props.chart, source.directory) : undefined;
    const url = props.crdsUrl ?? strimziCrdsUrl(props.chart.version);
    this.crds = new DataResource(this, 'crds', {
      // Replaced, so the command runs again, whenever the chart version (or bundle) changes.
      triggersReplace: { chartVersion: props.chart.version, ...(archive ? { archive } : { url }) },
      provisioners: [
        {
          type: 'local-exec',
          command: archive ? crdArchiveApplyCommand(archive, props.chart.chart, props.kubeconfig) : crdApplyCommand(url, props.kubeconfig),
        },
      ],
    });

    this.values = {
      // The release namespace is always watched; these are extra.
      watchNamespaces: [...(props.watchNamespaces ?? [])],
      watchAnyNamespace: false,
      resources: props.resources ?? DEFAULT_RESOURCES,
      // Node drains honour the Kafka PodDisruptionBudgets only if the operator creates them.
      generatePodDisruptionBudget: true,
      // Cluster-wide roles include the one the rack-awareness init container needs to read node labels.
      createGlobalResources: true,
      // The pods Strimzi makes get its restricted security contexts (its default, baseline, gives
      // the Kafka containers none, which the namespace's restricted level refuses).
      extraEnvs: [{ name: 'STRIMZI_POD_SECURITY_PROVIDER_CLASS', value: 'restricted' }],
    };
    this.chart = new HelmChart(this, 'release', {
      releaseName: 'strimzi-cluster-operator',
      namespace: this.namespace,
      chart: props.chart,
      source: props.chartSource,
      values: this.values,
      timeoutSeconds: props.timeoutSeconds,
      dependsOn: [this.crds],
    });
    // The CRDs have one owner, the kubectl apply above.
    this.chart.release.skipCrds = true;
  }
}
