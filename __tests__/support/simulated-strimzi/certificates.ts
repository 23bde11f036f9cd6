import { execFileSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runKeytool } from '../../../tools/kafka-tool';

/**
 * The simulated operator's cluster CA and the node certificates it signs, made with openssl as
 * Strimzi's OpenSslCertIssuer does: CA subject `O=io.strimzi, CN=cluster-ca v0`, node subject
 * `O=io.strimzi, CN=<cluster>-kafka` with the names `certificateNames` gives, PKCS12 keystores.
 * Keys stay in a private scratch directory for the operator's lifetime (the cluster CA key
 * Secret of a real operator is not reproduced).
 */
const CA_SUBJECT = ['-subj', '/O=io.strimzi/CN=cluster-ca v0', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];

export class SimulatedClusterCa {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simulated-cluster-ca-'));
  private readonly caKey = path.join(this.dir, 'ca.key');
  readonly caCertFile = path.join(this.dir, 'ca.crt');
  private serial = 1;

  constructor() {
    fs.chmodSync(this.dir, 0o700);
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', this.caKey, '-out', this.caCertFile, '-days', '365', ...CA_SUBJECT]);
  }

  /**
   * Strimzi's renewal of the CA certificate (not a key replacement): a new certificate for the
   * same key and subject, so the node certificates signed before it still verify against it.
   * Returns the new certificate (PEM); the certificates issued from now on carry it.
   */
  renew(): string {
    openssl(['req', '-x509', '-new', '-key', this.caKey, '-out', this.caCertFile, '-days', '365', ...CA_SUBJECT]);
    return this.caCert;
  }

  get caCert(): string {
    return fs.readFileSync(this.caCertFile, 'utf8');
  }

  /**
   * A PKCS12 keystore for `name` with the given subject alternative names, protected with
   * `password` (given to openssl and keytool in their environment, never on a command line).
   * Shaped like the local cluster's own keystore (a `broker` key entry and a trusted `ca`
   * entry), since Kafka refuses a dynamic keystore update that changes the number of entries.
   */
  async issue(name: string, commonName: string, sans: { dns: readonly string[]; ip: readonly string[] }, password: string): Promise<{ keystore: string; certificate: string }> {
    const base = path.join(this.dir, `${name}-${this.serial}`);
    const ext = `${base}.ext`;
    const alt = [...sans.dns.map((d) => `DNS:${d}`), ...sans.ip.map((i) => `IP:${i}`)].join(',');
    fs.writeFileSync(ext, `subjectAltName=${alt}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`);
    const env = { SIMULATED_CA_STOREPASS: password };
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/O=io.strimzi/CN=${commonName}`]);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', this.caCertFile, '-CAkey', this.caKey, '-set_serial', String(this.serial++), '-days', '365', '-out', `${base}.crt`, '-extfile', ext]);
    openssl(['pkcs12', '-export', '-in', `${base}.crt`, '-inkey', `${base}.key`, '-certfile', this.caCertFile, '-name', 'broker', '-out', `${base}.key.p12`, '-passout', 'env:SIMULATED_CA_STOREPASS'], env);
    const store = ['-storetype', 'PKCS12', '-storepass:env', 'SIMULATED_CA_STOREPASS'];
    await runKeytool(['-importkeystore', '-noprompt', '-srckeystore', `${base}.key.p12`, '-srcstoretype', 'PKCS12', '-srcstorepass:env', 'SIMULATED_CA_STOREPASS', '-destkeystore', `${base}.p12`, ...store, '-deststorepass:env', 'SIMULATED_CA_STOREPASS'], env);
    await runKeytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', this.caCertFile, '-keystore', `${base}.p12`, ...store], env);
    fs.rmSync(`${base}.key.p12`);
    fs.chmodSync(`${base}.p12`, 0o600);
    return { keystore: `${base}.p12`, certificate: `${base}.crt` };
  }

  /** SHA-256 fingerprint of a certificate file, as TLS peers report it (`AA:BB:...`). */
  static fingerprint(certificate: string): string {
    return new X509Certificate(fs.readFileSync(certificate)).fingerprint256;
  }

  /** The subject alternative names of a certificate file, as openssl prints them (`DNS:a, IP Address:1.2.3.4`). */
  static subjectAltNames(certificate: string): string {
    const text = execFileSync('openssl', ['x509', '-in', certificate, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
    return text.split('\n').slice(1).join(' ').trim();
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function openssl(args: readonly string[], env: NodeJS.ProcessEnv = {}): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}
