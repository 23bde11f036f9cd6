import { Construct } from 'constructs';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { versions } from '../config';
import { KubernetesProviders } from '../modules/kubernetes-providers';
import { PlatformStack, PlatformStackProps } from '../modules/platform-stack';

export interface WorkloadsStackProps extends PlatformStackProps {
  /** Bootstrap address of the Kafka cluster, referenced from kafka-stack. */
  readonly bootstrapServers: string;
}

/** The producer and consumer services, least-privileged, in their own namespace. */
export class WorkloadsStack extends PlatformStack {
  constructor(scope: Construct, id: string, props: WorkloadsStackProps) {
    super(scope, id, props);
    const { env } = props;
    const k8s = env.kubernetes!;
    new KubernetesProviders(this, 'providers', {
      configPath: k8s.configPath,
      context: k8s.context,
      kubernetesProvider: versions.providers.kubernetes,
      helmProvider: versions.providers.helm,
    });

    const namespace = new NamespaceV1(this, 'workloads-namespace', {
      metadata: {
        name: env.namespaces.workloads,
        labels: {
          'app.kubernetes.io/part-of': 'kafka-platform',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    });

    new ConfigMapV1(this, 'kafka-client-config', {
      metadata: { name: 'kafka-client', namespace: namespace.metadata.name },
      data: { KAFKA_BROKERS: props.bootstrapServers },
    });
  }
}
