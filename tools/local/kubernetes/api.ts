import * as fs from 'fs';
import * as https from 'https';
import { parse } from 'yaml';
import { sleep } from '../process';

/**
 * A small client of the Kubernetes API for the local control plane and its tests: the
 * admin kubeconfig's certificates, JSON in and out, server-side apply. No kubectl needed.
 */

/** A Kubernetes object as JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KubeObject = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

/** An error answer of the API server, with its status and message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface KubeconfigFile {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

const FIELD_MANAGER = 'kafka-platform-local';

export class KubeApi {
  private readonly agent: https.Agent;
  readonly server: string;

  /** A client with the credentials of a kubeconfig that embeds its certificates (as the local one does). */
  static fromKubeconfig(file: string): KubeApi {
    if (!fs.existsSync(file)) throw new Error(`${file} does not exist: start the local Kubernetes with \`npm run k8s:up\``);
    const config = parse(fs.readFileSync(file, 'utf8')) as KubeconfigFile;
    const context = config.contexts.find((c) => c.name === config['current-context'])!.context;
    const cluster = config.clusters.find((c) => c.name === context.cluster)!.cluster;
    const user = config.users.find((u) => u.name === context.user)!.user;
    const b64 = (s: string) => Buffer.from(s, 'base64');
    return new KubeApi(cluster.server, b64(cluster['certificate-authority-data']), b64(user['client-certificate-data']), b64(user['client-key-data']));
  }

  constructor(server: string, ca: Buffer, cert: Buffer, key: Buffer) {
    this.server = server;
    this.agent = new https.Agent({ ca, cert, key, keepAlive: true });
  }

  /** One request; rejects with KubeApiError carrying the server's own message. */
  request<T = KubeObject>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 30_000): Promise<T> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.server}${path}`,
        { method, agent: this.agent, headers: { Accept: 'application/json', ...(payload ? { 'Content-Type': contentType } : {}) }, timeout: timeoutMs },
        (res) => {
          let data = '';
          res.on('data', (d: Buffer) => (data += d.toString()));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let parsed: unknown = data;
            try {
              parsed = data.length ? JSON.parse(data) : {};
            } catch {
              // plain-text answers (/readyz)
            }
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const s = parsed as { message?: string; reason?: string };
            reject(new KubeApiError(status, s.reason ?? String(status), `${method} ${path}: ${status} ${s.message ?? data}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** The object, or undefined when the server says 404. */
  async find<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Server-side apply of `object` at its resource path (created or updated). */
  apply(path: string, object: KubeObject, subresource?: 'status'): Promise<KubeObject> {
    const suffix = subresource ? `/${subresource}` : '';
    return this.request('PATCH', `${path}${suffix}?fieldManager=${FIELD_MANAGER}&force=true`, object, 'application/apply-patch+yaml');
  }

  /** A merge patch of the object's status subresource. */
  patchStatus(path: string, status: unknown): Promise<KubeObject> {
    return this.request('PATCH', `${path}/status`, { status }, 'application/merge-patch+json');
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }

  /** Polls `check` until it returns a value (not undefined) or the time is up; the error names `what`. */
  async waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const value = await check();
        if (value !== undefined) return value;
      } catch (err) {
        last = err;
      }
      await sleep(intervalMs);
    }
    throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The REST path of a namespaced or cluster-scoped resource (core group when `group` is ''). */
export function resourcePath(group: string, version: string, plural: string, name?: string, namespace?: string): string {
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${plural}${name ? `/${name}` : ''}`;
}
