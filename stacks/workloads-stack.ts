import { Construct } from 'constructs';
import { Fn, TerraformVariable, Token } from 'cdktf';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { DataKubernetesSecretV1 } from '@cdktf/provider-kubernetes/lib/data-kubernetes-secret-v1';
import { DeploymentV1, DeploymentV1SpecTemplateSpec } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { JobV1 } from '@cdktf/provider-kubernetes/lib/job-v1';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { serviceSamplerEnv, versions } from '../config';
import { CONSUMER_GROUP } from '../config/topics';
import { dnsEgressPeers } from '../modules/cluster-dns';
import { ConsumerScaledObject } from '../modules/consumer-autoscaling';
import { requireDeployed } from '../modules/deploy-order';
import { KubernetesProviders } from '../modules/kubernetes-providers';
import { ALLOY_OTLP_HTTP_PORT, ALLOY_POD_LABELS, alloyOtlpUrl } from '../modules/observability/alloy';
import { ServiceAlertRules } from '../modules/observability/service-alerts';
import { PlatformStack, PlatformStackProps } from '../modules/platform-stack';
import type { KafkaConnection } from './kafka-stack';

export interface WorkloadsStackProps extends PlatformStackProps {
  /** The Kafka cluster's addresses, Secret, user and topic names: references to kafka-stack. */
  readonly kafka: KafkaConnection;
  /** Namespace whose Prometheus may scrape the services' metrics, from addons-stack. */
  readonly monitoringNamespace: string;
}

const UID = 65532;
const HTTP_PORT = 8080;
const PART_OF = { 'app.kubernetes.io/part-of': 'kafka-platform' } as const;
const MOUNT = { ca: '/etc/kafka-client/ca', sasl: '/etc/kafka-client/sasl' } as const;
/** Consumers kept running even when idle: one can drain while the other restarts. */
const CONSUMER_MIN_REPLICAS = 2;

/** The PodNodeSelector admission plugin's namespace annotation (`services.namespaceNodeSelector`). */
export const NAMESPACE_NODE_SELECTOR_ANNOTATION = 'scheduler.alpha.kubernetes.io/node-selector';

/** Pod template annotation of the consumer: a digest of the CA and password it reads at start. */
export const CLIENT_SECRETS_DIGEST_ANNOTATION = 'kafka-platform/client-secrets-digest';

/** Pod template annotation carrying the producer's run token (`producer_run`). */
export const PRODUCER_RUN_ANNOTATION = 'kafka-platform/producer-run';

type Service = 'producer' | 'consumer';
const labels = (service: Service) => ({ ...PART_OF, 'app.kubernetes.io/name': service, 'app.kubernetes.io/component': 'workload' });

/** The producer Job and consumer Deployment, least-privileged, in their own namespace. */
export class WorkloadsStack extends PlatformStack {
  constructor(scope: Construct, id: string, props: WorkloadsStackProps) {
    super(scope, id, props);
    const { env } = props;
    KubernetesProviders.forEnvironment(this, env);
    // Literal names from the config: these checks run before the other stacks' outputs are read.
    requireDeployed(this, 'addons-stack', { apiVersion: 'v1', kind: 'Namespace', name: env.namespaces.monitoring, description: `its namespace ${env.namespaces.monitoring}` });
    requireDeployed(this, 'kafka-stack', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: env.namespaces.kafka,
      name: `${env.kafka.clusterName}-kafka-metrics`,
      description: `its ConfigMap ${env.namespaces.kafka}/${env.kafka.clusterName}-kafka-metrics`,
    });

