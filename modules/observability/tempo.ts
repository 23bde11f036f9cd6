import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { ChartPin, ChartSourceConfig } from '../../config';
import { HelmChart } from '../helm-chart';

export interface TempoProps {
  /** Namespace of the release (created by the caller). */
  readonly namespace: string;
  /** Pinned chart (versions.charts.tempo). */
  readonly chart: ChartPin;
  /** Where the chart comes from; default its repository. */
  readonly chartSource?: ChartSourceConfig;
  /** Volume of the single Tempo pod (blocks and write-ahead log), e.g. `10Gi`. */
  readonly storageSize: string;
  /** Storage class; undefined uses the cluster default. */
  readonly storageClass?: string;
  /** How long traces are kept, e.g. `72h`. */
  readonly retention: string;
  /** Resources that must exist first (the monitoring CRDs its ServiceMonitor needs). */
  readonly dependsOn?: ITerraformDependable[];
}

const RELEASE = 'tempo';
/** Tempo's HTTP API (queries, Grafana's data source). */
export const TEMPO_HTTP_PORT = 3200;
/** OTLP over gRPC, the one receiver Tempo opens: only Alloy sends to it. */
export const TEMPO_OTLP_GRPC_PORT = 4317;

/** In-cluster HTTP base URL of the Tempo release in `namespace` (Grafana's data source). */
export const tempoUrl = (namespace: string): string => `http://${RELEASE}.${namespace}.svc.cluster.local:${TEMPO_HTTP_PORT}`;
/** Where Alloy forwards spans: Tempo's OTLP gRPC receiver, `host:port`. */
export const tempoOtlpEndpoint = (namespace: string): string => `${RELEASE}.${namespace}.svc.cluster.local:${TEMPO_OTLP_GRPC_PORT}`;

/**
 * Grafana Tempo in single-binary mode on its own volume (local block storage, no object store):
 * enough for the platform's own traces. It receives OTLP from Alloy only; the chart's default
 * receivers (Jaeger thrift and gRPC, OTLP HTTP) are not opened.
 */
export class Tempo extends Construct {
  readonly chart: HelmChart;
  /** In-cluster HTTP base URL (Grafana data source). */
  readonly url: string;
  /** OTLP gRPC `host:port` for Alloy. */
  readonly otlpEndpoint: string;

  constructor(scope: Construct, id: string, props: TempoProps) {
    super(scope, id);
    this.url = tempoUrl(props.namespace);
    this.otlpEndpoint = tempoOtlpEndpoint(props.namespace);
    this.chart = new HelmChart(this, 'chart', {
      releaseName: RELEASE,
      namespace: props.namespace,
      chart: props.chart,
      source: props.chartSource,
      dependsOn: props.dependsOn,
      values: {
        tempo: {
          // The chart's default phones home to Grafana Labs.
          reportingEnabled: false,
          retention: props.retention,
          receivers: { otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${TEMPO_OTLP_GRPC_PORT}` } } } },
          // Blocks and WAL on the volume below, so a restart keeps the traces.
          storage: { trace: { backend: 'local', local: { path: '/var/tempo/traces' }, wal: { path: '/var/tempo/wal' } } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
        },
        persistence: {
          enabled: true,
          size: props.storageSize,
          ...(props.storageClass ? { storageClassName: props.storageClass } : {}),
        },
        serviceMonitor: { enabled: true },
      },
    });
  }
}
