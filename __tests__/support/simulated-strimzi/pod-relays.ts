import { execFileSync } from 'child_process';
import * as net from 'net';
import { relay } from './node-ports';

/**
 * What a broker pod's address would answer on a real cluster, for broker pods that kwok holds
 * (they run no container): the pod's IP made an address of this host (a `local` route, so a
 * real node's pods are routed to it through their bridge gateway), and on it the listener's
 * port relayed, connection by connection, to the local Kafka node standing behind that pod.
 * kube-proxy's DNAT of the bootstrap Service, the per-broker DNS names and the enforcer's
 * ipsets then work on these addresses as on a cluster's. Needs root (ip route).
 */
export class PodAddressRelays {
  /**
   * Removes the addresses in `cidr` (a.b.0.0/16 or wider) that an earlier run made local and
   * could not remove (a run that was killed), so none outlives its pod.
   */
  static removeLeftovers(cidr: string): string[] {
    const [base, bits] = cidr.split('/');
    const toInt = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(bits));
    const start = toInt(base) - (toInt(base) % size);
    const table = execFileSync('ip', ['-4', 'route', 'show', 'table', 'local', 'type', 'local', 'dev', 'lo'], { encoding: 'utf8' });
    const removed: string[] = [];
    for (const m of table.matchAll(/^local (\d+\.\d+\.\d+\.\d+) /gm)) {
      const ip = m[1];
      if (toInt(ip) < start || toInt(ip) >= start + size) continue;
      execFileSync('ip', ['route', 'del', 'local', `${ip}/32`, 'dev', 'lo', 'table', 'local'], { stdio: 'ignore' });
      removed.push(ip);
    }
    return removed;
  }

  private readonly relays = new Map<string, { server: net.Server; target: string; ip: string }>();
  private readonly sockets = new Set<net.Socket>();

  /** Relays `ip:port` to `target` (`host:port`), replacing a relay of the same pod at another address. */
  async serve(pod: string, ip: string, port: number, target: string): Promise<void> {
    const key = `${pod}:${port}`;
    const existing = this.relays.get(key);
    if (existing && existing.ip === ip && existing.target === target) return;
    if (existing) await this.remove(key);
    execFileSync('ip', ['route', 'replace', 'local', `${ip}/32`, 'dev', 'lo', 'table', 'local']);
    const server = net.createServer((client) => relay(client, target, this.sockets));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`simulated broker pod ${pod}: cannot listen on ${ip}:${port}: ${err.message}`)));
      server.listen(port, ip, () => resolve());
    });
    this.relays.set(key, { server, target, ip });
  }

  /** `pod ip:port -> target` of every relay, for events and assertions. */
  describe(): string[] {
    return [...this.relays.entries()].map(([key, r]) => `${key.split(':')[0]} ${r.ip}:${key.split(':')[1]} -> ${r.target}`).sort();
  }

  private async remove(key: string): Promise<void> {
    const relay = this.relays.get(key)!;
    this.relays.delete(key);
    await new Promise<void>((resolve) => relay.server.close(() => resolve()));
    if (![...this.relays.values()].some((r) => r.ip === relay.ip)) {
      try {
        execFileSync('ip', ['route', 'del', 'local', `${relay.ip}/32`, 'dev', 'lo', 'table', 'local'], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const key of [...this.relays.keys()]) await this.remove(key);
  }
}
