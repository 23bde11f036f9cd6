/**
 * A real PostgreSQL for Terraform's `pg` state backend, on 127.0.0.1, data under the
 * cache directory. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
 *
 *   tsx tools/local-postgres.ts up|status|down
 */
import { execFileSync, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { paths } from './paths';

export const POSTGRES_PORT = Number(process.env.KAFKA_PLATFORM_PG_PORT ?? 29432);
const DATABASE = 'terraform_state';
const ROLE = 'terraform';
const dir = path.join(paths.cache, 'postgres');
const dataDir = path.join(dir, 'data');
const passwordFile = path.join(dir, 'password');
const logFile = path.join(dir, 'postgres.log');

export class PostgresError extends Error {}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres'))) : [];
  if (versions.length === 0) {
    throw new PostgresError('PostgreSQL server is not installed: apt-get install postgresql (bash .ci/run does it)');
  }
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
function pg(binary: string, args: string[], input?: string): string {
  const full = path.join(binDir(), binary);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', input, cwd: '/' });
  if (r.status !== 0) throw new PostgresError(`${binary} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function running(): boolean {
  if (!fs.existsSync(path.join(dataDir, 'postmaster.pid'))) return false;
  try {
    pg('pg_ctl', ['status', '-D', dataDir]);
    return true;
  } catch {
    return false;
  }
}

/** Connection string for the state database. Kept out of code and synthesized JSON: pass it as PG_CONN_STR. */
export function connectionString(): string {
  const password = fs.readFileSync(passwordFile, 'utf8').trim();
  return `postgres://${ROLE}:${encodeURIComponent(password)}@127.0.0.1:${POSTGRES_PORT}/${DATABASE}?sslmode=disable`;
}

/** Starts PostgreSQL (initializing it on first use) and returns the connection string. */
export async function postgresUp(): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    console.log(`==> initializing PostgreSQL in ${dataDir}`);
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
    pg('initdb', ['-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8']);
    fs.writeFileSync(passwordFile, crypto.randomBytes(24).toString('base64url'), { mode: 0o600 });
  }
  if (!running()) {
    if (await portOpen(POSTGRES_PORT)) {
      throw new PostgresError(`port ${POSTGRES_PORT} is already in use by another process: stop it or set KAFKA_PLATFORM_PG_PORT`);
    }
    console.log(`==> starting PostgreSQL on 127.0.0.1:${POSTGRES_PORT}`);
    if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
    pg('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', logFile, '-o', `-c listen_addresses=127.0.0.1 -c port=${POSTGRES_PORT} -c unix_socket_directories=${dir}`]);
  }
  const password = fs.readFileSync(passwordFile, 'utf8').trim();
  const connect = ['-h', dir, '-p', String(POSTGRES_PORT), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-tA'];
  const psql = (sql: string) => pg('psql', [...connect, '-c', sql]);
  if (psql(`SELECT 1 FROM pg_roles WHERE rolname='${ROLE}'`).trim() !== '1') {
    // On stdin: a command line shows up in `ps` and in the error message of a failed run.
    pg('psql', [...connect, '-f', '-'], `CREATE ROLE ${ROLE} LOGIN PASSWORD '${password}';\n`);
  }
  if (psql(`SELECT 1 FROM pg_database WHERE datname='${DATABASE}'`).trim() !== '1') {
    psql(`CREATE DATABASE ${DATABASE} OWNER ${ROLE}`);
  }
  return connectionString();
}

/** Stops PostgreSQL; its data stays. */
export function postgresDown(): void {
  if (running()) pg('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', dataDir]);
}

export function postgresRunning(): boolean {
  return running();
}

if (require.main === module) {
  const command = process.argv[2];
  (async () => {
    if (command === 'up') {
      await postgresUp();
      console.log(`PostgreSQL ready on 127.0.0.1:${POSTGRES_PORT} (connection string: tsx tools/local-postgres.ts url)`);
    } else if (command === 'down') {
      postgresDown();
      console.log('PostgreSQL stopped');
    } else if (command === 'status') {
      const up = postgresRunning();
      console.log(up ? `PostgreSQL running on 127.0.0.1:${POSTGRES_PORT}` : 'PostgreSQL stopped');
      process.exitCode = up ? 0 : 1;
    } else if (command === 'url') {
      console.log(connectionString());
    } else {
      console.error('usage: tsx tools/local-postgres.ts up|status|down|url');
      process.exitCode = 2;
    }
  })().catch((err: Error) => {
    console.error(`local-postgres: ${err.message}`);
    process.exitCode = 1;
  });
}
