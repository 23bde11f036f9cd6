import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { ChartPin, ChartSourceConfig } from '../../config';
import { HelmChart } from '../helm-chart';

export interface LokiProps {
  /** Namespace of the release (created by the caller). */
  readonly namespace: string;
  /** Pinned chart (versions.charts.loki, grafana-community). */
  readonly chart: ChartPin;
  /** Where the chart comes from; default its repository. */
  readonly chartSource?: ChartSourceConfig;
  /** Volume size of the single Loki pod, e.g. `10Gi`. */
  readonly storageSize: string;
  /** Storage class; undefined uses the cluster default. */
  readonly storageClass?: string;
  /** How long logs are kept, e.g. `168h`. */
  readonly retention: string;
  /** Resources that must exist first (the monitoring CRDs its ServiceMonitor needs). */
  readonly dependsOn?: ITerraformDependable[];
}

const RELEASE = 'loki';
const HTTP_PORT = 3100;

/** In-cluster HTTP base URL of the Loki release in `namespace`. */
export const lokiUrl = (namespace: string): string => `http://${RELEASE}.${namespace}.svc.cluster.local:${HTTP_PORT}`;

/**
 * Loki in monolithic mode (one StatefulSet pod running every component) on its own volume:
 * no object store, no memcached, no gateway. Enough for the platform's own logs; a larger
 * installation moves to object storage and the distributed mode.
 */
export class Loki extends Construct {
  readonly chart: HelmChart;
  /** In-cluster HTTP base URL (Grafana data source). */
  readonly url: string;
  /** Push endpoint for log shippers. */
  readonly pushUrl: string;

  constructor(scope: Construct, id: string, props: LokiProps) {
    super(scope, id);
    this.url = lokiUrl(props.namespace);
    this.pushUrl = `${this.url}/loki/api/v1/push`;
    this.chart = new HelmChart(this, 'chart', {
      releaseName: RELEASE,
      namespace: props.namespace,
      chart: props.chart,
      source: props.chartSource,
      dependsOn: props.dependsOn,
      values: {
        deploymentMode: 'Monolithic',
        loki: {
          // One tenant: Grafana and Alloy need no X-Scope-OrgID header.
          auth_enabled: false,
          commonConfig: { replication_factor: 1 },
          storage: { type: 'filesystem' },
          schemaConfig: {
            configs: [{ from: '2024-04-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }],
          },
          // Retention is enforced by the compactor; structuredConfig is merged over the generated config.
          structuredConfig: {
            limits_config: { retention_period: props.retention },
            compactor: { retention_enabled: true, delete_request_store: 'filesystem', working_directory: '/var/loki/compactor' },
          },
        },
        // The chart's simple-scalable targets default to 3 replicas each; beside a single binary
        // it refuses to render ("more than zero replicas ... for both the monolithic and simple
        // scalable targets"), found by the first real install.
        read: { replicas: 0 },
        write: { replicas: 0 },
        backend: { replicas: 0 },
        singleBinary: {
          replicas: 1,
          persistence: { enabled: true, size: props.storageSize, ...(props.storageClass ? { storageClass: props.storageClass } : {}) },
        },
        gateway: { enabled: false },
        // Memcached caches (gigabytes of RAM by default) pay off only at scale.
        chunksCache: { enabled: false },
        resultsCache: { enabled: false },
        lokiCanary: { enabled: false },
        test: { enabled: false },
        monitoring: { serviceMonitor: { enabled: true } },
      },
    });
  }
}
