import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { LOCAL_KAFKA_DIR } from '../../tools/local/kafka';
import { PROJECT_ROOT, paths } from '../../tools/paths';

/**
 * Finds secrets in text: the actual passwords the local clusters generated, and the shapes of
 * private keys, tokens and credentials. A finding names the place and the kind, never the value,
 * so a failing test cannot leak what it found.
 */

/** A secret value this machine generated, known by the file it lives in. */
export interface KnownSecret {
  readonly file: string;
  readonly value: string;
}

export interface Finding {
  /** File (and line) or stream where it was found. */
  readonly where: string;
  /** What was found: a pattern name or the file of the known secret. */
  readonly what: string;
}

/** Shapes of secrets that must never be in code, synthesized JSON, logs or the repo. */
export const SECRET_PATTERNS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  // The header alone is fine (parsers name it); key material after it is not.
  { name: 'PEM private key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----\s*(?:[A-Za-z0-9-]+: [^\n]*\n\s*)*[A-Za-z0-9+/=]{40,}/ },
  { name: 'AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { name: 'Slack token', pattern: /\bxox[abposr]-[0-9]{6,}-[A-Za-z0-9-]{10,}/ },
  { name: 'Slack webhook URL', pattern: /hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{16,}/ },
  { name: 'JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  // A URL with a user and a literal password before the host (an interpolation such as ${...} is fine).
  { name: 'credentials in a URL', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9._%-]+:(?!\$\{)[^\s:@/"'`]{6,}@[A-Za-z0-9.-]+/ },
  // password = "literal" / "password": "literal" (not an interpolation, not empty).
  { name: 'literal password assignment', pattern: /\b(?:password|passwd|secret|token|api[_-]?key)["']?\s*[:=]\s*["'](?![$<{])[^"'\s]{8,}["']/i },
];

/** Directories of generated state that may hold secrets: every local Kafka cluster (it has a cluster.json) and PostgreSQL. */
export function generatedDirs(): string[] {
  const kafkaClusters = fs.existsSync(paths.cache)
    ? fs
        .readdirSync(paths.cache, { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(path.join(paths.cache, e.name, 'cluster.json')))
        .map((e) => path.join(paths.cache, e.name))
    : [];
  return [...new Set([LOCAL_KAFKA_DIR, ...kafkaClusters, path.join(paths.cache, 'postgres')])].filter((d) => fs.existsSync(d));
}

/** Files under `dir` (recursively), without the brokers' and PostgreSQL's data directories. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'data' ? [] : filesUnder(p);
    return e.isFile() ? [p] : [];
  });
}

/** The passwords this machine generated: every `password` / `*.password` file of `generatedDirs()`. */
export function generatedSecrets(): KnownSecret[] {
  return generatedDirs()
    .flatMap(filesUnder)
    .filter((f) => /(^|\/)(password|[^/]+\.password)$/.test(f))
    .map((f) => ({ file: path.relative(PROJECT_ROOT, f), value: fs.readFileSync(f, 'utf8').trim() }))
    .filter((s) => s.value.length >= 8);
}

/** Findings in one text; `where` names it in the result. */
export function findSecrets(where: string, text: string, known: readonly KnownSecret[]): Finding[] {
  const findings: Finding[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  for (const s of known) {
    const at = text.indexOf(s.value);
    if (at >= 0) findings.push({ where: `${where}:${lineOf(at)}`, what: `the password in ${s.file}` });
  }
  for (const { name, pattern } of SECRET_PATTERNS) {
    const m = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    for (const match of text.matchAll(m)) findings.push({ where: `${where}:${lineOf(match.index ?? 0)}`, what: name });
  }
  return findings;
}

/** Findings in every file under `dir`. */
export function findSecretsInDir(dir: string, known: readonly KnownSecret[]): Finding[] {
  const findings: Finding[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) findings.push(...findSecrets(p, fs.readFileSync(p, 'utf8'), known));
    }
  };
  walk(dir);
  return findings;
}

/** Runs git in the work tree and returns its NUL-separated output as a list. */
export function gitList(args: readonly string[]): string[] {
  return execFileSync('git', [...args, '-z'], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\0')
    .filter((f) => f.length > 0);
}
