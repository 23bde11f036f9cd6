import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { localKubernetes, localNode, LocalNodeConfig } from '../../config';
import { CACHE_DIR, PROJECT_ROOT } from '../../tools/paths';
import { LocalKubernetes, localKubernetesLayout } from '../../tools/local/kubernetes';

/**
 * What the deploy tests share: their own local Kubernetes (beside the one `npm run k8s:up`
 * runs, on other ports, started clean), and runners for the project's commands exactly as
 * a user or a workflow types them.
 */

/** The project's local Kubernetes settings with every port moved by `offset`, for a test's own control plane. */
export function shiftedKubernetesConfig(offset: number): typeof localKubernetes {
  const k = localKubernetes;
  return {
    ...k,
    apiServerPort: k.apiServerPort + offset,
    etcdClientPort: k.etcdClientPort + offset,
    etcdPeerPort: k.etcdPeerPort + offset,
    controllerManagerPort: k.controllerManagerPort + offset,
    schedulerPort: k.schedulerPort + offset,
    kwokPort: k.kwokPort + offset,
    // One real node per machine: kube-proxy and the enforcer own the host's firewall.
    realNode: undefined,
  };
}

/** The project's real node with every port moved by `offset`, for a test's own node. */
export function shiftedNodeConfig(offset: number, own: Pick<LocalNodeConfig, 'name' | 'bridge' | 'podSubnet'>): LocalNodeConfig {
  const n = localNode;
  return {
    ...own,
    kubeletPort: n.kubeletPort + offset,
    kubeletReadOnlyPort: n.kubeletReadOnlyPort + offset,
    kubeletHealthzPort: n.kubeletHealthzPort + offset,
    containerdStreamPort: n.containerdStreamPort + offset,
    kubeProxyHealthzPort: n.kubeProxyHealthzPort + offset,
    kubeProxyMetricsPort: n.kubeProxyMetricsPort + offset,
    policyEnforcerMetricsPort: n.policyEnforcerMetricsPort + offset,
  };
}

/** The deploy test's real node: the services' pods run there (one joined node per machine: suites run one after another). */
export const deployNodeConfig = shiftedNodeConfig(100, { name: 'deploy-node', bridge: 'kp-deploy0', podSubnet: '10.245.4.0/24' });

/**
 * The deploy tests' control plane: ports 100 above the project's, its own folder, one simulated
 * node without a zone label, as kind and minikube make a laptop cluster (dev's target), where
 * the add-ons and the brokers are placed, and a real node for the workloads namespace.
 */
export const deployTestKubernetes = new LocalKubernetes(
  localKubernetesLayout({ ...shiftedKubernetesConfig(100), nodeLayout: 'single-node', realNode: deployNodeConfig }, path.join(CACHE_DIR, 'deploy-test', 'kubernetes')),
);

export interface CommandRun {
  readonly command: string;
  readonly status: number;
  /** stdout and stderr interleaved, colour codes removed. */
  readonly output: string;
  readonly seconds: number;
  /** Where the output is kept for reading after the run. */
  readonly logFile: string;
}

let commandCount = 0;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/**
 * Runs a shell command line in the project root, asynchronously (the test process keeps
 * serving the simulated operator meanwhile), with `env` added to the environment.
 */
export function runCommand(
  command: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 30 * 60_000,
  abortWhen?: () => Promise<string | undefined>,
  cwd: string = PROJECT_ROOT,
): Promise<CommandRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Detached: its own process group, so a stop reaches terraform under cdktf too.
    const child = spawn('bash', ['-c', command], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (d: Buffer) => (output += d.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    let killer: NodeJS.Timeout | undefined;
    // Terraform saves its state on SIGTERM; SIGKILL only if it has not exited two minutes later.
    const stop = () => {
      signal('SIGTERM');
      killer ??= setTimeout(() => signal('SIGKILL'), 120_000);
    };
    const timer = setTimeout(stop, timeoutMs);
    // What a user watching the cluster would see long before a 30-minute wait ends: stop there.
    const watcher = abortWhen
      ? setInterval(() => {
          void abortWhen().then((reason) => {
            if (reason === undefined) return;
            output += `\n[stopped by the test: ${reason}]\n`;
            stop();
          }, () => undefined);
        }, 5000)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      if (watcher) clearInterval(watcher);
      const clean = output.replace(ANSI, '');
      const logFile = path.join(DEPLOY_TEST_DIR, 'logs', `${String(++commandCount).padStart(2, '0')}-${command.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.log`);
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      fs.writeFileSync(logFile, `$ ${command}\n${clean}\n(exit ${code})\n`);
      resolve({ command, status: code ?? -1, output: clean, seconds: (Date.now() - started) / 1000, logFile });
    });
  });
}

/**
 * A fresh checkout of the project in `dir`, as `actions/checkout` gives a runner: the files git
 * tracks or would track (the work tree's own, uncommitted edits included), and nothing it ignores,
 * so no `.cache/`, `state/`, `cdktf.out/` or node_modules of this clone come along.
 */
