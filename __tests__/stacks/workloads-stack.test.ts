import * as path from 'path';
import { environments, OVERRIDE_VARIABLES, versions } from '../../config';
import { CONSUMER_GROUP } from '../../config/topics';
import { EnvReader } from '../../services/shared/config';
import { readTracingConfig } from '../../services/shared/tracing-config';
import { PROJECT_ROOT } from '../../tools/paths';
import { parseDockerfile } from '../docker/dockerfile';
import { CLIENT_SECRETS_DIGEST_ANNOTATION, NAMESPACE_NODE_SELECTOR_ANNOTATION, PRODUCER_RUN_ANNOTATION } from '../../stacks/workloads-stack';
import { validateCustomResource } from '../support/schemas';
import { TerraformJson, resourcesOf, synthEnvironment } from '../support/synth';

const { stacks } = synthEnvironment('dev');
const stack = stacks['workloads-stack'];
const env = environments.dev;
const REMOTE_KAFKA = /^\$\{data\.terraform_remote_state\.[^.]+kafka-stack\.outputs\.[^}]+\}$/;
const REMOTE_ADDONS = /^\$\{data\.terraform_remote_state\.[^.]+addons-stack\.outputs\.[^}]+\}$/;

const only = (type: string): TerraformJson => {
  const all = Object.values(resourcesOf(stack, type));
  expect(all).toHaveLength(1);
  return all[0];
};
const job = only('kubernetes_job_v1');
const deployment = only('kubernetes_deployment_v1');
const scaledObject = Object.values(resourcesOf(stack, 'kubernetes_manifest')).map((m) => m.manifest as TerraformJson).find((m) => m.kind === 'ScaledObject')!;
const configMap = only('kubernetes_config_map_v1');

/** Every pod template in the stack, whatever resource holds it. */
function podSpecs(): [string, TerraformJson][] {
  const found: [string, TerraformJson][] = [];
  const walk = (node: unknown, at: string) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
    if (node === null || typeof node !== 'object') return;
    const o = node as TerraformJson;
    if (o.template?.spec?.container) found.push([at, o.template.spec]);
    for (const [k, v] of Object.entries(o)) walk(v, `${at}.${k}`);
  };
  walk(stack.resource, 'resource');
  return found;
}

