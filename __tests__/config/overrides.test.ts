import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { environments, OVERRIDE_VARIABLES } from '../../config';
import { applyOverrides } from '../../config/overrides';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'overrides-'));
const kubeconfig = path.join(scratch, 'kubeconfig');
fs.writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');

describe('applyOverrides', () => {
  it('leaves an environment as it is when no variable is set', () => {
    expect(applyOverrides(environments.dev, {})).toEqual({ env: environments.dev, problems: [] });
  });

  it('points dev at another kubeconfig, a directory of charts and PostgreSQL state', () => {
    const { env, problems } = applyOverrides(environments.dev, {
      [OVERRIDE_VARIABLES.kubeconfig]: kubeconfig,
      [OVERRIDE_VARIABLES.chartsDirectory]: scratch,
      [OVERRIDE_VARIABLES.pgSchemaPrefix]: 'deploy_x1',
    });
    expect(problems).toEqual([]);
    // Only the kubeconfig changes: the cluster's platform, DNS and storage settings stay.
    expect(env.kubernetes).toEqual({ ...environments.dev.kubernetes, configPath: kubeconfig, context: undefined });
    expect(env.charts).toEqual({ type: 'directory', directory: scratch });
    expect(env.backend).toEqual({ type: 'pg', schemaPrefix: 'deploy_x1' });
    expect(env.kafka).toBe(environments.dev.kafka);
  });

  it('points the images at the registry a workflow pushes to and the cluster pulls from', () => {
    const { env, problems } = applyOverrides(environments.dev, { [OVERRIDE_VARIABLES.imageRegistry]: 'registry.example.com/kafka-platform-dev' });
    expect(problems).toEqual([]);
    expect(env.imageRegistry).toBe('registry.example.com/kafka-platform-dev');
  });

  it('places the workloads namespace on the nodes a selector names (the namespace annotation PodNodeSelector reads)', () => {
    const { env, problems } = applyOverrides(environments.dev, { [OVERRIDE_VARIABLES.workloadsNodeSelector]: 'kubernetes.io/hostname=deploy-node' });
    expect(problems).toEqual([]);
    expect(env.services.namespaceNodeSelector).toBe('kubernetes.io/hostname=deploy-node');
    expect(environments.dev.services.namespaceNodeSelector).toBeUndefined();
  });

  it('names the variable and the fix for each bad value, changing nothing', () => {
    const { env, problems } = applyOverrides(environments.dev, {
      [OVERRIDE_VARIABLES.kubeconfig]: path.join(scratch, 'missing'),
      [OVERRIDE_VARIABLES.chartsDirectory]: kubeconfig,
      [OVERRIDE_VARIABLES.pgSchemaPrefix]: 'Deploy-1',
      [OVERRIDE_VARIABLES.imageRegistry]: 'https://registry.example.com/',
      [OVERRIDE_VARIABLES.workloadsNodeSelector]: 'kubernetes.io/hostname: deploy-node',
    });
    expect(env).toBe(environments.dev);
    expect(problems).toEqual([
      expect.stringMatching(/^KAFKA_PLATFORM_KUBECONFIG=.*missing: no such file \(for the local Kubernetes run `npm run k8s:up` first\)$/),
      expect.stringMatching(/^KAFKA_PLATFORM_CHARTS_DIR=.*: no such directory of chart archives$/),
      expect.stringMatching(/^KAFKA_PLATFORM_PG_SCHEMA_PREFIX="Deploy-1": use lower-case letters/),
      'KAFKA_PLATFORM_IMAGE_REGISTRY="https://registry.example.com/": expected host[:port][/path] in lower case, without a scheme or a trailing \'/\', e.g. "registry.example.com/kafka-platform"',
      'KAFKA_PLATFORM_WORKLOADS_NODE_SELECTOR="kubernetes.io/hostname: deploy-node": expected key=value[,key=value] with Kubernetes label keys and values, e.g. "kubernetes.io/hostname=node-1"',
    ]);
  });

  it('refuses Kubernetes settings for the local environment, which has no cluster', () => {
    const { problems } = applyOverrides(environments.local, { [OVERRIDE_VARIABLES.kubeconfig]: kubeconfig, [OVERRIDE_VARIABLES.chartsDirectory]: scratch });
    expect(problems).toEqual([
      'KAFKA_PLATFORM_KUBECONFIG is set, but environment "local" has no Kubernetes cluster: unset it',
      'KAFKA_PLATFORM_CHARTS_DIR is set, but environment "local" installs no charts: unset it',
    ]);
  });
});
