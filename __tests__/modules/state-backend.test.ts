import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { StateBackendConfig } from '../../config';
import { buildApp } from '../../main';
import { TerraformJson } from '../support/synth';
import { terraformOk } from '../support/toolchain';

function synthWithBackend(backend: StateBackendConfig): Record<string, TerraformJson> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `backend-${backend.type}-`));
  buildApp(new App({ outdir, context: { environment: 'prod' } }), { backend }).synth();
  const dir = path.join(outdir, 'stacks');
  return Object.fromEntries(fs.readdirSync(dir).map((s) => [s, JSON.parse(fs.readFileSync(path.join(dir, s, 'cdk.tf.json'), 'utf8')) as TerraformJson]));
}

describe('state backends', () => {
  it('pg: one schema per stack and no connection string anywhere', () => {
    const stacks = synthWithBackend({ type: 'pg', schemaPrefix: 'platform_prod' });
    expect(Object.fromEntries(Object.entries(stacks).map(([name, s]) => [name, s.terraform.backend]))).toEqual({
      'addons-stack': { pg: { schema_name: 'platform_prod_addons_stack' } },
      'kafka-stack': { pg: { schema_name: 'platform_prod_kafka_stack' } },
      'workloads-stack': { pg: { schema_name: 'platform_prod_workloads_stack' } },
    });
    for (const s of Object.values(stacks)) expect(JSON.stringify(s)).not.toContain('conn_str');
  });

  it('s3: one key per stack, encrypted, with S3-native locking', () => {
    const stacks = synthWithBackend({ type: 's3', bucket: 'tf-state', region: 'eu-west-1', keyPrefix: 'kafka-platform/prod' });
    expect(stacks['kafka-stack'].terraform.backend).toEqual({
      s3: { bucket: 'tf-state', region: 'eu-west-1', key: 'kafka-platform/prod/kafka-stack.tfstate', encrypt: true, use_lockfile: true },
    });
    // Cross-stack lookups read the producing stack's own key.
    const lookups = Object.values(stacks['workloads-stack'].data.terraform_remote_state) as { backend: string; config: { key: string } }[];
    expect(lookups.map((l) => l.backend)).toEqual(['s3', 's3']);
    expect(lookups.map((l) => l.config.key).sort()).toEqual(['kafka-platform/prod/addons-stack.tfstate', 'kafka-platform/prod/kafka-stack.tfstate']);
  });

  it('kubernetes: a Secret per stack, cross-stack lookups reading Secrets too, accepted by the real CLI', () => {
    const stacks = synthWithBackend({ type: 'kubernetes', namespace: 'tfstate', secretSuffixPrefix: 'kafka-platform-prod' });
    expect(stacks['addons-stack'].terraform.backend).toEqual({
      kubernetes: { secret_suffix: 'kafka-platform-prod-addons-stack', namespace: 'tfstate', config_path: '~/.kube/config' },
    });
    const lookups = Object.values(stacks['workloads-stack'].data.terraform_remote_state) as { backend: string; config: { secret_suffix: string } }[];
    expect(lookups.map((l) => l.backend)).toEqual(['kubernetes', 'kubernetes']);
    expect(lookups.map((l) => l.config.secret_suffix).sort()).toEqual(['kafka-platform-prod-addons-stack', 'kafka-platform-prod-kafka-stack']);
    // The real CLI accepts the synthesized block: it gets as far as listing the state Secrets.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-backend-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: {} }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const backend = { kubernetes: { ...stacks['addons-stack'].terraform.backend.kubernetes, config_path: kubeconfig } };
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ terraform: { backend } }));
    expect(() => terraformOk(['init', '-input=false', '-no-color'], dir)).toThrow(/Failed to get existing workspaces.*namespaces\/tfstate\/secrets.*127\.0\.0\.1:1/s);
  });
});
