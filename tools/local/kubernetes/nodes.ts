import { LocalKubernetesConfig } from '../../../config';
import { KubeObject } from './api';
import { KWOK_NODE_ANNOTATION } from './components';

/** Capacity of each simulated node: a realistic worker, so requests and limits still mean something. */
export const NODE_CAPACITY = { cpu: '16', memory: '64Gi', pods: '110' } as const;

/** The label cloud providers put the availability zone in; kind and minikube nodes have none. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/**
 * The simulated nodes of a layout, managed by kwok (which reports them Ready and runs their
 * pods' status): one per zone, labelled with it; or, as kind and minikube make a cluster, one
 * node without a zone label.
 */
export function simulatedNodes(config: Pick<LocalKubernetesConfig, 'zones' | 'nodeLayout'>): KubeObject[] {
  const zones: (string | undefined)[] = config.nodeLayout === 'single-node' ? [undefined] : [...config.zones];
  return zones.map((zone, i) => {
    const name = `kwok-node-${i + 1}`;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node-role.kubernetes.io/worker': '',
          ...(zone ? { [ZONE_LABEL]: zone } : {}),
          type: 'kwok',
        },
      },
      spec: {},
      status: { capacity: { ...NODE_CAPACITY }, allocatable: { ...NODE_CAPACITY } },
    };
  });
}

/** How many nodes a layout has. */
export const nodeCount = (config: Pick<LocalKubernetesConfig, 'zones' | 'nodeLayout'>): number => simulatedNodes(config).length;

export function nodeIsReady(node: KubeObject): boolean {
  const conditions = (node.status?.conditions ?? []) as { type: string; status: string }[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}