    const namespace = new NamespaceV1(this, 'workloads-namespace', {
      metadata: {
        name: env.namespaces.workloads,
        labels: {
          ...PART_OF,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
        ...(env.services.namespaceNodeSelector !== undefined ? { annotations: { [NAMESPACE_NODE_SELECTOR_ANNOTATION]: env.services.namespaceNodeSelector } } : {}),
      },
    });
    const ns = namespace.metadata.name;

    new ConfigMapV1(this, 'kafka-client-config', {
      metadata: { name: 'kafka-client', namespace: ns, labels: PART_OF },
      data: {
        KAFKA_BROKERS: props.kafka.bootstrapServers,
        KAFKA_TOPIC: props.kafka.postsTopic,
        KAFKA_DLQ_TOPIC: props.kafka.postsDlqTopic,
        KAFKA_GROUP_ID: CONSUMER_GROUP,
        KAFKA_TLS_CA_FILE: `${MOUNT.ca}/ca.crt`,
        KAFKA_SASL_PASSWORD_FILE: `${MOUNT.sasl}/password`,
        HTTP_PORT: String(HTTP_PORT),
        LOG_LEVEL: 'info',
        // Below terminationGracePeriodSeconds (30 s), so the service's own deadline fires first.
        SHUTDOWN_TIMEOUT_MS: '20000',
      },
    });

    // Pods cannot mount Secrets of another namespace, so the CA certificate and the
    // passwords the Strimzi operators wrote are read here and copied into this namespace.
    // The values therefore live in this stack's Terraform state: keep that backend encrypted
    // and access-controlled (docs/state.md, "Secrets in state"). Rotation and CA renewal: the
    // next apply copies the new values, and the consumer's pod template carries a digest of
    // them, so its pods restart reading them (docs/services.md, "CA renewal").
    const sources: DataKubernetesSecretV1[] = [];
    const copySecret = (name: string, sourceName: string, keys: readonly string[]) => {
      const source = new DataKubernetesSecretV1(this, `${name}-source`, { metadata: { name: sourceName, namespace: props.kafka.kafkaNamespace } });
      sources.push(source);
      return new SecretV1(this, name, {
        metadata: { name, namespace: ns, labels: PART_OF },
        type: 'Opaque',
        data: Object.fromEntries(keys.map((k) => [k, source.data.lookup(k)])),
      });
    };
    const caSecret = copySecret('kafka-cluster-ca', props.kafka.clusterCaSecretName, ['ca.crt']);
    const credentials: Record<Service, SecretV1> = {
      producer: copySecret('kafka-producer-credentials', props.kafka.producerUserName, ['password']),
      consumer: copySecret('kafka-consumer-credentials', props.kafka.consumerUserName, ['password']),
    };
    const userNames: Record<Service, string> = { producer: props.kafka.producerUserName, consumer: props.kafka.consumerUserName };
    // A digest of what the consumer reads at start (the CA and its password), never the values:
    // when either changes, the pod template changes and the Deployment rolls. The producer Job
    // carries none, so a renewal does not run the load again.
    const [caSource, , consumerSource] = sources;
    const clientSecretsDigest = Token.asString(`\${nonsensitive(sha256(jsonencode([${caSource.fqn}.data, ${consumerSource.fqn}.data])))}`);

    const serviceAccounts = Object.fromEntries(
      (['producer', 'consumer'] as const).map((s) => [
        s,
        new ServiceAccountV1(this, `${s}-service-account`, {
          metadata: { name: s, namespace: ns, labels: labels(s) },
          // Neither service calls the Kubernetes API: no token in the pods.
          automountServiceAccountToken: false,
        }),
      ]),
    ) as Record<Service, ServiceAccountV1>;

    // Images by digest only: what was built, scanned and signed is what runs. The registry is the
    // environment's; the digest is the release's (`npm run images` prints it, the deploy
    // workflow passes the one its images job pushed).
    const imageDigests = Object.fromEntries(
      (['producer', 'consumer'] as const).map((s) => [
        s,
        new TerraformVariable(this, `${s}_image_digest`, {
          type: 'string',
          nullable: false,
          description: `Manifest digest (sha256:...) of the kafka-platform-${s} ${versions.images.services} image in ${env.imageRegistry}`,
          validation: [
            {
              condition: `\${can(regex("^sha256:[0-9a-f]{64}$", var.${s}_image_digest))}`,
              errorMessage: `${s}_image_digest must be a manifest digest, sha256: and 64 hex digits (npm run images prints it)`,
            },
          ],
        }),
      ]),
    ) as Record<Service, TerraformVariable>;
    const image = (s: Service) => `${env.imageRegistry}/kafka-platform-${s}@${imageDigests[s].stringValue}`;
    /** Pod labels: the selector's, plus the release, which selectors must not carry (they are immutable). */
    const podLabels = (s: Service) => ({ ...labels(s), 'app.kubernetes.io/version': versions.images.services });

    /** Pod spec shared by the Job and the Deployment: every hardening setting lives here once. */
    const podSpec = (s: Service, extra: Pick<DeploymentV1SpecTemplateSpec, 'restartPolicy' | 'topologySpreadConstraint'>, extraEnv: Record<string, string> = {}): DeploymentV1SpecTemplateSpec => ({
      ...extra,
      serviceAccountName: serviceAccounts[s].metadata.name,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: String(UID),
        runAsGroup: String(UID),
        fsGroup: String(UID),
        seccompProfile: { type: 'RuntimeDefault' },
      },
      container: [
        {
          name: s,
          image: image(s),
          imagePullPolicy: 'IfNotPresent',
          envFrom: [{ configMapRef: { name: 'kafka-client' } }],
          env: [
            { name: 'KAFKA_SASL_USERNAME', value: userNames[s] },
            { name: 'KAFKA_CLIENT_ID', value: s },
            // The pod's identity for its spans; Grafana's trace-to-logs link maps namespace and pod to Loki's labels.
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            // Spans go to Alloy in the monitoring namespace over OTLP/HTTP, which forwards them to Tempo.
            { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: alloyOtlpUrl(props.monitoringNamespace) },
            { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' },
            // The producer samples each message's trace; the consumer continues only those.
            ...Object.entries(serviceSamplerEnv(s, env.services.traceSampleRatio)).map(([name, value]) => ({ name, value })),
            { name: 'OTEL_SERVICE_NAME', value: s },
            {
              name: 'OTEL_RESOURCE_ATTRIBUTES',
              // $(VAR) is expanded by Kubernetes from the variables above.
              value: [
                'service.namespace=kafka-platform',
                `service.version=${versions.images.services}`,
                `deployment.environment.name=${env.name}`,
                'k8s.namespace.name=$(POD_NAMESPACE)',
                'k8s.pod.name=$(POD_NAME)',
                'k8s.node.name=$(NODE_NAME)',
              ].join(','),
            },
            ...Object.entries(extraEnv).map(([name, value]) => ({ name, value })),
          ],
          port: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
          readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
          resources: env.services.resources,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: String(UID),
            runAsGroup: String(UID),
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          volumeMount: [
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'kafka-ca', mountPath: MOUNT.ca, readOnly: true },
            { name: 'kafka-credentials', mountPath: MOUNT.sasl, readOnly: true },
          ],
        },
      ],
      volume: [
        // The root filesystem is read-only; node and its libraries may still need scratch space.
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
        { name: 'kafka-ca', secret: { secretName: caSecret.metadata.name, defaultMode: '0440' } },
        { name: 'kafka-credentials', secret: { secretName: credentials[s].metadata.name, defaultMode: '0440' } },
      ],
    });

