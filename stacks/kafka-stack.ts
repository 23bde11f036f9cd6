import { Construct } from 'constructs';
import { DataResource, TerraformLocal, TerraformOutput, TerraformVariable, Token } from 'cdktf';
import { DataKubernetesResource } from '@cdktf/provider-kubernetes/lib/data-kubernetes-resource';
import { DataKubernetesNodes } from '@cdktf/provider-kubernetes/lib/data-kubernetes-nodes';
import { KafkaProvider } from '../.gen/providers/kafka/provider';
import { CONSUMER_GROUP, POSTS_DLQ_TOPIC, POSTS_TOPIC, platformTopics } from '../config/topics';
import {
  KafkaCluster,
  KafkaPodMonitors,
  ScramUser,
  EXTERNAL_LISTENER,
  clusterCaCertSecretName,
  internalBootstrapAddress,
  topicAclsFor,
  ZONE_TOPOLOGY_KEY,
} from '../modules/kafka-cluster';
import { LagReader } from '../modules/consumer-autoscaling';
import { ADVERTISED_HOST } from '../config/environment-checks';
import { KafkaTopics } from '../modules/kafka-topics';
import { KafkaAlertRules } from '../modules/observability/kafka-alerts';
import { StrimziOperatorMonitor } from '../modules/observability/strimzi-operator-monitor';
import { requireDeployed } from '../modules/deploy-order';
import { KubernetesProviders } from '../modules/kubernetes-providers';
import { PlatformStack, PlatformStackProps } from '../modules/platform-stack';
import { StorageClassCheck } from '../modules/storage-class-check';

export interface KafkaStackProps extends PlatformStackProps {
  /** Namespace of the Strimzi operator, created by addons-stack (a cross-stack reference). */
  readonly kafkaNamespace: string;
}

/** Super user of the cluster: the Terraform Kafka provider's principal. */
export const ADMIN_USER = 'kafka-admin';
export const PRODUCER_USER = 'producer';
export const CONSUMER_USER = 'consumer';

/**
 * The KRaft Kafka cluster as Strimzi custom resources, its users and monitors, then its
 * topics through the Kafka provider once the cluster and the admin user are Ready.
 * The operator and its CRDs come from addons-stack (docs/architecture.md).
 */
/** What kafka-stack offers its clients; workloads-stack receives it as cross-stack references. */
export interface KafkaConnection {
  /** In-cluster bootstrap address of the TLS + SCRAM listener (`<cluster>-kafka-bootstrap.<ns>.svc:9093`). */
  readonly bootstrapServers: string;
  /** Namespace holding the cluster, its users and their Secrets. */
  readonly kafkaNamespace: string;
  /** Secret with the cluster CA certificate (`ca.crt`) that TLS clients must trust. */
  readonly clusterCaSecretName: string;
  /** SCRAM user of the producer; the User Operator keeps its password in a Secret of that name. */
  readonly producerUserName: string;
  /** SCRAM user of the consumer; the User Operator keeps its password in a Secret of that name. */
  readonly consumerUserName: string;
  /** Topic the producer writes and the consumer reads. */
  readonly postsTopic: string;
  /** Dead-letter topic the consumer writes messages it cannot process to. */
  readonly postsDlqTopic: string;
  /** Partition count of the posts topic (upper bound of useful consumer replicas). */
  readonly postsPartitions: number;
  /** ClusterTriggerAuthentication KEDA reads the consumer group's lag with. */
  readonly lagReaderAuthentication: string;
}

export class KafkaStack extends PlatformStack {
  /** What workloads-stack consumes: references to this stack's resources, never literals. */
  readonly connection: KafkaConnection;

  /** The cluster's constructs, for tests. */
  readonly cluster: KafkaCluster;
  readonly users: { readonly admin: ScramUser; readonly producer: ScramUser; readonly consumer: ScramUser };
  readonly podMonitors: KafkaPodMonitors;
  readonly topics: KafkaTopics;

