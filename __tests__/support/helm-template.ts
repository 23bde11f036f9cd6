import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChartPin, versions } from '../../config';
import { chartBundleDir } from './deploy';
import { terraformOk } from './toolchain';

/**
 * The objects a pinned chart renders with `values`, by the helm provider's own `helm_template`
 * (client side, no cluster), as `template path -> manifest`. `${...}` references the stacks put
 * into values (a namespace) become `monitoring`: they change names, not which objects render.
 */
export function renderChart(pin: ChartPin, values: readonly string[], namespace: string): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `render-${pin.chart}-`));
  const helm = versions.providers.helm;
  fs.writeFileSync(
    path.join(dir, 'main.tf.json'),
    JSON.stringify({
      terraform: { required_providers: { helm: { source: `${helm.namespace}/${helm.type}`, version: helm.version } } },
      provider: { helm: [{}] },
      data: {
        helm_template: {
          chart: {
            name: pin.chart,
            namespace,
            chart: path.join(chartBundleDir(), `${pin.chart}-${pin.version}.tgz`),
            kube_version: versions.localKubernetes.kubernetes.version,
            values: values.map((v) => v.replace(/\$\{[^}]*\}/g, 'monitoring')),
          },
        },
      },
      output: { manifests: { value: '${data.helm_template.chart.manifests}' } },
    }),
  );
  try {
    terraformOk(['init', '-input=false', '-no-color'], dir);
    terraformOk(['apply', '-auto-approve', '-input=false', '-no-color'], dir);
    return JSON.parse(terraformOk(['output', '-json', 'manifests'], dir)) as Record<string, string>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
