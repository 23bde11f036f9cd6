import { ENVIRONMENT_NAMES } from '../../config';
import { findSecrets, findSecretsInDir, generatedSecrets } from '../support/secrets';
import { Synthesized, TerraformJson, synthEnvironment } from '../support/synth';

/**
 * No secret in any synthesized stack of any environment, and every Terraform variable or output
 * that carries one is marked sensitive, so plans and `terraform output` print `(sensitive value)`.
 */

/** Names that say a value is a credential: passwords, keys, connection strings, receiver URLs. */
const SECRET_NAME = /password|passwd|secret|token|private|_key\b|ca_key|conn_str|connection_string|credential|webhook|routing_key|receiver|api_url/i;
/** Keys whose string value must never be a literal in the JSON (only `${...}` or empty). */
const SECRET_KEY = /^(?:password|passwd|sasl_password|secret|token|private_key|client_key|conn_str|access_key|secret_key|api[-_]?key|admin-password|api-url|routing-key)$/i;

const synthesized: Record<string, Synthesized> = Object.fromEntries(ENVIRONMENT_NAMES.map((e) => [e, synthEnvironment(e)]));
const stacks = ENVIRONMENT_NAMES.flatMap((env) => Object.entries(synthesized[env].stacks).map(([stack, json]) => ({ env, stack, json })));

/** Every string under `node` whose key looks secret and is a literal, by JSON path. */
function literalSecrets(node: unknown, at: string[] = []): string[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => literalSecrets(v, [...at, String(i)]));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => {
    if (typeof v === 'string' && SECRET_KEY.test(k) && v !== '' && !/^\$\{[^}]+\}$/.test(v)) return [[...at, k].join('.')];
    return literalSecrets(v, [...at, k]);
  });
}

/** Variables whose value is a secret: named like one, or referenced where a secret goes. */
function secretVariables(json: TerraformJson): string[] {
  const names = Object.keys(json.variable ?? {});
  const text = JSON.stringify({ provider: json.provider, resource: json.resource, data: json.data });
  const usedAsSecret = (name: string) => new RegExp(`"(?:[a-z_-]*password|[a-z_-]*key|url|api-url|routing-key)":"\\$\\{var\\.${name}\\}"`, 'i').test(text);
  return names.filter((n) => SECRET_NAME.test(n) || usedAsSecret(n));
}

describe.each(ENVIRONMENT_NAMES)('the synthesized stacks of %s', (env) => {
  test('hold no generated password, private key, token or credential URL in any file', () => {
    expect(findSecretsInDir(synthesized[env].outdir, generatedSecrets())).toEqual([]);
  });

  test('put no literal value where a password, key or secret URL goes', () => {
    const found = Object.entries(synthesized[env].stacks).flatMap(([stack, json]) => literalSecrets(json).map((p) => `${stack}: ${p}`));
    expect(found).toEqual([]);
  });
});

describe.each(stacks.map((s) => [`${s.env}/${s.stack}`, s.json] as const))('%s', (_name, json) => {
  test('marks every variable carrying a secret sensitive, with no default to leak it', () => {
    const variables = (json.variable ?? {}) as Record<string, { sensitive?: boolean; default?: unknown }>;
    const secret = secretVariables(json);
    expect(secret.map((n) => ({ n, sensitive: variables[n].sensitive === true, default: variables[n].default ?? null }))).toEqual(
      secret.map((n) => ({ n, sensitive: true, default: null })),
    );
  });

  test('marks every output carrying a secret sensitive', () => {
    const outputs = (json.output ?? {}) as Record<string, { value: unknown; sensitive?: boolean }>;
    const secretVars = secretVariables(json);
    const carriesSecret = (name: string, value: unknown) => {
      const text = JSON.stringify(value);
      return SECRET_NAME.test(name) || secretVars.some((v) => text.includes(`var.${v}`)) || /kubernetes_secret[^.]*\.[^.]+\.data/.test(text);
    };
    const secret = Object.entries(outputs).filter(([n, o]) => carriesSecret(n, o.value));
    expect(secret.map(([n, o]) => ({ n, sensitive: o.sensitive === true }))).toEqual(secret.map(([n]) => ({ n, sensitive: true })));
  });
});

describe('the secret detection itself', () => {
  test('sees the secret variables the stacks declare, so the checks above are not vacuous', () => {
    const declared = stacks.flatMap((s) => secretVariables(s.json).map((v) => `${s.env}/${s.stack}: ${v}`));
    expect(declared).toEqual(
      expect.arrayContaining(['dev/kafka-stack: kafka_admin_password', 'prod/addons-stack: grafana_admin_password', 'prod/addons-stack: alertmanager_webhook_url']),
    );
  });

  test('finds each kind of secret in a sample, and the generated passwords', () => {
    // Built at run time, so the repository never holds a secret-shaped string.
    const key = ['-----BEGIN', 'PRIVATE KEY-----'].join(' ');
    const samples: Record<string, string> = {
      'PEM private key': `${key}\n${'A'.repeat(64)}\n`,
      'AWS access key id': `id ${'AKIA'}${'ABCDEFGHIJKLMNOP'}`,
      'GitHub token': `gh${'p'}_${'a1'.repeat(18)}`,
      'Slack token': `xox${'b'}-123456789-${'abcdefghijkl'}`,
      'Slack webhook URL': `https://hooks.slack.com/services/${'T0123456'}/${'B0123456'}/${'abcdefghijklmnopqrstuvwx'}`,
      'JSON Web Token': `${'eyJ'}${'a'.repeat(20)}.${'eyJ'}${'b'.repeat(20)}.${'c'.repeat(20)}`,
      'credentials in a URL': `postgres://terraform:${'hunter22hunter'}@127.0.0.1:5432/db`,
      'literal password assignment': `"password": "${'correct-horse'}"`,
    };
    for (const [what, text] of Object.entries(samples)) expect(findSecrets('sample', text, []).map((f) => f.what)).toEqual([what]);
    expect(findSecrets('sample', '"sasl_password": "${var.kafka_admin_password}"', [])).toEqual([]);
    const generated = generatedSecrets();
    expect(generated.length).toBeGreaterThan(0);
    expect(findSecrets('sample', `x ${generated[0].value} y`, generated)).toEqual([{ where: 'sample:1', what: `the password in ${generated[0].file}` }]);
  });
});
