import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLIENT_SECRETS_DIGEST_ANNOTATION } from '../../stacks/workloads-stack';
import { resourcesOf, synthEnvironment } from '../support/synth';
import { availableClis, terraformOk } from '../support/toolchain';

/**
 * A renewed CA must restart the consumers, which read it at start. The consumer's pod template
 * carries a digest of the Secrets it reads; this evaluates the synthesized expression with each
 * real CLI over sensitive values standing for the data sources: a new CA gives a new digest,
 * the same Secrets the same one, and the digest is printable while the values stay sensitive.
 */

const deployment = Object.values(resourcesOf(synthEnvironment('dev').stacks['workloads-stack'], 'kubernetes_deployment_v1'))[0];
const expression = deployment.spec.template.metadata.annotations[CLIENT_SECRETS_DIGEST_ANNOTATION] as string;

describe.each(availableClis())('the consumer’s client secrets digest, as $name evaluates it', (cli) => {
  const digest = (ca: string, password: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-digest-'));
    const asLocal = expression
      .replace('data.kubernetes_secret_v1.kafka-cluster-ca-source.data', 'local.ca')
      .replace('data.kubernetes_secret_v1.kafka-consumer-credentials-source.data', 'local.credentials');
    fs.writeFileSync(
      path.join(dir, 'main.tf.json'),
      JSON.stringify({
        locals: { ca: `\${sensitive({ "ca.crt" = ${JSON.stringify(ca)} })}`, credentials: `\${sensitive({ password = ${JSON.stringify(password)} })}` },
        output: { digest: { value: asLocal } },
      }),
    );
    terraformOk(['init', '-backend=false', '-input=false', '-no-color'], dir, {}, cli.path);
    terraformOk(['apply', '-auto-approve', '-input=false', '-no-color'], dir, {}, cli.path);
    return JSON.parse(terraformOk(['output', '-json', 'digest'], dir, {}, cli.path)) as string;
  };

  test('changes with the CA and with the password, and only then', () => {
    expect(expression).toMatch(/^\$\{nonsensitive\(sha256\(jsonencode\(\[data\.kubernetes_secret_v1\.kafka-cluster-ca-source\.data, data\.kubernetes_secret_v1\.kafka-consumer-credentials-source\.data\]\)\)\)\}$/);
    const before = digest('CA-1', 'secret-1');
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(digest('CA-1', 'secret-1')).toBe(before);
    expect(digest('CA-2', 'secret-1')).not.toBe(before);
    expect(digest('CA-1', 'secret-2')).not.toBe(before);
  }, 120_000);
});
