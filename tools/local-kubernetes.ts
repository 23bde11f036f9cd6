import { runMain } from './local/process';
import { LocalKubernetesStatus, localKubernetes } from './local/kubernetes';

const USAGE = 'usage: tsx tools/local-kubernetes.ts up | status | down [--purge]';

function printStatus(status: LocalKubernetesStatus): void {
  for (const c of status.components) {
    const proc = c.pid !== undefined ? `running (pid ${c.pid})` : 'not running';
    console.log(`${c.name}: ${proc}; port ${c.port} ${c.listening ? 'listening' : 'closed'}; ${c.healthy ? 'healthy' : 'NOT healthy'}; log ${c.logFile}`);
  }
  if (status.nodes) {
    for (const n of status.nodes) console.log(`node ${n.name} (zone ${n.zone}): ${n.ready ? 'Ready' : 'NOT Ready'}`);
  } else {
    console.log(`nodes: unknown (${status.nodesError})`);
  }
  if (status.realNode) {
    const procs = Object.entries(status.realNode.processes).map(([name, pid]) => `${name} ${pid !== undefined ? `pid ${pid}` : 'NOT running'}`);
    console.log(`real node: ${status.realNode.ready ? 'Ready' : 'NOT Ready'}; ${procs.join(', ')}${status.realNode.readyError ? ` (${status.realNode.readyError})` : ''}`);
  }
  console.log(status.ready ? `ready: ${status.server}, KUBECONFIG=${status.kubeconfig}` : 'NOT ready (start it with `npm run k8s:up`)');
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const unknown = rest.filter((a) => a !== '--purge' || command !== 'down');
  if (unknown.length > 0) throw new Error(`unknown argument(s) ${unknown.join(' ')}\n${USAGE}`);
  switch (command) {
    case 'up': {
      const result = await localKubernetes.up();
      console.log(`KUBECONFIG=${result.kubeconfig}`);
      return 0;
    }
    case 'status': {
      const status = await localKubernetes.status();
      printStatus(status);
      return status.ready ? 0 : 1;
    }
    case 'down':
      await localKubernetes.down({ purge: rest.includes('--purge') });
      return 0;
    default:
      throw new Error(USAGE);
  }
}

runMain(() => main(process.argv.slice(2)));
