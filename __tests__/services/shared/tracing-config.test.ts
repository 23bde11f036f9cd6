import { ConfigError, EnvReader } from '../../../services/shared/config';
import { readTracingConfig } from '../../../services/shared/tracing-config';

const read = (env: Record<string, string>) => {
  const r = new EnvReader(env);
  const cfg = readTracingConfig(r, 'consumer');
  r.done();
  return cfg;
};
const problems = (env: Record<string, string>): readonly string[] => {
  try {
    read(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('readTracingConfig', () => {
  it('is off without an OTLP endpoint, so a service without a collector does no tracing work', () => {
    expect(read({}).enabled).toBe(false);
  });

  it('follows the specification: the base endpoint gets /v1/traces, the signal endpoint is used as it is', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://alloy.monitoring.svc.cluster.local:4318' })).toMatchObject({
      enabled: true,
      tracesUrl: 'http://alloy.monitoring.svc.cluster.local:4318/v1/traces',
      serviceName: 'consumer',
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
    });
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:29318/otlp/' }).tracesUrl).toBe('http://127.0.0.1:29318/otlp/v1/traces');
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:2/custom' }).tracesUrl).toBe('http://b:2/custom');
  });

  it('is turned off by OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none, with an endpoint set', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'true' }).enabled).toBe(false);
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
  });

  it('reads the sampler, its ratio, the service name and percent-encoded resource attributes', () => {
    const cfg = read({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_SERVICE_NAME: 'posts-consumer',
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.namespace.name=workloads, k8s.pod.name=consumer-7d9f,team=a%2Cb',
    });
    expect(cfg).toMatchObject({ sampler: 'parentbased_traceidratio', samplerRatio: 0.25, serviceName: 'posts-consumer' });
    expect(cfg.resourceAttributes).toEqual({ 'k8s.namespace.name': 'workloads', 'k8s.pod.name': 'consumer-7d9f', team: 'a,b' });
  });

  /** [what is wrong, variables, the problem reported] */
  const cases: [string, Record<string, string>, string][] = [
    ['an endpoint without a scheme', { OTEL_EXPORTER_OTLP_ENDPOINT: 'alloy:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT="alloy:4318" is invalid: expected an http:// or https:// URL of an OTLP/HTTP receiver, e.g. "http://alloy.monitoring.svc.cluster.local:4318"'],
    ['a gRPC endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://alloy:4317' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="grpc://alloy:4317" is invalid: expected an http:// or https:// URL of an OTLP/HTTP receiver, e.g. "http://alloy.monitoring.svc.cluster.local:4318"'],
    ['credentials in the endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://user:${'secret'}@alloy:4318` }, 'OTEL_EXPORTER_OTLP_ENDPOINT contains credentials: expected a URL without user or password (the services send OTLP to an in-cluster collector without authentication)'],
    ['the gRPC protocol', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported by the services: expected http/protobuf (the default), which Alloy and the local trace backend receive on port 4318'],
    ['an unknown sampler', { OTEL_TRACES_SAMPLER: 'jaeger_remote' }, 'OTEL_TRACES_SAMPLER="jaeger_remote" is invalid: expected one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'],
    ['an unknown sampler with a ratio (one problem, the sampler)', { OTEL_TRACES_SAMPLER: 'ratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }, 'OTEL_TRACES_SAMPLER="ratio" is invalid: expected one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'],
    ['a ratio above 1', { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '10' }, 'OTEL_TRACES_SAMPLER_ARG="10" is invalid: expected the share of traces to keep, a number from 0 to 1, e.g. 0.1'],
    ['a ratio as a percentage', { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '10%' }, 'OTEL_TRACES_SAMPLER_ARG="10%" is invalid: expected the share of traces to keep, a number from 0 to 1, e.g. 0.1'],
    ['a ratio for a sampler without one', { OTEL_TRACES_SAMPLER_ARG: '0.1' }, 'OTEL_TRACES_SAMPLER_ARG="0.1" is set but OTEL_TRACES_SAMPLER=parentbased_always_on takes no argument: unset it, or use parentbased_traceidratio'],
    ['an exporter the services do not have', { OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER="zipkin" is invalid: expected otlp or none (the services export spans over OTLP only)'],
    ['another propagator', { OTEL_PROPAGATORS: 'b3' }, 'OTEL_PROPAGATORS="b3" is invalid: expected tracecontext (the W3C trace context the services put in every record\'s headers), optionally with baggage'],
    ['a resource attribute without a value', { OTEL_RESOURCE_ATTRIBUTES: 'team' }, 'OTEL_RESOURCE_ATTRIBUTES="team" is invalid at "team": expected comma-separated key=value pairs (keys of A-Z a-z 0-9 . _ - /, values percent-encoded), e.g. "k8s.namespace.name=workloads,k8s.pod.name=consumer-1"'],
    ['a broken percent-encoding', { OTEL_RESOURCE_ATTRIBUTES: 'team=a%2' }, 'OTEL_RESOURCE_ATTRIBUTES="team=a%2" is invalid at "team=a%2": expected comma-separated key=value pairs (keys of A-Z a-z 0-9 . _ - /, values percent-encoded), e.g. "k8s.namespace.name=workloads,k8s.pod.name=consumer-1"'],
    ['a service name with a space', { OTEL_SERVICE_NAME: 'posts consumer' }, 'OTEL_SERVICE_NAME="posts consumer" is invalid: expected 1-255 printable characters without spaces'],
    ['a disable flag that is not a boolean', { OTEL_SDK_DISABLED: 'perhaps' }, 'OTEL_SDK_DISABLED="perhaps" is invalid: expected true or false'],
    ['an export batch larger than the queue', { OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512 is invalid: expected at most OTEL_BSP_MAX_QUEUE_SIZE (100)'],
  ];

  it.each(cases)('refuses %s, naming the variable and the fix', (_what, env, problem) => {
    expect(problems(env)).toEqual([problem]);
  });
});
