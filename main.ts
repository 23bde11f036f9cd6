import { App } from 'cdktf';
import { ENVIRONMENT_VARIABLE, loadConfig } from './config';
import { AddonsStack } from './stacks/addons-stack';
import { KafkaStack } from './stacks/kafka-stack';
import { WorkloadsStack } from './stacks/workloads-stack';

/** Builds the stacks of one environment: addons -> kafka -> workloads. */
export function buildApp(app: App = new App()): App {
  const requested = (app.node.tryGetContext('environment') as string | undefined) ?? process.env[ENVIRONMENT_VARIABLE];
  const env = loadConfig(requested);

  const addons = new AddonsStack(app, 'addons-stack', { env });
  const kafka = new KafkaStack(app, 'kafka-stack', { env });
  kafka.addDependency(addons);
  const workloads = new WorkloadsStack(app, 'workloads-stack', { env, bootstrapServers: kafka.bootstrapServers });
  workloads.addDependency(kafka);
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
