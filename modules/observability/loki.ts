import { Construct } from 'constructs';
import { ChartPin } from '../../config';
import { HelmChart } from '../helm-chart';

export interface LokiProps {
  /** Namespace of the release (created by the caller). */
  readonly namespace: string;
  /** Pinned chart (versions.charts.loki, grafana-community). */
  readonly chart: ChartPin;
  /** Volume size of the single Loki pod, e.g. `10Gi`. */
  readonly storageSize: string;
  /** Storage class; undefined uses the cluster default. */
  readonly storageClass?: string;
  /** How long logs are kept, e.g. `168h`. */
  readonly retention: string;
}

const RELEASE = 'loki';
const HTTP_PORT = 3100;

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
    this.url = `http://${RELEASE}.${props.namespace}.svc.cluster.local:${HTTP_PORT}`;
    this.pushUrl = `${this.url}/loki/api/v1/push`;
    this.chart = new HelmChart(this, 'chart', {
      releaseName: RELEASE,
      namespace: props.namespace,
      chart: props.chart,
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
