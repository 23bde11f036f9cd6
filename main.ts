import { App } from 'cdktf';
import { ENVIRONMENT_VARIABLE, EnvironmentConfig, StateBackendConfig, loadConfig } from './config';
import { AddonsStack } from './stacks/addons-stack';
import { KafkaStack } from './stacks/kafka-stack';
import { LocalKafkaStack } from './stacks/local-kafka-stack';
import { WorkloadsStack } from './stacks/workloads-stack';

export interface BuildOptions {
  /** Replaces the environment's state backend (tests point it at their own PostgreSQL). */
  readonly backend?: StateBackendConfig;
}

/** Builds the stacks of one environment: addons -> kafka -> workloads (only kafka-stack for `local`). */
export function buildApp(app: App = new App(), options: BuildOptions = {}): App {
  const requested = (app.node.tryGetContext('environment') as string | undefined) ?? process.env[ENVIRONMENT_VARIABLE];
  const loaded = loadConfig(requested);
  const env: EnvironmentConfig = options.backend ? { ...loaded, backend: options.backend } : loaded;

  if (env.name === 'local') {
    new LocalKafkaStack(app, 'kafka-stack', { env });
    return app;
  }

  const addons = new AddonsStack(app, 'addons-stack', { env });
  const kafka = new KafkaStack(app, 'kafka-stack', { env, kafkaNamespace: addons.kafkaNamespace });
  kafka.addDependency(addons);
  const workloads = new WorkloadsStack(app, 'workloads-stack', {
    env,
    kafka: kafka.connection,
    monitoringNamespace: addons.monitoringNamespace,
  });
  workloads.addDependency(kafka);
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