    // The Job runs once per release: its template (image, settings, this run token) is immutable,
    // so a change of any of them replaces the Job and runs it again, and nothing else does. No
    // TTL: a Job the TTL controller deleted would be planned, created and run again by the next
    // deploy (docs/services.md, "Producer Job").
    const producerRun = new TerraformVariable(this, 'producer_run', {
      type: 'string',
      default: 'initial',
      nullable: false,
      description: 'Run token of the producer Job: set a new value (e.g. a date) to run it again with the same image and settings',
    });
    new JobV1(this, 'producer-job', {
      metadata: { name: 'producer', namespace: ns, labels: labels('producer') },
      spec: {
        backoffLimit: 3,
        // A stuck run fails instead of holding resources; 10,000 messages at 500/s take 20 s.
        activeDeadlineSeconds: 900,
        template: {
          metadata: { labels: podLabels('producer'), annotations: { [PRODUCER_RUN_ANNOTATION]: producerRun.stringValue } },
          spec: podSpec('producer', { restartPolicy: 'Never' }, {
            MESSAGE_COUNT: '10000',
            RATE_LIMIT: '500',
            PAYLOAD_SIZE: '512',
            KEY_STRATEGY: 'id',
            BATCH_SIZE: '500',
          }),
        },
      },
      // Deploys do not wait for the run; its result is in the Job status and the logs.
      waitForCompletion: false,
    });

