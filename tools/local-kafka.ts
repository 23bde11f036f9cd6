import { runMain } from './local/process';
import { jmxExporterArgs } from './jmx-exporter';
import { ClusterStatus, clusterDown, clusterStatus, clusterUp } from './local/kafka';

const USAGE = 'usage: tsx tools/local-kafka.ts up | status | down [--purge]';

function printStatus(status: ClusterStatus): void {
  for (const n of status.nodes) {
    const proc = n.alive ? `running (pid ${n.pid})` : 'not running';
    const port = (listening: boolean) => (listening ? 'listening' : 'closed');
    console.log(
      `node ${n.id}: ${proc}; client ${n.clientPort} ${port(n.clientListening)}; SASL_SSL ${n.saslPort} ${port(n.saslListening)}; ` +
        `controller ${n.controllerPort} ${port(n.controllerListening)}; log ${n.logFile}`,
    );
  }
  console.log(
    status.quorum
      ? `quorum: leader ${status.quorum.leaderId} (epoch ${status.quorum.leaderEpoch ?? '?'}), voters [${status.quorum.voters.join(', ')}]`
      : `quorum: unknown (${status.quorumError})`,
  );
  console.log(status.brokers ? `brokers registered: [${status.brokers.join(', ')}]` : `brokers: unknown (${status.brokersError})`);
  console.log(status.healthy ? `healthy: ${status.bootstrapServers}` : 'NOT healthy (start it with `npm run kafka:up`)');
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const purge = rest.includes('--purge');
  const unknown = rest.filter((a) => a !== '--purge' || command !== 'down');
  if (unknown.length > 0) throw new Error(`unknown argument(s) ${unknown.join(' ')}\n${USAGE}`);
  switch (command) {
    case 'up': {
      // Metrics on 127.0.0.1:29300+, with the exporter rules kafka-stack deploys.
      const result = await clusterUp({ extraJvmArgs: jmxExporterArgs });
      console.log(`KAFKA_BOOTSTRAP_SERVERS=${result.bootstrapServers}`);
      return 0;
    }
    case 'status': {
      const status = await clusterStatus();
      printStatus(status);
      return status.healthy ? 0 : 1;
    }
    case 'down':
      await clusterDown({ purge });
      return 0;
    default:
      throw new Error(USAGE);
  }
}

runMain(() => main(process.argv.slice(2)));
