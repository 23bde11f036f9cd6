import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { stringify } from 'yaml';

/** One Prometheus alerting rule, as in a rules file and in a PrometheusRule's spec.groups[].rules[]. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A named group of rules evaluated together. */
export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** The file every alert's runbook_url points into; one section per alert. */
export const RUNBOOKS_DOC = 'docs/runbooks.md';

/** Options shared by every rule set. */
export interface RuleSetOptions {
  /** Namespace whose series the rules watch (the `namespace` label Prometheus attaches on scrape). */
  readonly namespace: string;
  /**
   * Where docs/runbooks.md is browsable, e.g. the repository's web URL of that file; the alert
   * name is appended as the anchor. Default: the repository-relative path.
   */
  readonly runbookBaseUrl?: string;
  /**
   * Replaces every rule's `for:`. Only for local test runs that must see an alert fire within
   * seconds; the constructs that deploy rules never set it.
   */
  readonly forOverride?: string;
}

/** GitHub-style anchor of a Markdown heading that is just the alert name. */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

export function runbookUrl(alert: string, options: RuleSetOptions): string {
  return `${options.runbookBaseUrl ?? RUNBOOKS_DOC}#${runbookAnchor(alert)}`;
}

/** Fills in the runbook annotation and applies a test-only `for` override. */
export function finishRule(rule: AlertRule, options: RuleSetOptions): AlertRule {
  return {
    ...rule,
    for: options.forOverride ?? rule.for,
    annotations: { ...rule.annotations, runbook_url: runbookUrl(rule.alert, options) },
  };
}

/** Removes the indentation of multi-line PromQL written inline, so rule files read cleanly. */
export function promql(text: string): string {
  const lines = text.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** A Prometheus rules file (`rule_files:` of prometheus.yml, `promtool check rules`). */
export function renderRulesFile(groups: readonly RuleGroup[], header?: string): string {
  const body = stringify({ groups }, { lineWidth: 0 });
  return header ? `${header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n')}\n${body}` : body;
}

/** The PrometheusRule custom resource holding `groups`. */
export function prometheusRuleManifest(
  name: string,
  namespace: string,
  labels: Readonly<Record<string, string>>,
  groups: readonly RuleGroup[],
): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'kafka-platform', ...labels } },
    spec: { groups },
  };
}

export interface PrometheusRuleResourceProps {
  /** Name of the PrometheusRule object. */
  readonly name: string;
  /** Namespace it is created in (the namespace of what it watches). */
  readonly namespace: string;
  /** Extra labels on the object (Prometheus selects rules from every namespace, whatever their labels). */
  readonly labels: Readonly<Record<string, string>>;
  /** The rule groups. */
  readonly groups: readonly RuleGroup[];
  /** Resources to create first, e.g. the namespace when it is passed as a plain string. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A PrometheusRule as a `kubernetes_manifest`. The CRD comes from kube-prometheus-stack in
 * addons-stack, which deploys first, so it exists when the stack using this is planned.
 */
export class PrometheusRuleResource extends Construct {
  readonly manifest: Manifest;
  readonly object: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: PrometheusRuleResourceProps) {
    super(scope, id);
    this.object = prometheusRuleManifest(props.name, props.namespace, props.labels, props.groups);
    this.manifest = new Manifest(this, 'manifest', { manifest: this.object, dependsOn: props.dependsOn });
  }
}
