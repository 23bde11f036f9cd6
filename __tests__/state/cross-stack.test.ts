import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, DataResource, TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { loadConfig } from '../../config';
import { PlatformStack, PlatformStackProps } from '../../modules/platform-stack';
import { postgresUp } from '../../tools/local-postgres';
import { uniqueName } from '../support/kafka';
import { availableClis, terraformOk } from '../support/toolchain';

// terraform_data takes a value of any type; the binding types it as a map.
const anyValue = (v: string) => v as unknown as Record<string, unknown>;

/** Holds a value, as kafka-stack holds the bootstrap address. */
class Producing extends PlatformStack {
  readonly value: string;
  constructor(scope: Construct, id: string, props: PlatformStackProps & { value: string }) {
    super(scope, id, props);
    this.value = new DataResource(this, 'value', { input: anyValue(props.value) }).output.toString();
  }
}

/** Consumes it by reference, as workloads-stack consumes kafka-stack's outputs. */
class Consuming extends PlatformStack {
  constructor(scope: Construct, id: string, props: PlatformStackProps & { value: string }) {
    super(scope, id, props);
    new TerraformOutput(this, 'received', { value: new DataResource(this, 'copy', { input: anyValue(props.value) }).output });
  }
}

describe.each(availableClis())('cross-stack references through PostgreSQL state with $name', (cli) => {
  it('carry a value from one stack to the next through remote state, with no connection string synthesized', async () => {
    const pgEnv = { PG_CONN_STR: await postgresUp() };
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cross-stack-'));
    const schemaPrefix = uniqueName(`xs_${cli.name}`).replace(/-/g, '_');
    const env = { ...loadConfig('local'), backend: { type: 'pg' as const, schemaPrefix } };
    const expected = uniqueName('value');

    const app = new App({ outdir });
    const producing = new Producing(app, 'producing-stack', { env, value: expected });
    const consuming = new Consuming(app, 'consuming-stack', { env, value: producing.value });
    consuming.addDependency(producing);
    app.synth();

    const consumingDir = path.join(outdir, 'stacks', 'consuming-stack');
    const synthesized = fs.readFileSync(path.join(consumingDir, 'cdk.tf.json'), 'utf8');
    expect(synthesized).toContain('terraform_remote_state');
    expect(synthesized).not.toContain('conn_str');

    for (const stack of ['producing-stack', 'consuming-stack']) {
      const dir = path.join(outdir, 'stacks', stack);
      terraformOk(['init', '-input=false', '-no-color'], dir, pgEnv, cli.path);
      terraformOk(['apply', '-input=false', '-no-color', '-auto-approve'], dir, pgEnv, cli.path);
    }
    const received = JSON.parse(terraformOk(['output', '-json', 'received'], consumingDir, pgEnv, cli.path)) as string;
    expect(received).toBe(expected);
  }, 120000);
});
