/**
 * Signing with cosign (key pair, no transparency log: nothing public is reachable here, and a
 * private key needs none). Signatures and SBOM attestations are stored beside the image in its
 * registry (tags sha256-<digest>.sig / .att). Production key handling: docs/services.md.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { imageTool } from './binaries';
import { imagePaths } from './layout';
import { isLoopbackRegistry } from './podman';

export interface CosignResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A signing key: a cosign key file or reference (env://VAR, a KMS URI), its password from the environment. */
export interface SigningKey {
  /** Private key: file path, env://VAR or a KMS reference. */
  readonly key: string;
  /** Password of an encrypted key file (COSIGN_PASSWORD); never logged. */
  readonly password?: string;
}

function registryFlags(reference: string): string[] {
  // Plain HTTP only for a registry on the loopback.
  return isLoopbackRegistry(reference.split('/')[0]) ? ['--allow-http-registry'] : [];
}

/** Runs cosign with its state kept inside the project cache and the key password in its environment. */
export function cosign(args: readonly string[], password?: string): CosignResult {
  const home = path.join(imagePaths.work, 'cosign-home');
  fs.mkdirSync(home, { recursive: true });
  const r = spawnSync(imageTool('cosign'), args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      // TUF state in the project cache: nothing is fetched from the public sigstore.
      TUF_ROOT: path.join(home, 'tuf'),
      COSIGN_PASSWORD: password ?? '',
    },
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function cosignOk(args: readonly string[], what: string, password?: string): string {
  const r = cosign(args, password);
  if (r.status !== 0) throw new Error(`${what} failed (cosign exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Writes an encrypted key pair `<prefix>.key` / `<prefix>.pub` into `dir`; returns both paths. */
export function generateKeyPair(dir: string, password: string, prefix = 'cosign'): { privateKey: string; publicKey: string } {
  const r = spawnSync(imageTool('cosign'), ['generate-key-pair', '--output-key-prefix', prefix], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, COSIGN_PASSWORD: password, HOME: dir },
  });
  if (r.status !== 0) throw new Error(`cosign generate-key-pair failed: ${r.stderr.trim()}`);
  return { privateKey: path.join(dir, `${prefix}.key`), publicKey: path.join(dir, `${prefix}.pub`) };
}

/** Signs `reference` (repository@digest). */
export function signImage(reference: string, key: SigningKey): void {
  requireDigest(reference);
  cosignOk(['sign', '--yes', '--key', key.key, '--tlog-upload=false', ...registryFlags(reference), reference], `signing ${reference}`, key.password);
}

/** Attaches `sbomFile` to `reference` as a signed CycloneDX attestation. */
export function attestSbom(reference: string, sbomFile: string, key: SigningKey): void {
  requireDigest(reference);
  cosignOk(
    ['attest', '--yes', '--key', key.key, '--type', 'cyclonedx', '--predicate', sbomFile, '--tlog-upload=false', ...registryFlags(reference), reference],
    `attesting the SBOM of ${reference}`,
    key.password,
  );
}

/** Verifies the signature of `reference` with `publicKey`; the result says why it failed. */
export function verifyImage(reference: string, publicKey: string): CosignResult {
  return cosign(['verify', '--key', publicKey, '--insecure-ignore-tlog=true', ...registryFlags(reference), reference]);
}

/** Verifies the CycloneDX attestation of `reference` and returns the SBOMs it carries. */
export function verifiedSboms(reference: string, publicKey: string): { result: CosignResult; sboms: Record<string, unknown>[] } {
  const result = cosign(['verify-attestation', '--key', publicKey, '--type', 'cyclonedx', '--insecure-ignore-tlog=true', ...registryFlags(reference), reference]);
  const sboms =
    result.status !== 0
      ? []
      : result.stdout
          .split('\n')
          .filter((l) => l.trim().startsWith('{'))
          .map((l) => JSON.parse(Buffer.from((JSON.parse(l) as { payload: string }).payload, 'base64').toString('utf8')) as { predicate: Record<string, unknown> })
          .map((statement) => statement.predicate);
  return { result, sboms };
}

function requireDigest(reference: string): void {
  if (!/@sha256:[0-9a-f]{64}$/.test(reference)) throw new Error(`${reference} is not a reference by digest (repository@sha256:...): sign only what cannot move`);
}
