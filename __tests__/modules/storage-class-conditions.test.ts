import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { StorageClassCheck } from '../../modules/storage-class-check';
import { KubeObject } from '../../tools/local/kubernetes';
import { EKS, EKS_WITH_GP3, EXPECTED, GKE, GKE_OLD_DEFAULT, SETTING } from '../support/storage-classes';
import { Cli, availableClis, terraform, terraformOk } from '../support/toolchain';

/**
 * The storage class check's postconditions, evaluated by the real Terraform CLI over EKS- and
 * GKE-like StorageClass lists, without a cluster: the same expressions and messages as the
 * synthesized data source, with its `self.objects` given as a local value. The plan
 * against a real API server is __tests__/modules/storage-class-check.test.ts.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function postconditions(storageClass: string | undefined, zoneSpread = true): Json[] {
  const stack = new TerraformStack(Testing.app(), 'check');
  new StorageClassCheck(stack, 'storage-class', { storageClass, setting: SETTING, zoneSpread });
  const tf = JSON.parse(Testing.synth(stack)) as Json;
  const [source] = Object.values(tf.data.kubernetes_resources) as Json[];
  return source.lifecycle.postcondition as Json[];
}

/** `terraform plan` of the postconditions over `objects`; the output with the CLI's box drawing and wrapping undone. */
function planWith(cli: Cli, objects: KubeObject[], storageClass: string | undefined, zoneSpread = true): { status: number; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-class-conditions-'));
  // An output's preconditions are judged at plan with known values, as the data source's
  // postconditions are once it has read the cluster.
  const swap = (text: string) => text.replace(/self\.objects/g, 'local.objects');
  const precondition = postconditions(storageClass, zoneSpread).map((p) => ({ condition: swap(p.condition), error_message: swap(p.error_message) }));
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ locals: { objects }, output: { classes: { value: '${length(local.objects)}', precondition } } }));
  terraformOk(['init', '-backend=false', '-input=false', '-no-color'], dir, {}, cli.path);
  const r = terraform(['plan', '-input=false', '-no-color'], dir, {}, cli.path);
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`.replace(/│/g, ' ').replace(/\s+/g, ' ') };
}

describe.each(availableClis())('the storage class postconditions, as $name evaluates them', (cli) => {
  const plan = (objects: KubeObject[], storageClass: string | undefined, zoneSpread = true) => planWith(cli, objects, storageClass, zoneSpread);

  test('the synthesized check reads the StorageClasses of the cluster, at plan time', () => {
    const stack = new TerraformStack(Testing.app(), 'check');
    new StorageClassCheck(stack, 'storage-class', { storageClass: 'gp3', setting: SETTING, zoneSpread: true });
    const [source] = Object.values((JSON.parse(Testing.synth(stack)) as Json).data.kubernetes_resources) as Json[];
    expect(source).toMatchObject({ api_version: 'storage.k8s.io/v1', kind: 'StorageClass' });
    expect(source.lifecycle.postcondition).toHaveLength(2);
  });

  test('EKS: a class the cluster does not have is named, with the classes it has', () => {
    const r = plan(EKS, 'standard');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(EXPECTED.eksStandard);
  });

  test('EKS without a default class, and none set', () => {
    const r = plan(EKS, undefined);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(EXPECTED.eksNoDefault);
  });

  test('EKS with gp3 named passes', () => {
    const r = plan(EKS_WITH_GP3, 'gp3');
    expect(r.output).not.toContain('condition failed');
    expect(r.status).toBe(0);
  });

  test('GKE: standard binds at once, before the zone spread', () => {
    const r = plan(GKE, 'standard');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(EXPECTED.gkeStandard);
  });

  test('GKE: the default standard-rwo passes', () => {
    const r = plan(GKE, undefined);
    expect(r.output).not.toContain('condition failed');
    expect(r.status).toBe(0);
  });

  test('GKE with the Immediate standard as its default: the default is named', () => {
    const r = plan(GKE_OLD_DEFAULT, undefined);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(EXPECTED.gkeOldDefault);
  });

  test('without zonal volumes (kind, minikube), an Immediate default class is fine', () => {
    const r = plan(GKE_OLD_DEFAULT, undefined, false);
    expect(r.status).toBe(0);
  });
});