  constructor(scope: Construct, id: string, props: KafkaStackProps) {
    super(scope, id, props);
    const { env } = props;
    const clusterName = env.kafka.clusterName;

    // Inputs that only exist outside the code (docs/kafka.md, "Credentials and first deploy").
    const adminPassword = new TerraformVariable(this, 'kafka_admin_password', {
      type: 'string',
      sensitive: true,
      nullable: false,
      description: `SCRAM password of the ${ADMIN_USER} super user (the Kafka provider's principal); stored in a Secret the KafkaUser references`,
      validation: [{ condition: '${length(var.kafka_admin_password) >= 24}', errorMessage: 'kafka_admin_password must be at least 24 characters' }],
    });
    const externalBootstrap = new TerraformVariable(this, 'kafka_bootstrap_servers', {
      type: 'list(string)',
      description: 'Override of the external listener address (host:port list) when the one the Kafka resource reports is not reachable from where Terraform runs',
    });
    const clusterCa = new TerraformVariable(this, 'kafka_ca_cert', {
      type: 'string',
      description: `Override of the cluster CA certificate (PEM); by default the one the Kafka resource reports (ca.crt of Secret ${clusterCaCertSecretName(clusterName)})`,
    });

    // Optional overrides: null unless set (cdktf cannot express a null default directly).
    for (const optional of [externalBootstrap, clusterCa]) optional.addOverride('default', null);
    // Where clients reach the nodes of a NodePort listener, named in the broker certificates.
    const externalHost = env.kafka.nodePort
      ? new TerraformVariable(this, 'kafka_external_host', {
          type: 'string',
          nullable: false,
          default: env.kafka.nodePort.advertisedHost,
          description:
            'DNS name or IPv4 address at which clients (the Kafka provider included) reach the nodes of the NodePort listener; every broker advertises it and its certificate names it (docs/kafka.md, "Reaching the brokers")',
          validation: [
            {
              condition: `\${can(regex(${JSON.stringify(ADVERTISED_HOST.source)}, var.kafka_external_host))}`,
              errorMessage: 'kafka_external_host must be a DNS name or an IPv4 address in lower case, without a port or a scheme, e.g. "127.0.0.1" or "kafka.dev.example.com"',
            },
          ],
        })
      : undefined;

    KubernetesProviders.forEnvironment(this, env);
    requireDeployed(this, 'addons-stack', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'kafkas.kafka.strimzi.io',
      description: 'the Kafka CRD it installs with the Strimzi operator',
    });

    // The brokers' and controllers' volumes: the class exists and, with zonal volumes, binds
    // once the pods are spread over zones (every pool spreads; modules/kafka-cluster/kafka.ts).
    new StorageClassCheck(this, 'storage-class', {
      storageClass: env.kafka.storageClass,
      setting: `environments.${env.name}.kafka.storageClass`,
      zoneSpread: env.kubernetes!.zonalStorage,
    });

    // Rack awareness gives every broker a required node affinity on the zone label, and the pools
    // spread over zones with DoNotSchedule: without the label no broker is ever scheduled. A
    // fresh kind or minikube node has none, so the plan stops here, saying what to run.
    const nodes = new DataKubernetesNodes(this, 'nodes', {});
    nodes.addOverride('lifecycle.postcondition', [
      {
        condition: `\${length([for n in self.nodes : n if contains(keys(n.metadata[0].labels), ${JSON.stringify(ZONE_TOPOLOGY_KEY)})]) > 0}`,
        error_message:
          `no node of this cluster has the label ${ZONE_TOPOLOGY_KEY}, which the brokers' rack awareness and zone spread require (kind and minikube set none): ` +
          `label the nodes, e.g. kubectl label nodes --all ${ZONE_TOPOLOGY_KEY}=dev-a`,
      },
    ]);

    // 1. The cluster: node pools, then the Kafka resource, which an apply waits on until Ready.
    this.cluster = new KafkaCluster(this, 'cluster', {
      namespace: props.kafkaNamespace,
      kafka: env.kafka,
      adminUser: ADMIN_USER,
      platform: env.kubernetes?.platform,
      readyTimeout: '30m',
      externalAdvertisedHost: externalHost?.stringValue,
      kubeconfig: env.kubernetes!,
    });

    // 2. Users. ACLs come from what config/topics.ts grants each principal.
    const topicSpecs = platformTopics(env.kafka.brokers);
    // Every user waits for its credentials: workloads-stack mounts the producer's and consumer's Secrets.
    const user = { namespace: props.kafkaNamespace, clusterName, readyTimeout: '10m', waitReady: true, dependsOn: [this.cluster.kafka, this.cluster.reconciled] };
    this.users = {
      admin: new ScramUser(this, 'admin', { ...user, name: ADMIN_USER, password: adminPassword.stringValue }),
      producer: new ScramUser(this, 'producer', {
        ...user,
        name: PRODUCER_USER,
        acls: [...topicAclsFor(PRODUCER_USER, topicSpecs), { resource: { type: 'cluster' }, operations: ['IdempotentWrite'] }],
      }),
      consumer: new ScramUser(this, 'consumer', { ...user, name: CONSUMER_USER, acls: topicAclsFor(CONSUMER_USER, topicSpecs) }),
    };

