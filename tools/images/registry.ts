/**
 * The local OCI registry: the CNCF distribution registry on 127.0.0.1, at the host and port of
 * the `local` environment's `imageRegistry` (config/environments.ts), storing under
 * .cache/registry. Started on demand by `npm run images` and the image tests; it keeps running
 * (like the local Kafka cluster) until `npm run images -- registry down`.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { environments } from '../../config';
import { HOST, Log, ensurePortFree, isAlive, runningPidFrom, sleep, tailFile, waitForExit } from '../local/process';
import { imageTool } from './binaries';
import { imagePaths } from './layout';

/** A registry address split into its parts. */
export interface RegistryAddress {
  /** host:port, what podman and cosign connect to. */
  readonly host: string;
  /** Repository prefix inside the registry (may be empty). */
  readonly prefix: string;
}

export function parseRegistry(imageRegistry: string): RegistryAddress {
  const [host, ...rest] = imageRegistry.split('/');
  return { host, prefix: rest.join('/') };
}

/** Where the local registry listens, from the `local` environment. */
export function localRegistryAddress(): RegistryAddress & { readonly port: number } {
  const address = parseRegistry(environments.local.imageRegistry);
  const m = /^127\.0\.0\.1:(\d+)$/.exec(address.host);
  if (!m) {
    throw new Error(`environments.local.imageRegistry is "${environments.local.imageRegistry}": the local registry must be 127.0.0.1:<port>[/path] (edit config/environments.ts)`);
  }
  return { ...address, port: Number(m[1]) };
}

const PID_FILE = path.join(imagePaths.registry, 'registry.pid');
const LOG_FILE = path.join(imagePaths.registry, 'registry.log');
const CONFIG_FILE = path.join(imagePaths.registry, 'config.yml');
const DATA_DIR = path.join(imagePaths.registry, 'data');

/** The running registry's pid, if it is ours. */
export function registryPid(): number | undefined {
  return runningPidFrom(PID_FILE, CONFIG_FILE);
}

/** GET http://127.0.0.1:port`pathname`: status code, or undefined when nothing answers. */
export function registryGet(port: number, pathname: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders } | undefined> {
  return new Promise((resolve) => {
    const req = http.request({ host: HOST, port, path: pathname, method, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function writeConfig(port: number): void {
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${DATA_DIR}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${HOST}:${port}`,
    'health:',
    '  storagedriver:',
    '    enabled: true',
    '    interval: 10s',
    '    threshold: 3',
    '',
  ].join('\n');
  fs.writeFileSync(CONFIG_FILE, config);
}

/** Starts the registry unless it runs; resolves once it answers the /v2/ API. Returns true when this call started it. */
export async function registryUp(log: Log = console.log): Promise<boolean> {
  const { port, host } = localRegistryAddress();
  if ((await registryGet(port, '/v2/'))?.status === 200) {
    // Ours, or another clone's on this machine: either serves the same API on loopback.
    log(`registry: running on ${host}${registryPid() === undefined ? ' (started elsewhere)' : ''}`);
    return false;
  }
  const binary = imageTool('registry');
  await ensurePortFree(port, 'the local OCI registry', 'environments.local.imageRegistry');
  fs.mkdirSync(DATA_DIR, { recursive: true });
  writeConfig(port);
  const out = fs.openSync(LOG_FILE, 'a');
  // No tracing exporter: nothing listens for it here.
  const child = spawn(binary, ['serve', CONFIG_FILE], { detached: true, stdio: ['ignore', out, out], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
  fs.closeSync(out);
  child.unref();
  fs.writeFileSync(PID_FILE, `${child.pid}\n`);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await registryGet(port, '/v2/'))?.status === 200) {
      log(`registry: started on ${host} (pid ${child.pid}, storage ${DATA_DIR})`);
      return true;
    }
    if (!isAlive(child.pid!)) break;
    await sleep(200);
  }
  throw new Error(`the local registry did not answer on ${host} within 30 s; last lines of ${LOG_FILE}:\n${tailFile(LOG_FILE)}`);
}

/** Stops the registry if it runs (its storage stays). */
export async function registryDown(log: Log = console.log): Promise<void> {
  const pid = registryPid();
  if (pid === undefined) {
    log('registry: not running');
    return;
  }
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid, 15_000))) process.kill(pid, 'SIGKILL');
  fs.rmSync(PID_FILE, { force: true });
  log(`registry: stopped (pid ${pid})`);
}

/** One line: running or not, where, and how many repositories it holds. */
export async function registryStatus(): Promise<string> {
  const { host, port } = localRegistryAddress();
  const pid = registryPid();
  if (pid === undefined) return `registry: not running (would listen on ${host})`;
  const catalog = await registryGet(port, '/v2/_catalog');
  const repositories = catalog?.status === 200 ? (JSON.parse(catalog.body) as { repositories: string[] }).repositories : [];
  return `registry: running on ${host} (pid ${pid}), repositories: ${repositories.join(', ') || 'none'}`;
}
