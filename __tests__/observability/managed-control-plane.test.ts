import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { parse } from 'yaml';
import { environments, loadConfig, versions } from '../../config';
import { AddonsStack } from '../../stacks/addons-stack';
import { CONTROL_PLANE_COMPONENTS } from '../../modules/observability/kube-prometheus-stack';
import { chartBundleDir } from '../support/deploy';
import { chartDefaults, unknownValuesKeys } from '../support/schemas';
import { renderChart } from '../support/helm-template';
type TerraformJson = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const resourcesOf = (stack: TerraformJson, type: string): Record<string, TerraformJson> => stack.resource?.[type] ?? {};

/**
 * EKS and GKE run the scheduler, controller manager and etcd out of the cluster's reach, and
 * kube-proxy's metrics listen on the node's loopback: scraped anyway, `KubeSchedulerDown`,
 * `KubeControllerManagerDown` and `KubeProxyDown` fire forever. The environment's
 * `kubernetes.managedControlPlane` switch turns them off in kube-prometheus-stack; the chart's
 * own templates (read from the pinned archive) show which value gates each object.
 */

type Values = Record<string, { enabled?: boolean }>;

function kubePrometheusRelease(environment: 'dev' | 'prod'): TerraformJson {
  const app = Testing.app();
  const stack = new AddonsStack(app as App, 'addons-stack', { env: { ...loadConfig(environment), charts: { type: 'repository' } } });
  const tf = JSON.parse(Testing.synth(stack)) as TerraformJson;
  return Object.values(resourcesOf(tf, 'helm_release')).find((r) => r.chart === 'kube-prometheus-stack')!;
}

function kubePrometheusValues(environment: 'dev' | 'prod'): Values {
  return Object.assign({}, ...(kubePrometheusRelease(environment).values as string[]).map((d) => parse(d))) as Values;
}

/** What the pinned chart renders with an environment's values. */
const renderedManifests = (environment: 'dev' | 'prod') =>
  renderChart(versions.charts.kubePrometheusStack, kubePrometheusRelease(environment).values as string[], 'monitoring');

/** The chart's templates, unpacked from the pinned archive. */
function chartTemplates(): Map<string, string> {
  const pin = versions.charts.kubePrometheusStack;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kps-chart-'));
  execFileSync('tar', ['-xzf', path.join(chartBundleDir(), `${pin.chart}-${pin.version}.tgz`), '-C', dir, `${pin.chart}/templates`]);
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(path.relative(dir, p), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return files;
}

describe('a managed control plane', () => {
  test('is the setting of prod, not of dev', () => {
    expect(environments.prod.kubernetes!.managedControlPlane).toBe(true);
    expect(environments.dev.kubernetes!.managedControlPlane).toBe(false);
  });

  test('prod turns off the scheduler, controller manager, etcd and kube-proxy in kube-prometheus-stack', () => {
    const values = kubePrometheusValues('prod');
    for (const component of CONTROL_PLANE_COMPONENTS) expect({ [component]: values[component] }).toEqual({ [component]: { enabled: false } });
    expect(unknownValuesKeys(values, chartDefaults('kube-prometheus-stack'))).toEqual([]);
  });

  test('dev keeps the chart defaults: a self-run control plane can be scraped', () => {
    const values = kubePrometheusValues('dev');
    for (const component of CONTROL_PLANE_COMPONENTS) expect(values[component]).toBeUndefined();
    const defaults = chartDefaults('kube-prometheus-stack') as Values;
    for (const component of CONTROL_PLANE_COMPONENTS) expect(defaults[component].enabled).toBe(true);
  });

  test('rendered with prod’s values, the chart has none of those objects; with dev’s it has them all', () => {
    const objects = (environment: 'dev' | 'prod') => {
      const all = Object.entries(renderedManifests(environment));
      return {
        alerts: ['KubeSchedulerDown', 'KubeControllerManagerDown', 'KubeProxyDown', 'etcdMembersDown'].filter((alert) => all.some(([, text]) => text.includes(`alert: ${alert}`))),
        monitors: all.map(([name]) => name).filter((name) => /exporters\/(kube-scheduler|kube-controller-manager|kube-etcd|kube-proxy)\/servicemonitor\.yaml$/.test(name)).length,
        // The API server stays watched: a managed control plane still serves its metrics.
        apiServer: all.some(([name]) => name.endsWith('exporters/kube-api-server/servicemonitor.yaml')),
      };
    };
    expect(objects('prod')).toEqual({ alerts: [], monitors: 0, apiServer: true });
    expect(objects('dev')).toEqual({ alerts: ['KubeSchedulerDown', 'KubeControllerManagerDown', 'KubeProxyDown', 'etcdMembersDown'], monitors: 4, apiServer: true });
  }, 120_000);

  test('each value gates, in the pinned chart, the component’s Service, ServiceMonitor and “Down” alert', () => {
    const templates = chartTemplates();
    const gated = (file: string, component: string) => {
      const text = templates.get(`kube-prometheus-stack/templates/${file}`);
      if (!text) throw new Error(`the chart has no template ${file}`);
      // The first `if` of the template wraps the whole object.
      const guard = /\{\{-? if (.*?) -?\}\}/.exec(text)?.[1] ?? '';
      return guard.includes(`.Values.${component}.enabled`);
    };
    const objects: [string, string][] = [
      ['kubeScheduler', 'exporters/kube-scheduler/servicemonitor.yaml'],
      ['kubeScheduler', 'exporters/kube-scheduler/service.yaml'],
      ['kubeScheduler', 'prometheus/rules-1.14/kubernetes-system-scheduler.yaml'],
      ['kubeControllerManager', 'exporters/kube-controller-manager/servicemonitor.yaml'],
      ['kubeControllerManager', 'exporters/kube-controller-manager/service.yaml'],
      ['kubeControllerManager', 'prometheus/rules-1.14/kubernetes-system-controller-manager.yaml'],
      ['kubeEtcd', 'exporters/kube-etcd/servicemonitor.yaml'],
      ['kubeEtcd', 'prometheus/rules-1.14/etcd.yaml'],
      ['kubeProxy', 'exporters/kube-proxy/servicemonitor.yaml'],
      ['kubeProxy', 'prometheus/rules-1.14/kubernetes-system-kube-proxy.yaml'],
    ];
    for (const [component, file] of objects) expect(`${file}: ${gated(file, component)}`).toBe(`${file}: true`);
    // The alerts that fired forever live in those gated files and nowhere else.
    for (const [alert, file] of [
      ['KubeSchedulerDown', 'prometheus/rules-1.14/kubernetes-system-scheduler.yaml'],
      ['KubeControllerManagerDown', 'prometheus/rules-1.14/kubernetes-system-controller-manager.yaml'],
      ['KubeProxyDown', 'prometheus/rules-1.14/kubernetes-system-kube-proxy.yaml'],
    ]) {
      const holders = [...templates].filter(([, text]) => text.includes(`alert: ${alert}`)).map(([f]) => f);
      expect(holders).toEqual([`kube-prometheus-stack/templates/${file}`]);
    }
  });
});
