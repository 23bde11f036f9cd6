import { KubeObject } from './api';
import { COREDNS_IMAGE } from './node-images';

/**
 * What a joined real node needs in the API: the cluster DNS (CoreDNS as a pod on the node,
 * the `kube-dns` Service the kubelet points pods at), the `kubernetes` Service's endpoint (the
 * API server is on 127.0.0.1, so pods reach it through a forward on the bridge's address),
 * and the NetworkPolicy enforcer's read-only access. Rendered here; applied by node-cluster.ts.
 */

/** The cluster DNS Service's address, inside the control plane's Service range. */
export const CLUSTER_DNS_IP = '10.96.0.10';
const DNS_LABELS = { 'k8s-app': 'kube-dns' } as const;
const PART_OF = { 'app.kubernetes.io/part-of': 'kafka-platform-local-node' } as const;

/**
 * CoreDNS answers for cluster.local and reverse lookups only: no `forward` plugin, so no name
 * outside the cluster is ever resolved upstream (the pod network stays on this machine).
 */
export const COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
    reload
}
`;

export function clusterDnsObjects(nodeName: string): KubeObject[] {
  const ns = 'kube-system';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: ns, labels: PART_OF } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'kafka-platform:coredns', labels: PART_OF },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'kafka-platform:coredns', labels: PART_OF },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kafka-platform:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: ns, labels: PART_OF }, data: { Corefile: COREFILE } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: ns, labels: { ...DNS_LABELS, ...PART_OF } },
      spec: {
        replicas: 1,
        selector: { matchLabels: DNS_LABELS },
        template: {
          metadata: { labels: { ...DNS_LABELS, ...PART_OF } },
          spec: {
            serviceAccountName: 'coredns',
            nodeSelector: { 'kubernetes.io/hostname': nodeName },
            dnsPolicy: 'Default',
            priorityClassName: 'system-cluster-critical',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
              // Port 53 without any capability: a safe sysctl, per pod.
              sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '53' }],
            },
            containers: [
              {
                name: 'coredns',
                image: COREDNS_IMAGE,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                ],
                resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10, failureThreshold: 5 },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: ns, labels: { ...DNS_LABELS, ...PART_OF } },
      spec: {
        clusterIP: CLUSTER_DNS_IP,
        selector: DNS_LABELS,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
  ];
}

/** The `kubernetes` Service's endpoint: the API server's forward on the bridge address. */
export function apiServerEndpointSlice(address: string, port: number): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes-local-node',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'kafka-platform-local-node', ...PART_OF },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
}

/** What kube-router's firewall controller reads (its upstream ClusterRole, without writes). */
export function policyEnforcerRbac(user: string): KubeObject[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'kafka-platform:policy-enforcer', labels: PART_OF },
      rules: [
        { apiGroups: [''], resources: ['namespaces', 'pods', 'services', 'nodes', 'endpoints'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'kafka-platform:policy-enforcer', labels: PART_OF },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kafka-platform:policy-enforcer' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
    },
  ];
}
