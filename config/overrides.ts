import * as fs from 'fs';
import * as path from 'path';
import { nodeSelectorProblem } from './environment-checks';
import { EnvironmentConfig } from './environments';

/**
 * Variables that point one run of an environment at another cluster, chart source or state
 * store without editing its config: the deploy tests run `dev` this way against the local
 * Kubernetes (`npm run k8s:up`), and an air-gapped operator points the charts at a directory.
 */
export const OVERRIDE_VARIABLES = {
  /** kubeconfig file replacing `kubernetes.configPath` (its current context is used). */
  kubeconfig: 'KAFKA_PLATFORM_KUBECONFIG',
  /** Directory of `<chart>-<version>.tgz` archives replacing `charts`. */
  chartsDirectory: 'KAFKA_PLATFORM_CHARTS_DIR',
  /** PostgreSQL schema prefix replacing `backend` with the `pg` backend (connection from PG_CONN_STR). */
  pgSchemaPrefix: 'KAFKA_PLATFORM_PG_SCHEMA_PREFIX',
  /**
   * Registry replacing `imageRegistry`: where a workflow pushes the images and the cluster pulls
   * them from (dev's `localhost:5001` is a laptop's, unreachable from a runner's cluster).
   */
  imageRegistry: 'KAFKA_PLATFORM_IMAGE_REGISTRY',
  /** `services.namespaceNodeSelector`: the nodes of a cluster the workloads namespace's pods go to. */
  workloadsNodeSelector: 'KAFKA_PLATFORM_WORKLOADS_NODE_SELECTOR',
} as const;

const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * `env` with the overrides set in `vars` applied, and the problems with them (a file that is
 * not there, a variable that makes no sense for the environment). Nothing set: `env` as is.
 */
export function applyOverrides(env: EnvironmentConfig, vars: NodeJS.ProcessEnv): { env: EnvironmentConfig; problems: string[] } {
  const problems: string[] = [];
  let result = env;
  const set = (name: string) => (vars[name] && vars[name]!.length > 0 ? vars[name] : undefined);

  const kubeconfig = set(OVERRIDE_VARIABLES.kubeconfig);
  if (kubeconfig) {
    const file = path.resolve(PROJECT_ROOT, kubeconfig);
    if (!env.kubernetes) problems.push(`${OVERRIDE_VARIABLES.kubeconfig} is set, but environment "${env.name}" has no Kubernetes cluster: unset it`);
    else if (!fs.existsSync(file)) problems.push(`${OVERRIDE_VARIABLES.kubeconfig}=${kubeconfig}: no such file (for the local Kubernetes run \`npm run k8s:up\` first)`);
    else result = { ...result, kubernetes: { ...env.kubernetes, configPath: file, context: undefined } };
  }

  const charts = set(OVERRIDE_VARIABLES.chartsDirectory);
  if (charts) {
    const dir = path.resolve(PROJECT_ROOT, charts);
    if (!env.kubernetes) problems.push(`${OVERRIDE_VARIABLES.chartsDirectory} is set, but environment "${env.name}" installs no charts: unset it`);
    else if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) problems.push(`${OVERRIDE_VARIABLES.chartsDirectory}=${charts}: no such directory of chart archives`);
    else result = { ...result, charts: { type: 'directory', directory: dir } };
  }

  const prefix = set(OVERRIDE_VARIABLES.pgSchemaPrefix);
  if (prefix) {
    if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) problems.push(`${OVERRIDE_VARIABLES.pgSchemaPrefix}="${prefix}": use lower-case letters, digits and '_' (a PostgreSQL schema name)`);
    else result = { ...result, backend: { type: 'pg', schemaPrefix: prefix } };
  }
  const registry = set(OVERRIDE_VARIABLES.imageRegistry);
  if (registry) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(registry)) {
      problems.push(`${OVERRIDE_VARIABLES.imageRegistry}="${registry}": expected host[:port][/path] in lower case, without a scheme or a trailing '/', e.g. "registry.example.com/kafka-platform"`);
    } else result = { ...result, imageRegistry: registry };
  }
  const selector = set(OVERRIDE_VARIABLES.workloadsNodeSelector);
  if (selector) {
    const problem = nodeSelectorProblem(OVERRIDE_VARIABLES.workloadsNodeSelector, selector);
    if (!env.kubernetes) problems.push(`${OVERRIDE_VARIABLES.workloadsNodeSelector} is set, but environment "${env.name}" has no Kubernetes cluster: unset it`);
    else if (problem) problems.push(problem);
    else result = { ...result, services: { ...result.services, namespaceNodeSelector: selector } };
  }
  return { env: result, problems };
}
