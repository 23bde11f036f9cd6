import { LocalKubernetes } from './cluster';
import { localKubernetesLayout } from './layout';

export * from './api';
export * from './cluster';
export { ensureKubernetesBinaries, kubernetesBinaryPaths } from './build';
export type { KubernetesBinaries } from './build';
export { apiServerUrl, COMPONENTS, localKubernetesLayout } from './layout';
export type { LocalKubernetesLayout, ComponentName } from './layout';

/** The project's local Kubernetes (`npm run k8s:up`), from config/environments.ts `localKubernetes`. */
export const localKubernetes = new LocalKubernetes(localKubernetesLayout());
