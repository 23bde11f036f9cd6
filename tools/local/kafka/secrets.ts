import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { KafkaTools, runKafkaTool, runKeytool } from '../../kafka-tool';
import { Log } from '../process';
import { LocalKafkaSpec } from './layout';

/**
 * The cluster's secrets: a local CA and broker keystore for the SASL_SSL listener, and the
 * SCRAM-SHA-512 passwords of its users. Generated once, owner-readable only, never logged.
 */

/** The SCRAM users of the SASL_SSL listener: the principals config/topics.ts grants ACLs to. */
export const LOCAL_SCRAM_USERS = ['producer', 'consumer'] as const;

export interface BrokerTls {
  readonly keystore: string;
  readonly password: string;
}

const tlsDir = (spec: LocalKafkaSpec) => path.join(spec.dir, 'tls');
const usersDir = (spec: LocalKafkaSpec) => path.join(spec.dir, 'users');

/** PEM certificate of the CA that signed the brokers' TLS certificate (exists after the cluster's first start). */
export function caFile(spec: LocalKafkaSpec): string {
  return path.join(tlsDir(spec), 'ca.crt');
}

/** File holding the SCRAM-SHA-512 password of a user, e.g. `producer` (exists after the cluster's first start). */
export function userPasswordFile(spec: LocalKafkaSpec, name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`invalid SCRAM user name "${name}"`);
  return path.join(usersDir(spec), `${name}.password`);
}

/** Reads a secret file, creating it with a random value (mode 0600) the first time. */
function loadOrCreateSecret(file: string): string {
  if (fs.existsSync(file)) {
    const value = fs.readFileSync(file, 'utf8').trim();
    if (value.length > 0) return value;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // base64url has no ',', '=', '[' or ']', which Kafka's config syntax would misread.
  const value = randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return value;
}

/**
 * A local CA and a broker keystore (PKCS12, SAN IP:127.0.0.1 and DNS:localhost) signed by it,
 * made with the JDK's keytool once; later calls only read them. Built in a scratch directory
 * and renamed into place, so an interrupted run never leaves half a keystore behind. Kept
 * across `down --purge`, so clients keep trusting the CA.
 */
export async function ensureTls(spec: LocalKafkaSpec, log: Log): Promise<BrokerTls> {
  const dir = tlsDir(spec);
  const files = { password: path.join(dir, 'keystore.password'), ca: path.join(dir, 'ca.p12'), broker: path.join(dir, 'broker.p12') };
  if ([files.password, files.ca, files.broker, caFile(spec)].every((f) => fs.existsSync(f))) {
    return { keystore: files.broker, password: fs.readFileSync(files.password, 'utf8').trim() };
  }
  fs.mkdirSync(spec.dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(spec.dir, 'tls-new-'));
  fs.chmodSync(work, 0o700);
  try {
    const password = loadOrCreateSecret(path.join(work, 'keystore.password'));
    const env = { LOCAL_KAFKA_STOREPASS: password };
    const store = (file: string) => ['-keystore', path.join(work, file), '-storetype', 'PKCS12', '-storepass:env', 'LOCAL_KAFKA_STOREPASS'];
    const san = 'SAN=IP:127.0.0.1,DNS:localhost';
    await runKeytool(['-genkeypair', '-alias', 'ca', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', `CN=kafka-platform ${spec.name} CA`, '-ext', 'BC:c=ca:true', ...store('ca.p12')], env);
    await runKeytool(['-exportcert', '-rfc', '-alias', 'ca', '-file', path.join(work, 'ca.crt'), ...store('ca.p12')], env);
    await runKeytool(['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', 'CN=localhost', '-ext', san, ...store('broker.p12')], env);
    await runKeytool(['-certreq', '-alias', 'broker', '-file', path.join(work, 'broker.csr'), ...store('broker.p12')], env);
    await runKeytool(
      ['-gencert', '-alias', 'ca', '-rfc', '-validity', '3650', '-infile', path.join(work, 'broker.csr'), '-outfile', path.join(work, 'broker.crt'),
        '-ext', san, '-ext', 'KU:c=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth', ...store('ca.p12')],
      env,
    );
    // The CA first, so keytool can chain the signed certificate to it on import.
    await runKeytool(['-importcert', '-noprompt', '-alias', 'ca', '-file', path.join(work, 'ca.crt'), ...store('broker.p12')], env);
    await runKeytool(['-importcert', '-noprompt', '-alias', 'broker', '-file', path.join(work, 'broker.crt'), ...store('broker.p12')], env);
    for (const f of ['broker.csr', 'broker.crt']) fs.rmSync(path.join(work, f));
    for (const f of ['ca.p12', 'broker.p12']) fs.chmodSync(path.join(work, f), 0o600);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(work, dir);
    log(`Created a local CA and broker certificate in ${dir} (clients trust ${caFile(spec)})`);
    return { keystore: files.broker, password };
  } catch (err) {
    fs.rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Creates or updates the SCRAM-SHA-512 credentials of `LOCAL_SCRAM_USERS` through the plaintext
 * listener, whose ANONYMOUS principal is a super user. Upserting the same password is harmless,
 * so this runs on every start. The password goes to Kafka's ConfigCommand in a 0600 file,
 * not on its command line.
 */
export async function ensureScramUsers(spec: LocalKafkaSpec, bootstrapServers: string): Promise<void> {
  await Promise.all(
    LOCAL_SCRAM_USERS.map(async (name) => {
      const password = loadOrCreateSecret(userPasswordFile(spec, name));
      // A name of its own per call: two processes may bring the same cluster up at once.
      const configFile = path.join(usersDir(spec), `.${name}.${randomBytes(6).toString('hex')}.scram.properties`);
      fs.writeFileSync(configFile, `SCRAM-SHA-512=iterations=8192,password=${password}\n`, { mode: 0o600 });
      try {
        await runKafkaTool(
          KafkaTools.configs,
          ['--bootstrap-server', bootstrapServers, '--alter', '--entity-type', 'users', '--entity-name', name, '--add-config-file', configFile],
          { timeoutMs: 60_000 },
        );
      } finally {
        fs.rmSync(configFile, { force: true });
      }
    }),
  );
}
