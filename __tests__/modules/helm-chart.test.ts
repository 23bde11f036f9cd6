import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { versions } from '../../config';
import { chartArchive, chartLocation } from '../../modules/helm-chart';
import { StrimziOperator } from '../../modules/strimzi-operator';

const charts = fs.mkdtempSync(path.join(os.tmpdir(), 'charts-'));
const strimzi = versions.charts.strimzi;
fs.writeFileSync(path.join(charts, `${strimzi.chart}-${strimzi.version}.tgz`), '');

describe('chartLocation', () => {
  it('uses the pinned repository by default', () => {
    expect(chartLocation(strimzi, { type: 'repository' })).toEqual({ repository: strimzi.repository, chart: strimzi.chart });
  });

  it('uses the archive of the pinned version from a directory source, without a repository', () => {
    expect(chartLocation(strimzi, { type: 'directory', directory: charts })).toEqual({ chart: path.join(charts, 'strimzi-kafka-operator-1.2.0.tgz') });
  });

  it('fails the synth naming the archive a directory source lacks', () => {
    expect(() => chartLocation(versions.charts.loki, { type: 'directory', directory: charts })).toThrow(
      `chart archive ${path.join(charts, 'loki-18.11.0.tgz')} is missing: add loki 18.11.0 to ${charts}, or use the repository chart source`,
    );
  });
});

describe('StrimziOperator with a directory chart source', () => {
  it('installs the chart from the archive and applies the CRDs the archive carries, downloading nothing', () => {
    const stack = Testing.synthScope((scope) => {
      new StrimziOperator(scope, 'strimzi', { namespace: 'kafka', chart: strimzi, chartSource: { type: 'directory', directory: charts }, kubeconfig: { configPath: '/tmp/kubeconfig' } });
    });
    const json = JSON.parse(stack) as { resource: Record<string, Record<string, Record<string, unknown>>> };
    const release = Object.values(json.resource.helm_release)[0];
    expect(release.chart).toBe(chartArchive(strimzi, charts));
    expect(release.repository).toBeUndefined();
    const crds = Object.values(json.resource.terraform_data)[0] as { provisioner: { 'local-exec': { command: string } }[]; triggers_replace: Record<string, string> };
    const command = crds.provisioner[0]['local-exec'].command;
    expect(command).toContain(`tar -xzf '${chartArchive(strimzi, charts)}' -C "$d" 'strimzi-kafka-operator/crds'`);
    expect(command).toContain(`kubectl --kubeconfig '/tmp/kubeconfig' apply --server-side --force-conflicts -f "$d"/'strimzi-kafka-operator/crds'`);
    expect(command).not.toContain('https://');
    expect(crds.triggers_replace).toEqual({ chartVersion: strimzi.version, archive: chartArchive(strimzi, charts) });
  });
});
