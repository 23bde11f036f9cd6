import * as fs from 'fs';
import * as net from 'net';
import { environments } from '../../../../config';
import {
  LOCAL_SCRAM_USERS,
  clusterStatus,
  ensurePortFree,
  localCaFile,
  localNode,
  localNodes,
  localUserPasswordFile,
  scramLogin,
  startNode,
  stopNode,
  waitForHealthy,
} from '../../../../tools/local/kafka';

const { clientBasePort, nodes } = environments.local.localCluster;
const ids = localNodes().map((n) => n.id);

function occupy(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

/** One SCRAM login on one broker with the local cluster's CA and the user's password file. */
async function loginAs(port: number, username: string): Promise<string> {
  const error = await scramLogin(`127.0.0.1:${port}`, fs.readFileSync(localCaFile(), 'utf8'), username, fs.readFileSync(localUserPasswordFile(username), 'utf8').trim(), 'cluster-test');
  return error ?? 'authenticated';
}

const release = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('local Kafka cluster', () => {
  test('status shows every node running, a quorum leader and all brokers registered', async () => {
    const status = await clusterStatus();

    expect(ids).toHaveLength(nodes);
    expect(status.bootstrapServers).toBe(ids.map((id) => `127.0.0.1:${clientBasePort + id - 1}`).join(','));
    for (const node of status.nodes) {
      expect(node).toMatchObject({ alive: true, clientListening: true, controllerListening: true, saslListening: true });
    }
    expect(ids).toContain(status.quorum?.leaderId);
    expect(status.quorum?.voters).toEqual(ids);
    expect(status.brokers).toEqual(ids);
    expect(status.healthy).toBe(true);
  });

  test('a port held by another process is reported with its number and the config key to change', async () => {
    const server = await occupy(0);
    const port = (server.address() as net.AddressInfo).port;
    try {
      await expect(ensurePortFree(port, 'node 1 client listener', 'localCluster.clientBasePort')).rejects.toThrow(
        `port ${port} (node 1 client listener) is already in use by another process: stop it or change localCluster.clientBasePort in config/environments.ts`,
      );
    } finally {
      await release(server);
    }
    await expect(ensurePortFree(port, 'node 1 client listener', 'localCluster.clientBasePort')).resolves.toBeUndefined();
  });

  describe('one node stopped and started again', () => {
    const victim = ids[ids.length - 1];
    const survivors = ids.filter((id) => id !== victim);

    // Later suites need all brokers, even if an assertion below fails half-way.
    afterAll(async () => {
      await startNode(victim, { log: () => undefined });
      await waitForHealthy({ timeoutMs: 90_000, log: () => undefined });
    }, 120_000);

    test('the remaining nodes keep a quorum leader and fence the stopped broker', async () => {
      expect(await stopNode(victim, { log: () => undefined })).toBe(true);

      const status = await eventually(clusterStatus, (s) => JSON.stringify(s.brokers) === JSON.stringify(survivors), 20_000);
      expect(status.nodes.find((n) => n.id === victim)).toMatchObject({ alive: false, clientListening: false, controllerListening: false, saslListening: false });
      expect(status.brokers).toEqual(survivors);
      // Two of three voters are still a majority.
      expect(survivors).toContain(status.quorum?.leaderId);
      expect(status.quorum?.voters).toEqual(ids);
      expect(status.healthy).toBe(false);
    }, 90_000);

    test('the stopped node does not start while another process holds its port', async () => {
      const server = await occupy(clientBasePort + victim - 1);
      try {
        await expect(startNode(victim, { log: () => undefined })).rejects.toThrow(
          `port ${clientBasePort + victim - 1} (node ${victim} client listener) is already in use by another process`,
        );
      } finally {
        await release(server);
      }
    });

    test('the restarted node rejoins, all brokers are registered again and its SCRAM users log in at once', async () => {
      await startNode(victim, { log: () => undefined });
      const status = await waitForHealthy({ timeoutMs: 90_000, log: () => undefined });
      expect(status.brokers).toEqual(ids);
      expect(status.quorum?.voters).toEqual(ids);
      expect(status.healthy).toBe(true);
      // Healthy includes the credentials: a restarted broker replays them from the metadata log after it answers.
      const logins = await Promise.all(LOCAL_SCRAM_USERS.map(async (user) => [user, await loginAs(localNode(victim).saslPort, user)]));
      expect(Object.fromEntries(logins)).toEqual(Object.fromEntries(LOCAL_SCRAM_USERS.map((user) => [user, 'authenticated'])));
    }, 120_000);
  });
});