describe('workloads-stack', () => {
  test('puts the services in a namespace that enforces the restricted Pod Security Standard', () => {
    expect(only('kubernetes_namespace_v1').metadata).toMatchObject({
      name: env.namespaces.workloads,
      labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' },
    });
  });

  test('places the namespace on the nodes services.namespaceNodeSelector names (PodNodeSelector\'s annotation), and has no annotation without it', () => {
    expect(only('kubernetes_namespace_v1').metadata.annotations).toBeUndefined();
    process.env[OVERRIDE_VARIABLES.workloadsNodeSelector] = 'kubernetes.io/hostname=node-1';
    try {
      const placed = synthEnvironment('dev').stacks['workloads-stack'];
      expect(Object.values(resourcesOf(placed, 'kubernetes_namespace_v1'))[0].metadata.annotations).toEqual({ [NAMESPACE_NODE_SELECTOR_ANNOTATION]: 'kubernetes.io/hostname=node-1' });
    } finally {
      delete process.env[OVERRIDE_VARIABLES.workloadsNodeSelector];
    }
  });

  describe('every pod spec', () => {
    const specs = podSpecs();

    test('there are exactly two: the producer Job and the consumer Deployment', () => {
      expect(specs.map(([at]) => at).sort()).toEqual([
        'resource.kubernetes_deployment_v1.consumer-deployment.spec',
        'resource.kubernetes_job_v1.producer-job.spec',
      ]);
    });

    test.each(specs)('%s runs as 65532, non-root, RuntimeDefault seccomp, without a service account token', (_at, spec) => {
      expect(spec.automount_service_account_token).toBe(false);
      expect(spec.security_context).toEqual({
        run_as_non_root: true,
        run_as_user: '65532',
        run_as_group: '65532',
        fs_group: '65532',
        seccomp_profile: { type: 'RuntimeDefault' },
      });
      expect(spec.host_network ?? false).toBe(false);
      expect(spec.host_pid ?? false).toBe(false);
    });

    test.each(specs)('%s: every container drops all capabilities, cannot escalate, has a read-only root and a /tmp emptyDir', (_at, spec) => {
      const containers = [...(spec.container as TerraformJson[]), ...((spec.init_container as TerraformJson[] | undefined) ?? [])];
      const tmp = (spec.volume as TerraformJson[]).find((v) => v.name === 'tmp');
      expect(tmp?.empty_dir).toEqual({ size_limit: expect.any(String) });
      for (const c of containers) {
        expect(c.security_context).toEqual({
          run_as_non_root: true,
          run_as_user: '65532',
          run_as_group: '65532',
          read_only_root_filesystem: true,
          allow_privilege_escalation: false,
          privileged: false,
          capabilities: { drop: ['ALL'] },
          seccomp_profile: { type: 'RuntimeDefault' },
        });
        expect(c.volume_mount).toEqual(expect.arrayContaining([{ name: 'tmp', mount_path: '/tmp' }]));
        expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        expect(c.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        expect(c.liveness_probe.http_get).toEqual({ path: '/healthz', port: 'http' });
        expect(c.readiness_probe.http_get).toEqual({ path: '/readyz', port: 'http' });
        expect(c.port).toEqual([{ name: 'http', container_port: 8080, protocol: 'TCP' }]);
        expect(c.image).toBe(`${env.imageRegistry}/kafka-platform-${c.name}@\${var.${c.name}_image_digest}`);
      }
    });

    test('the user is the one the image declares', () => {
      const runtime = parseDockerfile(path.join(PROJECT_ROOT, 'docker', 'services.Dockerfile')).find((s) => s.name === 'runtime')!;
      const user = runtime.instructions.filter((i) => i.keyword === 'USER').pop()!.args;
      for (const [, spec] of specs) expect(user.split(':')[0]).toBe(spec.security_context.run_as_user);
    });
  });

  test('images are referenced by digest only: a required input per service, validated before anything is planned', () => {
    for (const service of ['producer', 'consumer']) {
      const variable = stack.variable[`${service}_image_digest`];
      expect(variable).toMatchObject({ type: 'string', nullable: false });
      expect(variable.default).toBeUndefined();
      expect(variable.validation).toEqual([
        { condition: `\${can(regex("^sha256:[0-9a-f]{64}$", var.${service}_image_digest))}`, error_message: expect.stringContaining('sha256:') },
      ]);
    }
    // The release travels on the pods (never on selectors, which cannot change).
    expect(job.spec.template.metadata.labels['app.kubernetes.io/version']).toBe(versions.images.services);
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/version']).toBe(versions.images.services);
    expect(deployment.spec.selector.match_labels['app.kubernetes.io/version']).toBeUndefined();
  });

  test('service accounts mount no API token', () => {
    const accounts = Object.values(resourcesOf(stack, 'kubernetes_service_account_v1'));
    expect(accounts.map((a) => a.metadata.name).sort()).toEqual(['consumer', 'producer']);
    for (const a of accounts) expect(a.automount_service_account_token).toBe(false);
    expect(job.spec.template.spec.service_account_name).toMatch(/^\$\{kubernetes_service_account_v1\.producer-service-account\./);
    expect(deployment.spec.template.spec.service_account_name).toMatch(/^\$\{kubernetes_service_account_v1\.consumer-service-account\./);
  });

  test('the producer Job is bounded (retries, deadline) and kept once finished, so no later plan re-creates it', () => {
    expect(job.spec).toMatchObject({ backoff_limit: 3, active_deadline_seconds: expect.any(Number) });
    // A TTL would delete the finished Job, and the next plan would create (and run) it again.
    expect(job.spec.ttl_seconds_after_finished).toBeUndefined();
    // It runs again only when its template changes: the image, the settings, or the run token.
    expect(job.spec.template.metadata.annotations).toEqual({ [PRODUCER_RUN_ANNOTATION]: '${var.producer_run}' });
    expect(stack.variable.producer_run).toMatchObject({ type: 'string', default: 'initial', nullable: false });
    expect(job.spec.template.spec.restart_policy).toBe('Never');
    const envNames = (job.spec.template.spec.container[0].env as { name: string }[]).map((e) => e.name);
    expect(envNames).toEqual(expect.arrayContaining(['MESSAGE_COUNT', 'RATE_LIMIT', 'PAYLOAD_SIZE', 'KEY_STRATEGY', 'BATCH_SIZE']));
  });

  test('the consumer rolls when the CA or its password changes: a digest of both in its pod template, never the values', () => {
    const annotations = deployment.spec.template.metadata.annotations as Record<string, string>;
    expect(annotations[CLIENT_SECRETS_DIGEST_ANNOTATION]).toBe(
      '${nonsensitive(sha256(jsonencode([data.kubernetes_secret_v1.kafka-cluster-ca-source.data, data.kubernetes_secret_v1.kafka-consumer-credentials-source.data])))}',
    );
    // The data sources read what the pods mount copies of: the CA Secret and the consumer user's.
    const sources = stack.data.kubernetes_secret_v1 as Record<string, TerraformJson>;
    expect(sources['kafka-cluster-ca-source'].metadata.name).toMatch(REMOTE_KAFKA);
    expect(sources['kafka-consumer-credentials-source'].metadata.name).toMatch(REMOTE_KAFKA);
    // The Job has none: a renewed CA must not run the producer's load again.
    expect(job.spec.template.metadata.annotations).not.toHaveProperty(CLIENT_SECRETS_DIGEST_ANNOTATION);
  });

  test('consumer replicas follow the group’s lag through KEDA, never above the partitions of posts', () => {
    // No HPA of the stack's own: KEDA makes the one HPA from the ScaledObject (two would fight).
    expect(resourcesOf(stack, 'kubernetes_horizontal_pod_autoscaler_v2')).toEqual({});
    const partitions = scaledObject.spec.maxReplicaCount as string;
    expect(partitions).toMatch(REMOTE_KAFKA);
    const ref = partitions.slice(2, -1);
    expect(deployment.spec.replicas).toBe(`\${min(2, ${ref})}`);
    expect(scaledObject.spec.minReplicaCount).toBe(`\${min(2, ${ref})}`);
    expect(scaledObject.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: '${kubernetes_deployment_v1.consumer-deployment.metadata[0].name}' });
    const [trigger] = scaledObject.spec.triggers;
    expect(trigger).toMatchObject({ type: 'kafka', metadata: { consumerGroup: CONSUMER_GROUP, lagThreshold: String(env.services.autoscaling.lagThreshold), allowIdleConsumers: 'false' } });
    // Through the TLS listener, as the lag reader kafka-stack made: both by reference.
    expect(trigger.metadata.bootstrapServers).toMatch(REMOTE_KAFKA);
    expect(trigger.metadata.topic).toMatch(REMOTE_KAFKA);
    expect(trigger.authenticationRef).toEqual({ name: expect.stringMatching(REMOTE_KAFKA), kind: 'ClusterTriggerAuthentication' });
    expect(deployment.lifecycle.ignore_changes).toEqual(['spec[0].replicas']);
  });

  test('consumers spread over zones and hosts, and a PDB keeps all but one through voluntary disruptions', () => {
    const spread = deployment.spec.template.spec.topology_spread_constraint as TerraformJson[];
    expect(spread.map((s) => s.topology_key).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const s of spread) expect(s.label_selector[0].match_labels).toEqual(deployment.spec.selector.match_labels);
    const pdb = only('kubernetes_pod_disruption_budget_v1');
    expect(pdb.spec).toEqual({ max_unavailable: '1', selector: { match_labels: deployment.spec.selector.match_labels } });
  });

  describe('network policies', () => {
    const policies = Object.values(resourcesOf(stack, 'kubernetes_network_policy_v1'));
    const byName = Object.fromEntries(policies.map((p) => [p.metadata.name as string, p.spec as TerraformJson]));

    test('deny everything by default', () => {
      expect(byName['default-deny']).toEqual({ pod_selector: {}, policy_types: ['Ingress', 'Egress'] });
    });

    test('allow egress only to DNS in kube-system, to the Kafka brokers on the listener port and to Alloy on its OTLP port', () => {
      const egress = policies.flatMap((p) => (p.spec.egress ?? []) as TerraformJson[]);
      expect(egress).toHaveLength(3);
      const otlp = byName['allow-otlp'].egress[0];
      expect(otlp.to).toHaveLength(1);
      expect(otlp.to[0].namespace_selector.match_labels['kubernetes.io/metadata.name']).toMatch(REMOTE_ADDONS);
      expect(otlp.to[0].pod_selector.match_labels).toEqual({ 'app.kubernetes.io/name': 'alloy', 'app.kubernetes.io/instance': 'alloy' });
      // The port the services export to: the one in their endpoint URL.
      const endpoint = (deployment.spec.template.spec.container[0].env as { name: string; value: string }[]).find((e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT')!.value;
      expect(otlp.ports).toEqual([{ port: /:(\d+)$/.exec(endpoint)![1], protocol: 'TCP' }]);
      expect(byName['allow-dns'].egress[0]).toEqual({
        to: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'kube-system' } }, pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } } }],
        ports: [
          { port: '53', protocol: 'UDP' },
          { port: '53', protocol: 'TCP' },
        ],
      });
      const kafka = byName['allow-kafka'].egress[0];
      expect(kafka.to[0].namespace_selector.match_labels['kubernetes.io/metadata.name']).toMatch(REMOTE_KAFKA);
      expect(kafka.to[0].pod_selector.match_labels).toEqual({ 'strimzi.io/broker-role': 'true' });
      expect(kafka.ports).toEqual([{ port: `\${element(split(":", ${configMap.data.KAFKA_BROKERS.slice(2, -1)}), 1)}`, protocol: 'TCP' }]);
    });

    test('allow ingress only from Prometheus in the monitoring namespace, to the metrics port', () => {
      const ingress = policies.flatMap((p) => (p.spec.ingress ?? []) as TerraformJson[]);
      expect(ingress).toHaveLength(1);
      expect(ingress[0].ports).toEqual([{ port: '8080', protocol: 'TCP' }]);
      expect(ingress[0].from).toHaveLength(1);
      expect(ingress[0].from[0].namespace_selector.match_labels['kubernetes.io/metadata.name']).toMatch(REMOTE_ADDONS);
      expect(ingress[0].from[0].pod_selector.match_labels).toEqual({ 'app.kubernetes.io/name': 'prometheus' });
    });
  });

  test('points both services at Alloy with the standard OTEL_* variables, which the services accept: the producer samples by ratio, the consumer continues only its traces', () => {
    const expected = {
      producer: { sampler: 'parentbased_traceidratio', ratio: String(env.services.traceSampleRatio), samplerRatio: env.services.traceSampleRatio },
      consumer: { sampler: 'parentbased_always_off', ratio: undefined, samplerRatio: 1 },
    };
    for (const [service, spec] of [['producer', job.spec.template.spec], ['consumer', deployment.spec.template.spec]] as const) {
      const envList = spec.container[0].env as { name: string; value?: string; value_from?: TerraformJson }[];
      const vars = Object.fromEntries(envList.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      expect(vars.OTEL_EXPORTER_OTLP_ENDPOINT).toMatch(/^http:\/\/alloy\.\$\{data\.terraform_remote_state\.[^.]+addons-stack\.outputs\.[^}]+\}\.svc\.cluster\.local:4318$/);
      expect(vars).toMatchObject({
        OTEL_SERVICE_NAME: service,
        OTEL_TRACES_SAMPLER: expected[service].sampler,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      });
      expect(vars.OTEL_TRACES_SAMPLER_ARG).toBe(expected[service].ratio);
      // Kubernetes expands $(VAR) only from variables defined before it in the list.
      const at = (name: string) => envList.findIndex((e) => e.name === name);
      for (const v of ['POD_NAME', 'POD_NAMESPACE', 'NODE_NAME']) {
        expect(vars.OTEL_RESOURCE_ATTRIBUTES).toContain(`$(${v})`);
        expect(at(v)).toBeGreaterThanOrEqual(0);
        expect(at(v)).toBeLessThan(at('OTEL_RESOURCE_ATTRIBUTES'));
      }
      // The services' own reader accepts what the pod gets (references and $(VAR)s filled in as Kubernetes would).
      const filled = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, v.replace(/\$\{[^}]+\}/g, 'monitoring').replace(/\$\((POD_NAME|POD_NAMESPACE|NODE_NAME)\)/g, (_m, n: string) => `${n.toLowerCase()}-1`)]),
      );
      const r = new EnvReader(filled);
      const tracing = readTracingConfig(r, service);
      r.done();
      expect(tracing).toMatchObject({
        enabled: true,
        tracesUrl: 'http://alloy.monitoring.svc.cluster.local:4318/v1/traces',
        serviceName: service,
        sampler: expected[service].sampler,
        samplerRatio: expected[service].samplerRatio,
      });
      expect(tracing.resourceAttributes).toMatchObject({ 'k8s.namespace.name': 'pod_namespace-1', 'k8s.pod.name': 'pod_name-1', 'service.namespace': 'kafka-platform' });
    }
  });

  test('a PodMonitor (valid against the CRD) scrapes both services on the metrics port', () => {
    const manifests = Object.values(resourcesOf(stack, 'kubernetes_manifest')).map((m) => m.manifest as TerraformJson);
    const podMonitor = manifests.find((m) => m.kind === 'PodMonitor')!;
    expect(podMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(validateCustomResource(podMonitor as { apiVersion: string; kind: string })).toEqual([]);
    expect(podMonitor.spec.selector.matchExpressions).toEqual([{ key: 'app.kubernetes.io/name', operator: 'In', values: ['producer', 'consumer'] }]);
    expect(podMonitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
  });

  describe('values from kafka-stack arrive as cross-stack references, never as literals', () => {
    test('bootstrap address and topics in the ConfigMap', () => {
      for (const key of ['KAFKA_BROKERS', 'KAFKA_TOPIC', 'KAFKA_DLQ_TOPIC']) expect(configMap.data[key]).toMatch(REMOTE_KAFKA);
    });

    test('user names in the pods', () => {
      for (const spec of [job.spec.template.spec, deployment.spec.template.spec]) {
        const username = (spec.container[0].env as { name: string; value: string }[]).find((e) => e.name === 'KAFKA_SASL_USERNAME');
        expect(username?.value).toMatch(REMOTE_KAFKA);
      }
    });

    test('the Secrets are read in the Kafka namespace by name and copied, never written as values', () => {
      const sources = Object.values(stack.data.kubernetes_secret_v1 as Record<string, TerraformJson>);
      expect(sources).toHaveLength(3);
      for (const s of sources) {
        expect(s.metadata.name).toMatch(REMOTE_KAFKA);
        expect(s.metadata.namespace).toMatch(REMOTE_KAFKA);
      }
      const copies = Object.values(resourcesOf(stack, 'kubernetes_secret_v1'));
      expect(copies.map((c) => Object.keys(c.data)).sort()).toEqual([['ca.crt'], ['password'], ['password']]);
      for (const c of copies) for (const v of Object.values(c.data)) expect(v).toMatch(/^\$\{data\.kubernetes_secret_v1\.[^.]+\.data\["[^"]+"\]\}$/);
    });

    test('the stack reads kafka-stack and addons-stack state', () => {
      const remote = Object.values(stack.data.terraform_remote_state as Record<string, TerraformJson>);
      expect(JSON.stringify(remote)).toContain('kafka-stack');
      expect(JSON.stringify(remote)).toContain('addons-stack');
    });
  });
});
