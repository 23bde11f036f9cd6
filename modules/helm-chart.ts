import { Construct } from 'constructs';
import { Release } from '@cdktf/provider-helm/lib/release';
import { ITerraformDependable } from 'cdktf';
import { ChartPin } from '../config';

export interface HelmChartProps {
  /** Release name. */
  readonly releaseName: string;
  /** Namespace the release installs into (created by the caller). */
  readonly namespace: string;
  /** Pinned chart from config/versions.ts. */
  readonly chart: ChartPin;
  /** Chart values; every key must exist in the chart's default values (tested offline). */
  readonly values: Record<string, unknown>;
  /** Seconds to wait for the release to become ready. */
  readonly timeoutSeconds?: number;
  /** Resources that must exist first. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A pinned Helm release whose values are a typed object, kept on the construct so
 * tests can check every key against the chart's own values.yaml.
 */
export class HelmChart extends Construct {
  readonly release: Release;
  readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: HelmChartProps) {
    super(scope, id);
    this.values = props.values;
    this.release = new Release(this, 'release', {
      name: props.releaseName,
      namespace: props.namespace,
      repository: props.chart.repository,
      chart: props.chart.chart,
      version: props.chart.version,
      values: [JSON.stringify(props.values)],
      atomic: true,
      wait: true,
      timeout: props.timeoutSeconds ?? 600,
      dependsOn: props.dependsOn,
    });
  }
}
