import * as net from 'net';

/** Pipes `client` to a new connection to `target` (`host:port`) both ways; either side's end or error closes both. Both sockets are in `open` while they are. */
export function relay(client: net.Socket, target: string, open: Set<net.Socket>): void {
  const [host, port] = target.split(':');
  const upstream = net.connect(Number(port), host);
  for (const s of [client, upstream]) {
    open.add(s);
    s.on('close', () => open.delete(s));
  }
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
}

/**
 * What kube-proxy does for a NodePort Service on the node's address, for the simulated nodes
 * (kwok runs no proxy): 127.0.0.1:<nodePort> forwarded, connection by connection, to the
 * local process standing behind the Service's pods (round robin over several).
 */
export class NodePortProxies {
  private readonly servers = new Map<number, { server: net.Server; targets: string[] }>();
  private next = 0;
  private readonly sockets = new Set<net.Socket>();

  /** Listens on 127.0.0.1:`nodePort` (if not yet) and forwards to `targets` (`host:port`). */
  async serve(nodePort: number, targets: readonly string[]): Promise<void> {
    const existing = this.servers.get(nodePort);
    if (existing) {
      existing.targets.splice(0, existing.targets.length, ...targets);
      return;
    }
    const entry = { server: net.createServer(), targets: [...targets] };
    entry.server.on('connection', (client) => relay(client, entry.targets[this.next++ % entry.targets.length], this.sockets));
    await new Promise<void>((resolve, reject) => {
      entry.server.once('error', (err) => reject(new Error(`simulated kube-proxy: cannot listen on 127.0.0.1:${nodePort} for a NodePort Service: ${err.message}`)));
      entry.server.listen(nodePort, '127.0.0.1', () => resolve());
    });
    this.servers.set(nodePort, entry);
  }

  ports(): number[] {
    return [...this.servers.keys()].sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const { server } of this.servers.values()) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.servers.clear();
  }
}