    // The consumer's autoscaler reads its group's lag as a user of its own (KEDA, addons-stack).
    const lagReader = new LagReader(this, 'lag-reader', {
      namespace: props.kafkaNamespace,
      clusterName,
      clusterCaSecretName: clusterCaCertSecretName(clusterName),
      topic: POSTS_TOPIC,
      group: CONSUMER_GROUP,
      readyTimeout: '10m',
      dependsOn: [this.cluster.kafka, this.cluster.reconciled],
    });

    // 3. Monitoring: Prometheus (addons-stack) selects PodMonitors from every namespace.
    this.podMonitors = new KafkaPodMonitors(this, 'pod-monitors', { namespace: props.kafkaNamespace, clusterName, interval: '30s' });

    // The operator's own metrics, for the CA expiry alert among the Kafka alerts.
    new StrimziOperatorMonitor(this, 'operator-monitor', { namespace: props.kafkaNamespace, interval: '60s' });

    // Alerts next to what they watch: replication, controller, disk, lag (docs/runbooks.md).
    new KafkaAlertRules(this, 'kafka-alerts', {
      namespace: props.kafkaNamespace,
      labels: { 'app.kubernetes.io/part-of': 'kafka-platform' },
      expectedBrokers: env.kafka.brokers,
    });

    // 4. Topics, over the external listener as the super user, once it can log in. The
    // address and CA come from the Kafka resource's status, read after `clusterCreated`: a
    // marker made once, when the cluster and its admin first became Ready, that never changes.
    // On a fresh cluster the read so waits for the apply of the cluster (one deploy brings up
    // cluster and topics); on every later plan it happens at plan time, even while the Kafka
    // resource has changes (a version bump). Read after the Kafka resource itself, it was put
    // off to apply time whenever that resource changed, the Kafka provider got unknown
    // settings and the real plan failed with "no bootstrap_servers provided".
    const clusterCreated = new DataResource(this, 'cluster-created', { dependsOn: [this.cluster.kafka, this.users.admin.manifest] });
    const status = new DataKubernetesResource(this, 'kafka-status', {
      apiVersion: 'kafka.strimzi.io/v1',
      kind: 'Kafka',
      // Names from the config, not from the manifest: the lookup follows clusterCreated alone.
      metadata: { name: clusterName, namespace: props.kafkaNamespace },
      dependsOn: [clusterCreated],
    });
    const external = `one([for l in ${status.fqn}.object.status.listeners : l if l.name == "${EXTERNAL_LISTENER}"])`;
    const bootstrapVar = `var.${externalBootstrap.friendlyUniqueId}`;
    const caVar = `var.${clusterCa.friendlyUniqueId}`;
    const kafkaProvider = new KafkaProvider(this, 'kafka', {
      bootstrapServers: Token.asList(`\${${bootstrapVar} != null ? ${bootstrapVar} : split(",", ${external}.bootstrapServers)}`),
      caCert: Token.asString(`\${${caVar} != null ? ${caVar} : ${external}.certificates[0]}`),
      tlsEnabled: true,
      saslMechanism: 'scram-sha512',
      saslUsername: ADMIN_USER,
      saslPassword: adminPassword.stringValue,
    });
    this.topics = new KafkaTopics(this, 'topics', {
      provider: kafkaProvider,
      brokerCount: env.kafka.brokers,
      topics: topicSpecs,
      // The User Operator owns these principals' ACLs and would remove any it did not write.
      manageAcls: false,
      // Its plan-time read of the cluster's topics, likewise.
      dependsOn: [clusterCreated],
    });

    // 5. What workloads-stack consumes: references to this stack's resources, never literals.
    const posts = this.topics.topics[POSTS_TOPIC];
    const postsDlq = this.topics.topics[POSTS_DLQ_TOPIC];
    if (!posts || !postsDlq) throw new Error(`config/topics.ts must declare the "${POSTS_TOPIC}" and "${POSTS_DLQ_TOPIC}" topics the workloads use`);
    this.connection = {
      kafkaNamespace: this.cluster.namespace,
      // Locals, so other stacks reference each whole value through remote state.
      bootstrapServers: new TerraformLocal(this, 'bootstrap-servers', internalBootstrapAddress(this.cluster.clusterName, this.cluster.namespace)).asString,
      clusterCaSecretName: new TerraformLocal(this, 'cluster-ca-secret-name', clusterCaCertSecretName(this.cluster.clusterName)).asString,
      producerUserName: this.users.producer.userName,
      consumerUserName: this.users.consumer.userName,
      postsTopic: posts.name,
      postsDlqTopic: postsDlq.name,
      postsPartitions: posts.partitions,
      lagReaderAuthentication: lagReader.authenticationName,
    };
    new TerraformOutput(this, 'bootstrap-servers-output', { value: this.connection.bootstrapServers, description: 'In-cluster TLS bootstrap address' });
  }
}
