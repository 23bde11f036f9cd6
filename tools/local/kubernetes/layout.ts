import * as path from 'path';
import { localKubernetes, LocalKubernetesConfig } from '../../../config';
import { CACHE_DIR } from '../../paths';

/**
 * Where the local Kubernetes control plane lives: one folder with its certificates, etcd
 * data, kubeconfigs, and a pid file and log per component; ports from config/environments.ts.
 */

/** The processes of the control plane, in start order. */
export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export interface ComponentLayout {
  readonly name: ComponentName;
  /** The port it serves (health checks and the port-conflict check). */
  readonly port: number;
  /** Setting in config/environments.ts `localKubernetes` that holds the port. */
  readonly portKey: string;
  readonly pidFile: string;
  readonly logFile: string;
}

export interface LocalKubernetesLayout {
  readonly config: LocalKubernetesConfig;
  readonly dir: string;
  readonly pkiDir: string;
  readonly etcdDataDir: string;
  /** Files components run with (kubeconfigs, kwok config), rewritten on every start. */
  readonly configDir: string;
  /** The admin kubeconfig: what the stacks, kubectl and the tests use. */
  readonly kubeconfig: string;
  /** Serving certificates the controller-manager and scheduler generate for themselves. */
  readonly certDir: string;
  readonly components: Readonly<Record<ComponentName, ComponentLayout>>;
}

export function localKubernetesLayout(config: LocalKubernetesConfig = localKubernetes, dir = path.join(CACHE_DIR, 'local-kubernetes')): LocalKubernetesLayout {
  const ports: Record<ComponentName, [number, keyof LocalKubernetesConfig]> = {
    etcd: [config.etcdClientPort, 'etcdClientPort'],
    'kube-apiserver': [config.apiServerPort, 'apiServerPort'],
    'kube-controller-manager': [config.controllerManagerPort, 'controllerManagerPort'],
    'kube-scheduler': [config.schedulerPort, 'schedulerPort'],
    kwok: [config.kwokPort, 'kwokPort'],
  };
  const components = Object.fromEntries(
    COMPONENTS.map((name) => [
      name,
      {
        name,
        port: ports[name][0],
        portKey: `localKubernetes.${ports[name][1]}`,
        pidFile: path.join(dir, 'run', `${name}.pid`),
        logFile: path.join(dir, 'logs', `${name}.log`),
      },
    ]),
  ) as Record<ComponentName, ComponentLayout>;
  return {
    config,
    dir,
    pkiDir: path.join(dir, 'pki'),
    etcdDataDir: path.join(dir, 'etcd'),
    configDir: path.join(dir, 'config'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    certDir: path.join(dir, 'serving-certs'),
    components,
  };
}

/** `https://127.0.0.1:<apiServerPort>` */
export const apiServerUrl = (layout: LocalKubernetesLayout): string => `https://127.0.0.1:${layout.config.apiServerPort}`;
