import { spawnSync } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { COMPONENTS, KubeApi, KubeObject, LocalKubernetes, localKubernetesLayout, resourcePath } from '../../../../tools/local/kubernetes';
import { CACHE_DIR, PROJECT_ROOT } from '../../../../tools/paths';
import { kubernetesBinariesReady } from '../../../support/kubernetes-build';
import { shiftedKubernetesConfig } from '../../../support/deploy';

/** Its own control plane (ports 200 above the project's), so `npm run k8s:up`'s stays untouched. */
const config = shiftedKubernetesConfig(200);
const cluster = new LocalKubernetes(localKubernetesLayout(config, path.join(CACHE_DIR, 'test-kubernetes')));
const quiet = () => undefined;
let api: KubeApi;

function occupy(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

/** Long enough for a first build of the local Kubernetes binaries to finish (kubernetes-build.ts). */
const BUILD_WAIT_MS = 45 * 60_000;

beforeAll(async () => {
  await kubernetesBinariesReady((line) => console.log(`[local-kubernetes] ${line}`), BUILD_WAIT_MS);
  await cluster.down({ purge: true, log: quiet });
}, BUILD_WAIT_MS + 120_000);

afterAll(async () => {
  api?.close();
  await cluster.down({ log: quiet });
}, 120_000);

describe('local Kubernetes', () => {
  it('refuses to start when a port is taken, naming it and its setting, and starts nothing', async () => {
    const blocker = await occupy(config.schedulerPort);
    try {
      await expect(cluster.up({ log: quiet })).rejects.toThrow(
        `port ${config.schedulerPort} (local Kubernetes kube-scheduler) is already in use by another process: stop it or change localKubernetes.schedulerPort in config/environments.ts`,
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    for (const name of COMPONENTS) expect(cluster.runningPid(name)).toBeUndefined();
  });

  it('starts etcd, the API server, controller-manager, scheduler and kwok, with three Ready nodes in three zones', async () => {
    const up = await cluster.up({ log: quiet });
    expect(up.started).toEqual([...COMPONENTS]);
    console.log(`local Kubernetes cold start: ready in ${(up.readyInMs / 1000).toFixed(1)}s`);
    api = cluster.api();
    const version = await api.get<{ gitVersion: string }>('/version');
    expect(version.gitVersion).toBe('v1.37.2');
    const status = await cluster.status();
    expect(status.ready).toBe(true);
    expect(status.nodes?.map((n) => [n.zone, n.ready])).toEqual([
      ['zone-a', true],
      ['zone-b', true],
      ['zone-c', true],
    ]);
  }, 180_000);

  it('schedules a Deployment over the zones and reports its pods Running and Ready', async () => {
    const ns = `spread-${Date.now().toString(36)}`;
    await api.apply(resourcePath('', 'v1', 'namespaces', ns), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const labels = { app: 'spread' };
    await api.apply(resourcePath('apps', 'v1', 'deployments', 'spread', ns), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'spread', namespace: ns },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: 'app', image: 'example.invalid/app:1' }],
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }],
          },
        },
      },
    });
    await api.waitFor('3 available replicas', async () => ((await api.get(resourcePath('apps', 'v1', 'deployments', 'spread', ns))).status?.availableReplicas === 3 ? true : undefined), 60_000);
    const pods = await api.get<{ items: KubeObject[] }>(resourcePath('', 'v1', 'pods', undefined, ns));
    expect(pods.items.map((p) => p.status.phase)).toEqual(['Running', 'Running', 'Running']);
    expect(new Set(pods.items.map((p) => p.spec.nodeName)).size).toBe(3);
  }, 120_000);

  it('keeps its objects across down and up', async () => {
    await api.apply(resourcePath('', 'v1', 'configmaps', 'kept', 'default'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'default' }, data: { a: '1' } });
    api.close();
    expect(await cluster.down({ log: quiet })).toEqual([...COMPONENTS].reverse());
    expect((await cluster.status()).ready).toBe(false);
    await cluster.up({ log: quiet });
    api = cluster.api();
    expect((await api.get(resourcePath('', 'v1', 'configmaps', 'kept', 'default'))).data).toEqual({ a: '1' });
  }, 180_000);

  it('k8s:status prints every component and exits non-zero unless the project cluster is ready', () => {
    const r = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['tools/local-kubernetes.ts', 'status'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    for (const name of COMPONENTS) expect(r.stdout).toMatch(new RegExp(`^${name}: `, 'm'));
    expect(r.status).toBe(/^ready: /m.test(r.stdout) ? 0 : 1);
  });
});
