import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';
import { Release } from '@cdktf/provider-helm/lib/release';
import { ITerraformDependable } from 'cdktf';
import { ChartPin, ChartSourceConfig } from '../config';

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** The chart archive a directory source holds for `pin`. */
export function chartArchive(pin: ChartPin, directory: string): string {
  return path.resolve(PROJECT_ROOT, directory, `${pin.chart}-${pin.version}.tgz`);
}

/**
 * Where Helm finds `pin`: its repository, or its archive in a directory of charts. A missing
 * archive fails the synth with the file it expected, before anything is planned.
 */
export function chartLocation(pin: ChartPin, source: ChartSourceConfig): { readonly repository?: string; readonly chart: string } {
  if (source.type === 'repository') return { repository: pin.repository, chart: pin.chart };
  const archive = chartArchive(pin, source.directory);
  if (!fs.existsSync(archive)) {
    throw new Error(`chart archive ${archive} is missing: add ${pin.chart} ${pin.version} to ${source.directory}, or use the repository chart source`);
  }
  return { chart: archive };
}

export interface HelmChartProps {
  /** Release name. */
  readonly releaseName: string;
  /** Namespace the release installs into (created by the caller). */
  readonly namespace: string;
  /** Pinned chart from config/versions.ts. */
  readonly chart: ChartPin;
  /** Where the chart comes from; default its repository. */
  readonly source?: ChartSourceConfig;
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
      ...chartLocation(props.chart, props.source ?? { type: 'repository' }),
      version: props.chart.version,
      values: [JSON.stringify(props.values)],
      atomic: true,
      wait: true,
      timeout: props.timeoutSeconds ?? 600,
      dependsOn: props.dependsOn,
    });
  }
}
