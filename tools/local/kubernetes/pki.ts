import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Log } from '../process';
import { LocalKubernetesLayout } from './layout';

/**
 * The control plane's certificates, made with openssl once and kept across restarts (and
 * across `down --purge`, so kubeconfigs handed out stay valid): a cluster CA and the certificates
 * it signs, a front-proxy CA for the aggregation layer, and the service-account key pair.
 * Keys are ECDSA P-256 (fast to make, accepted everywhere here), owner-readable only.
 */

/** A client identity: Kubernetes takes the user from CN and groups from O. */
export interface ClientIdentity {
  readonly file: string;
  readonly commonName: string;
  readonly organization?: string;
}

/** The clients of the API server, one certificate and kubeconfig each. */
export const CLIENTS = {
  admin: { file: 'admin', commonName: 'kafka-platform-admin', organization: 'system:masters' },
  controllerManager: { file: 'kube-controller-manager', commonName: 'system:kube-controller-manager' },
  scheduler: { file: 'kube-scheduler', commonName: 'system:kube-scheduler' },
  // kwok writes node and pod status for every simulated node: simplest as a cluster admin.
  kwok: { file: 'kwok', commonName: 'kwok', organization: 'system:masters' },
} as const satisfies Record<string, ClientIdentity>;

/** Paths of one key pair and certificate in the PKI folder. */
export const pkiFile = (layout: LocalKubernetesLayout, name: string, ext: 'crt' | 'key' | 'pub') => path.join(layout.pkiDir, `${name}.${ext}`);

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message} (openssl comes with the bootstrap: npm run bootstrap)`);
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = ['-days', '3650'];

function makeCa(work: string, name: string, commonName: string): void {
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.crt`, ...DAYS, '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
    work,
  );
}

function makeSigned(work: string, ca: string, name: string, subject: string, extensions: string[]): void {
  openssl(['req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], work);
  const ext = path.join(work, `${name}.ext`);
  fs.writeFileSync(ext, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...extensions].join('\n') + '\n');
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, ...DAYS, '-extfile', ext], work);
  fs.rmSync(path.join(work, `${name}.csr`));
  fs.rmSync(ext);
}

const subjectOf = (c: ClientIdentity) => `${c.organization ? `/O=${c.organization}` : ''}/CN=${c.commonName}`;

/** Creates the PKI unless complete; built in a scratch folder and renamed into place. */
export function ensurePki(layout: LocalKubernetesLayout, log: Log): void {
  const marker = path.join(layout.pkiDir, '.complete');
  if (fs.existsSync(marker)) return;
  fs.mkdirSync(layout.dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(layout.dir, 'pki-new-'));
  fs.chmodSync(work, 0o700);
  try {
    makeCa(work, 'ca', 'kafka-platform local-kubernetes CA');
    makeSigned(work, 'ca', 'kube-apiserver', '/CN=kube-apiserver', [
      'extendedKeyUsage=serverAuth',
      // 10.96.0.1: the `kubernetes` Service's address in service-cluster-ip-range.
      'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
    ]);
    makeSigned(work, 'ca', 'kube-apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', ['extendedKeyUsage=clientAuth']);
    for (const client of Object.values(CLIENTS)) makeSigned(work, 'ca', client.file, subjectOf(client), ['extendedKeyUsage=clientAuth']);
    makeCa(work, 'front-proxy-ca', 'kafka-platform local-kubernetes front-proxy CA');
    makeSigned(work, 'front-proxy-ca', 'front-proxy-client', '/CN=front-proxy-client', ['extendedKeyUsage=clientAuth']);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'service-account.key'], work);
    openssl(['pkey', '-in', 'service-account.key', '-pubout', '-out', 'service-account.pub'], work);
    for (const f of fs.readdirSync(work)) fs.chmodSync(path.join(work, f), f.endsWith('.key') ? 0o600 : 0o644);
    fs.writeFileSync(path.join(work, '.complete'), `${new Date().toISOString()}\n`);
    fs.rmSync(layout.pkiDir, { recursive: true, force: true });
    fs.renameSync(work, layout.pkiDir);
    log(`Created the control plane's CA and certificates in ${layout.pkiDir}`);
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/** A kubeconfig for `client` with the certificates embedded, so the file stands alone. */
export function renderKubeconfig(layout: LocalKubernetesLayout, client: ClientIdentity, server: string): string {
  const b64 = (file: string) => fs.readFileSync(file).toString('base64');
  const name = 'kafka-platform-local';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pkiFile(layout, 'ca', 'crt'))}`,
    'users:',
    `- name: ${client.file}`,
    '  user:',
    `    client-certificate-data: ${b64(pkiFile(layout, client.file, 'crt'))}`,
    `    client-key-data: ${b64(pkiFile(layout, client.file, 'key'))}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${client.file}`,
    `current-context: ${name}`,
    '',
  ].join('\n');
}

/** The certificates of a real node, in their own folder of the PKI: made once per node name and address. */
export interface NodePki {
  /** `system:node:<name>` in `system:nodes`: what the Node authorizer and NodeRestriction expect. */
  readonly kubelet: ClientIdentity;
  /** The kubelet's serving certificate (its address as SAN), so the API server can verify it. */
  readonly servingCert: string;
  readonly servingKey: string;
  /** `system:kube-proxy`, bound by the API server's default RBAC to `system:node-proxier`. */
  readonly kubeProxy: ClientIdentity;
  /** The NetworkPolicy enforcer, bound to its own read-only ClusterRole. */
  readonly policyEnforcer: ClientIdentity;
}

export function ensureNodePki(layout: LocalKubernetesLayout, nodeName: string, nodeIp: string, log: Log): NodePki {
  const folder = `node-${nodeName}`;
  const dir = path.join(layout.pkiDir, folder);
  const id = (file: string, commonName: string, organization?: string): ClientIdentity => ({ file: `${folder}/${file}`, commonName, organization });
  const pki: NodePki = {
    kubelet: id('kubelet-client', `system:node:${nodeName}`, 'system:nodes'),
    servingCert: path.join(dir, 'kubelet-serving.crt'),
    servingKey: path.join(dir, 'kubelet-serving.key'),
    kubeProxy: id('kube-proxy', 'system:kube-proxy'),
    policyEnforcer: id('policy-enforcer', 'kafka-platform:policy-enforcer'),
  };
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === nodeIp) return pki;
  const work = fs.mkdtempSync(path.join(layout.pkiDir, 'node-new-'));
  try {
    for (const f of ['ca.crt', 'ca.key']) fs.copyFileSync(path.join(layout.pkiDir, f), path.join(work, f));
    for (const client of [pki.kubelet, pki.kubeProxy, pki.policyEnforcer]) {
      makeSigned(work, 'ca', path.basename(client.file), subjectOf(client), ['extendedKeyUsage=clientAuth']);
    }
    makeSigned(work, 'ca', 'kubelet-serving', `/O=system:nodes/CN=system:node:${nodeName}`, ['extendedKeyUsage=serverAuth', `subjectAltName=IP:${nodeIp},DNS:${nodeName}`]);
    for (const f of ['ca.crt', 'ca.key', 'ca.srl']) fs.rmSync(path.join(work, f), { force: true });
    for (const f of fs.readdirSync(work)) fs.chmodSync(path.join(work, f), f.endsWith('.key') ? 0o600 : 0o644);
    fs.writeFileSync(path.join(work, '.complete'), `${nodeIp}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(work, dir);
    log(`Created the certificates of node ${nodeName} (${nodeIp}) in ${dir}`);
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
  return pki;
}