    const consumerLabels = labels('consumer');
    // More consumers than partitions would sit idle: both bounds follow the partition count.
    const minReplicas = Fn.min([CONSUMER_MIN_REPLICAS, props.kafka.postsPartitions]);
    const spread = (topologyKey: string, whenUnsatisfiable: string) => ({
      topologyKey,
      maxSkew: 1,
      whenUnsatisfiable,
      labelSelector: [{ matchLabels: consumerLabels }],
    });
    const deployment = new DeploymentV1(this, 'consumer-deployment', {
      metadata: { name: 'consumer', namespace: ns, labels: consumerLabels },
      spec: {
        replicas: Token.asString(minReplicas),
        selector: { matchLabels: consumerLabels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '0', maxSurge: '1' } },
        template: {
          metadata: { labels: podLabels('consumer'), annotations: { [CLIENT_SECRETS_DIGEST_ANNOTATION]: clientSecretsDigest } },
          spec: podSpec('consumer', {
            topologySpreadConstraint: [
              // Zones are best effort (laptop clusters have none); hosts are enforced.
              spread('topology.kubernetes.io/zone', 'ScheduleAnyway'),
              spread('kubernetes.io/hostname', 'DoNotSchedule'),
            ],
          }),
        },
      },
      // The HPA (KEDA's) owns the replica count after creation.
      lifecycle: { ignoreChanges: ['spec[0].replicas'] },
    });

    new PodDisruptionBudgetV1(this, 'consumer-pdb', {
      metadata: { name: 'consumer', namespace: ns, labels: consumerLabels },
      spec: { maxUnavailable: '1', selector: { matchLabels: consumerLabels } },
    });

    // On the group's lag, through KEDA (addons-stack), which makes and feeds the HPA; between
    // min(2, partitions) and the partitions: more members than partitions would sit idle.
    new ConsumerScaledObject(this, 'consumer-autoscaling', {
      namespace: ns,
      deploymentName: deployment.metadata.name,
      bootstrapServers: props.kafka.bootstrapServers,
      topic: props.kafka.postsTopic,
      group: CONSUMER_GROUP,
      partitions: props.kafka.postsPartitions,
      minReplicas: Token.asNumber(minReplicas),
      lagThreshold: env.services.autoscaling.lagThreshold,
      authenticationName: props.kafka.lagReaderAuthentication,
      labels: consumerLabels,
    });

    this.networkPolicies(ns, props);

    // The alert expressions name the namespace literally; the explicit dependency orders the apply.
    new ServiceAlertRules(this, 'service-alerts', { namespace: env.namespaces.workloads, labels: PART_OF, dependsOn: [namespace] });

    new Manifest(this, 'services-pod-monitor', {
      manifest: {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PodMonitor',
        metadata: { name: 'kafka-platform-services', namespace: ns, labels: PART_OF },
        spec: {
          selector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['producer', 'consumer'] }] },
          podMetricsEndpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
        },
      },
    });
  }

  /** Default deny; then only DNS, the Kafka brokers, Alloy's OTLP port, and Prometheus scraping the metrics port. */
  private networkPolicies(ns: string, props: WorkloadsStackProps): void {
    const metadata = (name: string) => ({ name, namespace: ns, labels: PART_OF });
    const byName = (namespace: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': namespace } });

    new NetworkPolicyV1(this, 'default-deny', {
      metadata: metadata('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });

    new NetworkPolicyV1(this, 'allow-dns', {
      metadata: metadata('allow-dns'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            // Wherever the environment's resolver answers: the DNS pods, NodeLocal DNSCache, Cloud DNS.
            to: dnsEgressPeers(props.env.kubernetes!.dns),
            ports: [
              { port: '53', protocol: 'UDP' },
              { port: '53', protocol: 'TCP' },
            ],
          },
        ],
      },
    });

    // The port comes from the bootstrap address, so the policy follows the TLS listener.
    const kafkaPort = Fn.element(Fn.split(':', props.kafka.bootstrapServers), 1);
    new NetworkPolicyV1(this, 'allow-kafka', {
      metadata: metadata('allow-kafka'),
      spec: {
        podSelector: { matchLabels: PART_OF },
        policyTypes: ['Egress'],
        egress: [
          {
            // Clients reach the bootstrap Service first, then each broker pod on the same port.
            to: [{ namespaceSelector: byName(props.kafka.kafkaNamespace), podSelector: { matchLabels: { 'strimzi.io/broker-role': 'true' } } }],
            ports: [{ port: Token.asString(kafkaPort), protocol: 'TCP' }],
          },
        ],
      },
    });

    // Spans to Alloy's OTLP/HTTP receiver, and nowhere else.
    new NetworkPolicyV1(this, 'allow-otlp', {
      metadata: metadata('allow-otlp'),
      spec: {
        podSelector: { matchLabels: PART_OF },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: byName(props.monitoringNamespace), podSelector: { matchLabels: { ...ALLOY_POD_LABELS } } }],
            ports: [{ port: String(ALLOY_OTLP_HTTP_PORT), protocol: 'TCP' }],
          },
        ],
      },
    });

    new NetworkPolicyV1(this, 'allow-metrics-scrape', {
      metadata: metadata('allow-metrics-scrape'),
      spec: {
        podSelector: { matchLabels: PART_OF },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ namespaceSelector: byName(props.monitoringNamespace), podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
            ports: [{ port: String(HTTP_PORT), protocol: 'TCP' }],
          },
        ],
      },
    });
  }
}
