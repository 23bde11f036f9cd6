import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { ConfigError, EnvironmentConfig, environmentProblems } from '../config';
import { orderCrossStackLookups } from './deploy-order';
import { configureStateBackend } from './state-backend';

export interface PlatformStackProps {
  /** The validated environment this stack is synthesized for. */
  readonly env: EnvironmentConfig;
}

interface RemoteStateJson {
  backend?: string;
  config?: Record<string, unknown>;
}

/**
 * `id`, once `env` is valid. Stacks are also built from configs that never went through
 * loadConfig (tests, tools); checked before `super()`, a bad one never joins the app's tree,
 * so a later synth cannot write half a stack.
 */
function checked(id: string, env: EnvironmentConfig): string {
  const problems = environmentProblems(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return id;
}

/** A stack with its own state in the environment's backend. */
export abstract class PlatformStack extends TerraformStack {
  readonly env: EnvironmentConfig;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, checked(id, props.env));
    this.env = props.env;
    configureStateBackend(this, id, props.env.backend, props.env);
  }

  /**
   * The pg binding insists on a connection string, and cdktf copies it into the remote
   * state lookups of cross-stack references. Dropped here from both, the backend and the
   * lookups read PG_CONN_STR at run time and no credentials are ever synthesized.
   * Lookups are also ordered after their deploy-order checks (modules/deploy-order.ts).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  public override toTerraform(): any {
    const tf = super.toTerraform();
    if (tf.terraform?.backend?.pg) delete tf.terraform.backend.pg.conn_str;
    const lookups = (tf.data?.terraform_remote_state ?? {}) as Record<string, RemoteStateJson>;
    for (const lookup of Object.values(lookups)) {
      if (lookup.backend === 'pg' && lookup.config) delete lookup.config.conn_str;
    }
    orderCrossStackLookups(this, tf);
    return tf;
  }
}
