import { Construct } from 'constructs';
import { TerraformLocal, TerraformOutput } from 'cdktf';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { versions } from '../config';
import { HelmChart } from '../modules/helm-chart';
import { KubernetesProviders } from '../modules/kubernetes-providers';
import { PlatformStack, PlatformStackProps } from '../modules/platform-stack';

export type KafkaStackProps = PlatformStackProps;

/** The Strimzi operator and the KRaft Kafka cluster it runs. */
export class KafkaStack extends PlatformStack {
  /** Namespace holding the cluster, its users and their Secrets. */
  readonly kafkaNamespace: string;
  /** In-cluster bootstrap address of the TLS listener. */
  readonly bootstrapServers: string;

  constructor(scope: Construct, id: string, props: KafkaStackProps) {
    super(scope, id, props);
    const { env } = props;
    const k8s = env.kubernetes!;
    new KubernetesProviders(this, 'providers', {
      configPath: k8s.configPath,
      context: k8s.context,
      kubernetesProvider: versions.providers.kubernetes,
      helmProvider: versions.providers.helm,
    });

    const namespace = new NamespaceV1(this, 'kafka-namespace', {
      metadata: { name: env.namespaces.kafka, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
    });
    this.kafkaNamespace = namespace.metadata.name;

    new HelmChart(this, 'strimzi-operator', {
      releaseName: 'strimzi-cluster-operator',
      namespace: this.kafkaNamespace,
      chart: versions.charts.strimzi,
      values: { watchAnyNamespace: false },
    });

    // A local, so other stacks reference the whole address through remote state.
    const bootstrap = new TerraformLocal(this, 'bootstrap-servers', `${env.kafka.clusterName}-kafka-bootstrap.${this.kafkaNamespace}.svc:9093`);
    this.bootstrapServers = bootstrap.asString;
    new TerraformOutput(this, 'bootstrap-servers-output', { value: this.bootstrapServers, description: 'In-cluster TLS bootstrap address' });
  }
}
