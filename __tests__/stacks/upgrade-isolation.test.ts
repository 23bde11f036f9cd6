import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
type VersionsModule = typeof import('../../config/versions');
type Pins = Mutable<import('../../config/versions').Versions>;

/**
 * Synthesizes `environment` with the version pins changed by `bump`, in a fresh module
 * registry, exactly as if config/versions.ts had been edited.
 */
function synthWith(environment: string, bump: (v: Pins) => void): Record<string, string> {
  let stacks: Record<string, string> = {};
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { versions } = require('../../config/versions') as VersionsModule;
    bump(versions as unknown as Pins);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildApp } = require('../../main') as typeof import('../../main');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { App } = require('cdktf') as typeof import('cdktf');
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `bump-${environment}-`));
    buildApp(new App({ outdir, context: { environment } })).synth();
    const dir = path.join(outdir, 'stacks');
    stacks = Object.fromEntries(fs.readdirSync(dir).map((s) => [s, fs.readFileSync(path.join(dir, s, 'cdk.tf.json'), 'utf8')]));
  });
  return stacks;
}

function changedStacks(environment: string, bump: (v: Pins) => void): string[] {
  const before = synthWith(environment, () => undefined);
  const after = synthWith(environment, bump);
  return Object.keys(before).filter((s) => before[s] !== after[s]).sort();
}

describe.each(['dev', 'prod'])('a version bump in %s', (environment) => {
  it('of Kafka changes only kafka-stack', () => {
    expect(
      changedStacks(environment, (v) => {
        v.kafka.version = '4.3.0';
      }),
    ).toEqual(['kafka-stack']);
  });

  it('of the Kafka metadata version changes only kafka-stack', () => {
    expect(
      changedStacks(environment, (v) => {
        v.kafka.metadataVersion = '4.2-IV1';
      }),
    ).toEqual(['kafka-stack']);
  });

  it('of the kube-prometheus-stack chart changes only addons-stack', () => {
    expect(
      changedStacks(environment, (v) => {
        v.charts.kubePrometheusStack.version = '88.5.4';
      }),
    ).toEqual(['addons-stack']);
  });

  it('of the Strimzi chart changes only the stack holding the operator', () => {
    const changed = changedStacks(environment, (v) => {
      v.charts.strimzi.version = '1.2.1';
    });
    expect(changed).toHaveLength(1);
  });

  it('of the service images changes only workloads-stack', () => {
    expect(
      changedStacks(environment, (v) => {
        v.images.services = '0.1.1';
      }),
    ).toEqual(['workloads-stack']);
  });
});
