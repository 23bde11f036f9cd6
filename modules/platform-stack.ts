import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config';
import { configureStateBackend } from './state-backend';

export interface PlatformStackProps {
  /** The validated environment this stack is synthesized for. */
  readonly env: EnvironmentConfig;
}

/** A stack with its own state in the environment's backend. */
export abstract class PlatformStack extends TerraformStack {
  readonly env: EnvironmentConfig;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    this.env = props.env;
    configureStateBackend(this, id, props.env.backend, props.env);
  }
}
