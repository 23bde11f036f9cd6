import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { environments, localKubernetes, localNode } from '../../../config';
import { JMX_EXPORTER_BASE_PORT } from '../../../tools/jmx-exporter';
import { LOCAL_OTLP_PORT, LOCAL_JAEGER_QUERY_PORT } from '../../../tools/local-jaeger';
import { LOCAL_PROMETHEUS_PORT } from '../../../tools/local-prometheus';
import { BENCH_JAEGER } from '../../../bench/tracing';
import { RUN_JAEGER, TRACE_TEST_JAEGER } from '../../support/traces';
import { POSTGRES_PORT } from '../../../tools/local-postgres';
import { PLATFORM_LOCAL_KAFKA, SIDE_CLUSTER_PORT_OFFSETS, shiftedPorts } from '../../../tools/local/kafka';
import { allNodes, LocalKafkaSpec } from '../../../tools/local/kafka/layout';
import { DEFAULT_EPHEMERAL_PORT_RANGE, ensurePortFree, ephemeralPortRange } from '../../../tools/local/process';

// Why: a listener port the kernel also hands to outgoing connections is taken, now and then, by a
// client's socket while the listener is down (a broker a fault test killed), and its restart fails.

function kafkaPorts(name: string, spec: LocalKafkaSpec): Array<[string, number]> {
  return allNodes(spec).flatMap((n) => [
    [`${name} node ${n.id} client`, n.clientPort],
    [`${name} node ${n.id} controller`, n.controllerPort],
    [`${name} node ${n.id} SASL_SSL`, n.saslPort],
    ...(n.externalPort !== undefined ? [[`${name} node ${n.id} EXTERNAL`, n.externalPort] as [string, number]] : []),
    ...(n.podNetworkPort !== undefined ? [[`${name} node ${n.id} PODS`, n.podNetworkPort] as [string, number]] : []),
  ]);
}

function kubernetesPorts(name: string, offset: number): Array<[string, number]> {
  const k = localKubernetes;
  return (['apiServerPort', 'etcdClientPort', 'etcdPeerPort', 'controllerManagerPort', 'schedulerPort', 'kwokPort'] as const).map((key) => [`${name} ${key}`, k[key] + offset]);
}

function realNodePorts(name: string, offset: number): Array<[string, number]> {
  const n = localNode;
  return (['kubeletPort', 'kubeletReadOnlyPort', 'kubeletHealthzPort', 'containerdStreamPort', 'kubeProxyHealthzPort', 'kubeProxyMetricsPort', 'policyEnforcerMetricsPort'] as const).map((key) => [
    `${name} ${key}`,
    n[key] + offset,
  ]);
}

const nodePort = environments.dev.kafka.nodePort!;
const registryPort = Number(environments.local.imageRegistry.split('/')[0].split(':')[1]);

/** Every port the project's local environments and test clusters listen on, with what it is. */
const fixedPorts: Array<[string, number]> = [
  ...kafkaPorts('platform cluster', PLATFORM_LOCAL_KAFKA),
  ...Object.entries(SIDE_CLUSTER_PORT_OFFSETS).flatMap(([name, offset]) => kafkaPorts(`${name} cluster`, { ...PLATFORM_LOCAL_KAFKA, ...shiftedPorts(offset) })),
  ...kubernetesPorts('local Kubernetes', 0),
  ...kubernetesPorts('deploy-test Kubernetes', 100),
  ...kubernetesPorts('storage-class/cluster-test Kubernetes', 200),
  ...kubernetesPorts('joined-node-test Kubernetes', 300),
  ...realNodePorts('real node', 0),
  ...realNodePorts('standalone node test and deploy test', 100),
  ...realNodePorts('joined node test', 300),
  // The simulated operator forwards dev's node ports on 127.0.0.1 (bootstrap and one per broker).
  ...[0, 1, 2, 3, 4, 5].map((i): [string, number] => [`dev node port ${i}`, nodePort.bootstrapNodePort + i]),
  ...[1, 2, 3].map((n): [string, number] => [`JMX exporter of node ${n}`, JMX_EXPORTER_BASE_PORT + n - 1]),
  // Jaeger listens on its OTLP port and on query-1 (gRPC), query (HTTP) and query+1 (health).
  ...([
    ['npm start', { otlpPort: LOCAL_OTLP_PORT, queryPort: LOCAL_JAEGER_QUERY_PORT }],
    ['test run', RUN_JAEGER],
    ['trace test', TRACE_TEST_JAEGER],
    ['bench', BENCH_JAEGER],
  ] as const).flatMap(([name, j]): Array<[string, number]> => [
    [`${name} Jaeger OTLP`, j.otlpPort],
    [`${name} Jaeger query gRPC`, j.queryPort - 1],
    [`${name} Jaeger query`, j.queryPort],
    [`${name} Jaeger health`, j.queryPort + 1],
  ]),
  ['Prometheus', LOCAL_PROMETHEUS_PORT],
  ['PostgreSQL', POSTGRES_PORT],
  ['OCI registry', registryPort],
];

describe('fixed local ports', () => {
  it('has found every environment and test cluster (sanity of the list itself)', () => {
    expect(fixedPorts.length).toBeGreaterThan(60);
    for (const [what, port] of fixedPorts) expect([what, Number.isInteger(port) && port > 1024]).toEqual([what, true]);
  });

  it("lie below Linux's default ephemeral port range (32768-60999), so no outgoing connection can take one", () => {
    const [low, high] = DEFAULT_EPHEMERAL_PORT_RANGE;
    expect(fixedPorts.filter(([, port]) => port >= low && port <= high)).toEqual([]);
  });

  it("lie outside this machine's own ephemeral port range", () => {
    const [low, high] = ephemeralPortRange();
    expect(fixedPorts.filter(([, port]) => port >= low && port <= high)).toEqual([]);
  });

  it('are all distinct: no two clusters that run side by side share a port', () => {
    const seen = new Map<number, string>();
    const clashes: string[] = [];
    for (const [what, port] of fixedPorts) {
      const other = seen.get(port);
      if (other !== undefined) clashes.push(`${port}: ${other} and ${what}`);
      seen.set(port, what);
    }
    expect(clashes).toEqual([]);
  });
});

describe('ephemeralPortRange', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ephemeral-range-'));

  it('reads the two numbers the kernel writes (tab separated)', () => {
    const file = path.join(dir, 'range');
    fs.writeFileSync(file, '20000\t40000\n');
    expect(ephemeralPortRange(file)).toEqual([20000, 40000]);
  });

  it("falls back to Linux's default when the file cannot be read", () => {
    expect(ephemeralPortRange(path.join(dir, 'missing'))).toEqual([32768, 60999]);
  });
});

describe('a port already taken', () => {
  it('is refused with the setting to change, and the ephemeral range named when the port lies in it', async () => {
    const net = await import('net');
    const server = net.createServer();
    // Port 0: the kernel picks one from the ephemeral range, as it would for a client's connection.
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, () => resolve()));
    const port = (server.address() as { port: number }).port;
    const [low, high] = ephemeralPortRange();
    try {
      await expect(ensurePortFree(port, 'a test listener', 'testPort', 'some/file.ts')).rejects.toThrow(
        `port ${port} (a test listener) is already in use by another process: stop it or change testPort in some/file.ts (it lies in this machine's ephemeral port range ${low}-${high}, net.ipv4.ip_local_port_range, where outgoing connections can take it: move it below ${low})`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
