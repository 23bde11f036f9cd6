import { Construct } from 'constructs';
import { DataResource, Fn } from 'cdktf';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { KafkaClusterConfig, KubernetesPlatform } from '../../config';
import { KafkaNodePoolResource, KafkaResource } from './crds';
import { buildKafka, buildNodePools } from './kafka';
import { KAFKA_METRICS_KEY, readKafkaMetricsRules } from './monitoring';
import { kubectlCommand, shellWord } from '../strimzi-operator';

export interface KafkaClusterProps {
  /** Namespace of the cluster; must be watched by the Strimzi operator. */
  readonly namespace: string;
  /** The environment's Kafka configuration (version, pools, storage, listeners, resources). */
  readonly kafka: KafkaClusterConfig;
  /** User name of the super user (the Terraform Kafka provider's principal). */
  readonly adminUser: string;
  /** How long an apply may wait for the cluster to become Ready, e.g. `30m`. */
  readonly readyTimeout: string;
  /** The cloud the cluster runs on (external load balancer annotations); default `generic`. */
  readonly platform?: KubernetesPlatform;
  /** JMX exporter rules; defaults to the kafka-metrics.yaml file beside this module. */
  readonly metricsRules?: string;
  /** Host the NodePort listener advertises (a literal or a Terraform reference); default `kafka.nodePort.advertisedHost`. */
  readonly externalAdvertisedHost?: string;
  /** kubeconfig kubectl waits for the operator's reconcile with: the same cluster as the providers. */
  readonly kubeconfig: { readonly configPath: string; readonly context?: string };
}

/**
 * The shell command that waits until the operator has reconciled the Kafka resource's current
 * generation (`status.observedGeneration`) and reported it Ready. The manifest's own wait sees
 * only `Ready`, which an update finds still True from the previous generation.
 */
export function reconciledCommand(kubeconfig: KafkaClusterProps['kubeconfig'], namespace: string, name: string, timeout: string): string {
  const kubectl = `${kubectlCommand(kubeconfig)} -n ${shellWord(namespace)}`;
  const kafka = `kafka.kafka.strimzi.io/${name}`;
  return [
    `g=$(${kubectl} get ${kafka} -o jsonpath='{.metadata.generation}')`,
    `echo "waiting for the operator to reconcile generation $g of ${kafka}"`,
    `${kubectl} wait ${kafka} --for=jsonpath='{.status.observedGeneration}'="$g" --timeout=${timeout}`,
    `${kubectl} wait ${kafka} --for=condition=Ready --timeout=${timeout}`,
  ].join(' && ');
}

/**
 * A KRaft Kafka cluster as Strimzi custom resources: its node pools, the Kafka resource
 * (which Terraform waits on until the operator reports it Ready) and the metrics ConfigMap.
 */
export class KafkaCluster extends Construct {
  /** The Kafka manifest; depend on it to act only once the cluster is Ready. */
  readonly kafka: Manifest;
  /** Runs after every change of the Kafka manifest until the operator has reconciled it; depend on it to use what changed. */
  readonly reconciled: DataResource;
  /** The KafkaNodePool manifests. */
  readonly nodePools: readonly Manifest[];
  /** The objects applied, for tests and for other constructs to inspect. */
  readonly resources: { readonly kafka: KafkaResource; readonly nodePools: readonly KafkaNodePoolResource[] };
  /** Kafka resource name, as a reference to the applied manifest. */
  readonly clusterName: string;
  /** Namespace, as a reference to the applied manifest. */
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);
    const cluster = props.kafka.clusterName;

    const metrics = new ConfigMapV1(this, 'metrics-config', {
      metadata: { name: `${cluster}-kafka-metrics`, namespace: props.namespace, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
      data: { [KAFKA_METRICS_KEY]: props.metricsRules ?? readKafkaMetricsRules() },
    });

    const spec = {
      namespace: props.namespace,
      kafka: props.kafka,
      adminUser: props.adminUser,
      platform: props.platform,
      metricsConfig: { name: metrics.metadata.name, key: KAFKA_METRICS_KEY },
      externalAdvertisedHost: props.externalAdvertisedHost,
    };
    const nodePools = buildNodePools(spec);
    const kafka = buildKafka(spec);
    this.resources = { kafka, nodePools };

    this.nodePools = nodePools.map((pool) => new Manifest(this, `node-pool-${pool.metadata.name}`, { manifest: pool }));

    this.kafka = new Manifest(this, 'kafka', {
      manifest: kafka,
      // Strimzi reads the pools when it reconciles the Kafka resource: create them first.
      dependsOn: [metrics, ...this.nodePools],
      wait: { condition: [{ type: 'Ready', status: 'True' }] },
      timeouts: { create: props.readyTimeout, update: props.readyTimeout },
    });
    // A stable address for `terraform apply -target` on a fresh cluster (docs/kafka.md).
    this.kafka.overrideLogicalId('kafka');

    this.reconciled = new DataResource(this, 'reconciled', {
      // Replaced, so the wait runs again, whenever the manifest changes.
      triggersReplace: { manifest: Fn.sha256(Fn.jsonencode(this.kafka.manifest)) },
      provisioners: [{ type: 'local-exec', command: reconciledCommand(props.kubeconfig, props.namespace, cluster, props.readyTimeout) }],
      dependsOn: [this.kafka],
    });

    this.clusterName = this.kafka.getStringAttribute('manifest.metadata.name');
    this.namespace = this.kafka.getStringAttribute('manifest.metadata.namespace');
  }
}
