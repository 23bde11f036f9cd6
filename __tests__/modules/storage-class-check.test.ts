import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { environments, versions } from '../../config';
import { StorageClassCheck } from '../../modules/storage-class-check';
import { KubeApi, KubeObject, LocalKubernetes, localKubernetesLayout, resourcePath } from '../../tools/local/kubernetes';
import { CACHE_DIR } from '../../tools/paths';
import { shiftedKubernetesConfig } from '../support/deploy';
import { kubernetesBinariesReady } from '../support/kubernetes-build';
import { EKS, EKS_WITH_GP3, EXPECTED, GKE, GKE_OLD_DEFAULT, SETTING } from '../support/storage-classes';
import { terraform, terraformOk } from '../support/toolchain';

/**
 * The storage class check planned for real by Terraform against a local Kubernetes API server
 * holding the StorageClasses an EKS and a GKE cluster come with. What the classes do (EBS, PD)
 * is the cloud's; which ones exist, which is the default and how each binds is what the check
 * reads, and that is plain Kubernetes.
 */

const MINUTE = 60_000;
const kubernetes = new LocalKubernetes(localKubernetesLayout(shiftedKubernetesConfig(200), path.join(CACHE_DIR, 'storage-class-test', 'kubernetes')));
let api: KubeApi;

/** Makes the cluster's StorageClasses exactly `classes`. */
async function useClasses(classes: KubeObject[]): Promise<void> {
  const list = await api.get<{ items: KubeObject[] }>(resourcePath('storage.k8s.io', 'v1', 'storageclasses'));
  for (const c of list.items) await api.delete(resourcePath('storage.k8s.io', 'v1', 'storageclasses', c.metadata.name));
  for (const c of classes) await api.request('POST', resourcePath('storage.k8s.io', 'v1', 'storageclasses'), c);
}

/** `terraform plan` of a stack holding only the check, against the local cluster; output with the CLI's line wrapping undone. */
function plan(storageClassName: string | undefined): { status: number; output: string } {
  const outdir = fs.mkdtempSync(path.join(CACHE_DIR, 'storage-class-test', 'synth-'));
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'storage-check');
  new KubernetesProvider(stack, 'kubernetes', { configPath: kubernetes.layout.kubeconfig });
  stack.addOverride(`terraform.required_providers.kubernetes.version`, versions.providers.kubernetes.version);
  new StorageClassCheck(stack, 'storage-class', { storageClass: storageClassName, setting: SETTING, zoneSpread: true });
  app.synth();
  const dir = path.join(outdir, 'stacks', 'storage-check');
  terraformOk(['init', '-input=false', '-no-color'], dir);
  const r = terraform(['plan', '-input=false', '-no-color', '-refresh=true'], dir);
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`.replace(/│/g, ' ').replace(/\s+/g, ' ') };
}

beforeAll(async () => {
  await kubernetesBinariesReady((line) => console.log(`[storage-class-test] ${line}`));
  await kubernetes.down({ purge: true, log: () => undefined });
  await kubernetes.up({ log: () => undefined });
  api = kubernetes.api();
}, 50 * MINUTE);

afterAll(async () => {
  api?.close();
  await kubernetes.down({ purge: true, log: () => undefined });
  fs.rmSync(path.join(CACHE_DIR, 'storage-class-test'), { recursive: true, force: true });
}, 2 * MINUTE);

describe('the storage class, checked at plan time against the cluster', () => {
  test('prod sets none: its volumes use the cluster default', () => {
    expect(environments.prod.kafka.storageClass).toBeUndefined();
  });

  test('EKS: the old prod setting "standard" stops the plan, naming the class, the classes there are and the fix', async () => {
    await useClasses(EKS);
    const r = plan('standard');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(EXPECTED.eksStandard);
  }, 5 * MINUTE);

  test('EKS without a default class: the default stops the plan with the fix', async () => {
    await useClasses(EKS);
    const r = plan(undefined);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(EXPECTED.eksNoDefault);
  }, 5 * MINUTE);

  test('EKS with gp3 named: the plan passes', async () => {
    await useClasses(EKS_WITH_GP3);
    const r = plan('gp3');
    expect(r.output).not.toContain('postcondition failed');
    expect(r.status).toBe(0);
  }, 5 * MINUTE);

  test('GKE: "standard" exists but binds at once, before the zone spread, and the plan says so', async () => {
    await useClasses(GKE);
    const r = plan('standard');
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(EXPECTED.gkeStandard);
  }, 5 * MINUTE);

  test('GKE: the default class standard-rwo passes', async () => {
    await useClasses(GKE);
    const r = plan(undefined);
    expect(r.output).not.toContain('postcondition failed');
    expect(r.status).toBe(0);
  }, 5 * MINUTE);

  test('GKE with the Immediate standard as default: the plan names the default class', async () => {
    await useClasses(GKE_OLD_DEFAULT);
    const r = plan(undefined);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(EXPECTED.gkeOldDefault);
  }, 5 * MINUTE);
});
