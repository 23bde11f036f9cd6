import { KubeObject } from './api';
import { KWOK_NODE_ANNOTATION } from './components';

/** Capacity of each simulated node: a realistic worker, so requests and limits still mean something. */
export const NODE_CAPACITY = { cpu: '16', memory: '64Gi', pods: '110' } as const;

/** One Node per zone, managed by kwok (which reports it Ready and runs its pods' status). */
export function simulatedNodes(zones: readonly string[]): KubeObject[] {
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
          'topology.kubernetes.io/zone': zone,
          type: 'kwok',
        },
      },
      spec: {},
      status: { capacity: { ...NODE_CAPACITY }, allocatable: { ...NODE_CAPACITY } },
    };
  });
}

export function nodeIsReady(node: KubeObject): boolean {
  const conditions = (node.status?.conditions ?? []) as { type: string; status: string }[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}
