import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { AlertRule, PrometheusRuleResource, RuleGroup, RuleSetOptions, finishRule, promql } from './prometheus-rules';
import { PRODUCE_ERROR_STAGE, SERVICE_METRICS } from './service-metrics';

/** Alerts on the producer and consumer services, from their own prom-client metrics. */
export interface ServiceAlertOptions extends RuleSetOptions {
  /** Ratio of failed to attempted sends above which the producer alerts. Default 0.05. */
  readonly producerErrorRatio?: number;
}

export const SERVICE_ALERT_GROUP = 'kafka-platform.services';

/** The service alert rules; `forOverride` only from local tests. */
export function serviceAlertGroups(options: ServiceAlertOptions): RuleGroup[] {
  const ns = `namespace="${options.namespace}"`;
  const ratio = options.producerErrorRatio ?? 0.05;
  const m = SERVICE_METRICS;
  const produceErrors = `sum by (namespace) (rate(${m.errors.name}{${ns}, stage="${PRODUCE_ERROR_STAGE}"}[5m]))`;
  const rules: AlertRule[] = [
    {
      alert: 'KafkaPlatformDeadLetters',
      // Any dead letter is worth a look: increase() > 0 is rate() > 0, in messages rather than per second.
      expr: `sum by (namespace, topic) (increase(${m.dlq.name}{${ns}}[5m])) > 0`,
      for: '1m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Messages are going to the dead-letter topic',
        description: 'The consumer in namespace {{ $labels.namespace }} moved about {{ $value | printf "%.0f" }} message(s) from topic {{ $labels.topic }} to the dead-letter topic in the last 5 minutes.',
      },
    },
    {
      alert: 'KafkaPlatformProducerErrors',
      // Failed / (acknowledged + failed). With no acknowledged sends at all, the ratio is 1.
      expr: promql(`
        ${produceErrors}
          /
        (
          ${produceErrors}
          +
          (sum by (namespace) (rate(${m.produced.name}{${ns}}[5m])) or ${produceErrors} * 0)
        )
        > ${ratio}
      `),
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The producer fails to send messages',
        description: `{{ $value | humanizePercentage }} of the producer's sends in namespace {{ $labels.namespace }} fail (threshold ${ratio * 100}%).`,
      },
    },
    {
      alert: 'KafkaPlatformServiceCrashLooping',
      expr: `max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{${ns}, reason="CrashLoopBackOff"}[5m])) >= 1`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'A producer or consumer pod is crash-looping',
        description: 'Container {{ $labels.container }} of pod {{ $labels.pod }} (namespace {{ $labels.namespace }}) keeps restarting (CrashLoopBackOff).',
      },
    },
  ];
  return [{ name: SERVICE_ALERT_GROUP, rules: rules.map((r) => finishRule(r, options)) }];
}

export interface ServiceAlertRulesProps {
  /** Namespace of the producer and consumer; the PrometheusRule is created there and watches only it. */
  readonly namespace: string;
  /** Extra labels on the PrometheusRule object. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Ratio of failed sends above which the producer alerts. Default 0.05. */
  readonly producerErrorRatio?: number;
  /** Where docs/runbooks.md is browsable; default the repository-relative path. */
  readonly runbookBaseUrl?: string;
  /** Resources to create first, e.g. the namespace (the rule names it as a plain string). */
  readonly dependsOn?: ITerraformDependable[];
}

/** The service alerts as a PrometheusRule, for workloads-stack. */
export class ServiceAlertRules extends Construct {
  readonly rule: PrometheusRuleResource;

  constructor(scope: Construct, id: string, props: ServiceAlertRulesProps) {
    super(scope, id);
    this.rule = new PrometheusRuleResource(this, 'rule', {
      name: 'kafka-platform-service-alerts',
      namespace: props.namespace,
      labels: props.labels ?? {},
      dependsOn: props.dependsOn,
      groups: serviceAlertGroups({
        namespace: props.namespace,
        producerErrorRatio: props.producerErrorRatio,
        runbookBaseUrl: props.runbookBaseUrl,
      }),
    });
  }
}