export function freshCheckout(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: PROJECT_ROOT })
    .toString()
    .split('\0')
    .filter((f) => f && fs.existsSync(path.join(PROJECT_ROOT, f)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(dir, file));
    fs.chmodSync(path.join(dir, file), fs.statSync(path.join(PROJECT_ROOT, file)).mode);
  }
  return dir;
}

/** The file in which tools/bootstrap.sh records the lock file and Node.js that node_modules was installed for. */
const NPM_INSTALL_STAMP = path.join('.cache', 'npm-installed.stamp');

/**
 * What the workflows' toolchain cache (actions/cache) restores into a fresh checkout for the
 * bootstrap: node_modules, as hard links (the cache's tar would write the same files), and the
 * install stamp with its own, older time, as tar keeps it. Everything else of this clone's
 * `.cache` (its Kafka data, state, logs) stays behind.
 */
export function restoreToolchainCache(dir: string): void {
  execFileSync('cp', ['-al', path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules')]);
  fs.mkdirSync(path.join(dir, '.cache'), { recursive: true });
  fs.cpSync(path.join(PROJECT_ROOT, NPM_INSTALL_STAMP), path.join(dir, NPM_INSTALL_STAMP), { preserveTimestamps: true });
}

/** One step of a workflow job: its command line and its `env:` block, as written. */
export interface WorkflowStep {
  readonly run: string;
  readonly env: Readonly<Record<string, string>>;
}

/** A named step of a workflow job, so a test runs exactly what the workflow runs. */
export function workflowStep(workflow: string, job: string, stepName: string): WorkflowStep {
  const file = path.join(PROJECT_ROOT, '.github', 'workflows', workflow);
  const doc = parse(fs.readFileSync(file, 'utf8')) as { jobs: Record<string, { steps: { name?: string; run?: string; env?: Record<string, string> }[] }> };
  const step = (doc.jobs[job]?.steps ?? []).find((s) => s.name === stepName);
  if (!step?.run) throw new Error(`${file}: job ${job} has no step "${stepName}" with a run command`);
  return { run: step.run.trim(), env: step.env ?? {} };
}

/**
 * The environment a workflow step gets: each `${{ secrets.X }}` / `${{ matrix.x }}` value of
 * its `env:` block looked up in `values` by variable name. A variable the step does not pass
 * is not passed here either, so a secret missing from the workflow fails the test as it
 * would fail the job.
 */
export function stepEnvironment(step: WorkflowStep, values: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, expression] of Object.entries(step.env)) {
    if (!/^\$\{\{.*\}\}$/.test(expression.trim())) {
      env[name] = expression;
    } else if (name in values) {
      env[name] = values[name];
    }
  }
  return env;
}

/** Where the deploy tests keep their files (charts copy, timings). */
export const DEPLOY_TEST_DIR = path.join(CACHE_DIR, 'deploy-test');

/** The pinned charts as archives (`<chart>-<version>.tgz`), as beside the project in shared/. */
export function chartBundleDir(): string {
  const dir = process.env.KAFKA_PLATFORM_CHART_BUNDLE ?? path.resolve(PROJECT_ROOT, '..', 'shared', 'charts');
  if (!fs.existsSync(dir)) throw new Error(`chart archives not found at ${dir}: check out shared/ beside the project or set KAFKA_PLATFORM_CHART_BUNDLE`);
  return dir;
}

type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
export type MutableVersions = Mutable<import('../../config/versions').Versions>;
export type MutableEnvironments = Mutable<typeof import('../../config/environments').environments>;

/** Edits of the config a variant is synthesized with: versions first, as environments read them. */
export interface ConfigChange {
  readonly versions?: (versions: MutableVersions) => void;
  readonly environments?: (environments: MutableEnvironments) => void;
}

/**
 * Synthesizes `environment` into a fresh directory with the config changed by `change`, in a
 * fresh module registry, exactly as if config/versions.ts or config/environments.ts had been
 * edited; `env` is in process.env meanwhile (the override variables the deploy runs with).
 */
export function synthVariant(environment: string, env: NodeJS.ProcessEnv, change: ConfigChange): string {
  fs.mkdirSync(DEPLOY_TEST_DIR, { recursive: true });
  const outdir = fs.mkdtempSync(path.join(DEPLOY_TEST_DIR, `synth-${environment}-`));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    jest.isolateModules(() => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { versions } = require('../../config/versions') as typeof import('../../config/versions');
      change.versions?.(versions as unknown as MutableVersions);
      const { environments } = require('../../config/environments') as typeof import('../../config/environments');
      change.environments?.(environments as unknown as MutableEnvironments);
      const { buildApp } = require('../../main') as typeof import('../../main');
      const { App } = require('cdktf') as typeof import('cdktf');
      /* eslint-enable @typescript-eslint/no-require-imports */
      buildApp(new App({ outdir, context: { environment } })).synth();
    });
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  return outdir;
}
