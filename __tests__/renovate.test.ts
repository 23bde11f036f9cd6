import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { versions } from '../config';
import { ensureNpmTool } from '../tools/npm-tools';
import { PinLeaf, VERSIONS_FILE, versionLeaves } from './support/version-pins';

const ROOT = path.resolve(__dirname, '..');
const CONFIG_FILE = path.join(ROOT, 'renovate.json');

interface CustomManager {
  readonly customType: string;
  readonly managerFilePatterns: readonly string[];
  readonly matchStrings: readonly string[];
  readonly depNameTemplate?: string;
}
interface PackageRule {
  readonly matchDepNames?: readonly string[];
  readonly groupName?: string;
  readonly [key: string]: unknown;
}
interface RenovateConfig {
  readonly extends: readonly string[];
  readonly customManagers: readonly CustomManager[];
  readonly packageRules: readonly PackageRule[];
}
interface ExtractedDep {
  readonly depName?: string;
  readonly currentValue?: string;
  readonly currentDigest?: string;
  readonly datasource?: string;
  readonly skipReason?: string;
}
interface PackageFile {
  readonly packageFile: string;
  readonly lockFiles?: readonly string[];
  readonly deps: readonly ExtractedDep[];
}

const config = JSON.parse(fs.readFileSync(CONFIG_FILE, 'utf8')) as RenovateConfig;

/** Strings of config/versions.ts that name a thing rather than a version of it. */
const IDENTITY_KEYS = new Set(['namespace', 'type', 'goModule', 'repository', 'chart', 'package', 'groupId', 'artifactId', 'npmPackage', 'bin', 'scala']);
/** Pins with no release feed of their own: they follow another pin, by hand, in the same pull request. */
const COMPANIONS: Record<string, string> = {
  'node.integrity': 'node.version', // tools/node-lts.sh refuses a mismatch and prints the integrity to pin
  'node.npm': 'node.version', // the npm release that Node.js release bundles
  'providers.kubernetes.goVersion': 'providers.kubernetes.version', // pseudo-version of the release tag (no /v3 module path)
  'providers.helm.goVersion': 'providers.helm.version',
  'kafka.metadataVersion': 'kafka.version', // the later second step of a Kafka upgrade (docs/upgrades.md)
  'imageTools.debianSuite': 'images.nodeRuntime', // the Debian release the distroless runtime is built on
  'traceBackend.jaeger.release': 'traceBackend.jaeger.goVersion', // Jaeger's v2.x tag on the commit of the module's v1.x tag
};
/** Copied from a release's files: the table of Kafka versions Strimzi supports moves with the Strimzi chart. */
const COMPANION_PREFIXES: Record<string, string> = { 'strimziSupportedKafka.': 'charts.strimzi.version' };
/** Strings that are no dependency: never matched by a manager. */
const UNMANAGED: Record<string, string> = {
  'terraform.minimumTerraform': 'a floor for a Terraform found on PATH; nothing is installed from it',
  'images.services': "the project's own image tag",
};

function ownerOf(leaf: PinLeaf): string | undefined {
  return COMPANIONS[leaf.path] ?? Object.entries(COMPANION_PREFIXES).find(([prefix]) => leaf.path.startsWith(prefix))?.[1];
}

/** Renovate's pattern syntax `/regex/` for file names. */
function filePattern(pattern: string): RegExp {
  const m = /^\/(.*)\/$/.exec(pattern);
  if (!m) throw new Error(`managerFilePatterns entry ${pattern} is not a /regex/`);
  return new RegExp(m[1]);
}

/** The custom managers' matches in config/versions.ts, each with the offset of its version. */
function versionsMatches(): { depName: string; currentValue: string; offset: number }[] {
  const text = fs.readFileSync(VERSIONS_FILE, 'utf8');
  const found: { depName: string; currentValue: string; offset: number }[] = [];
  for (const manager of config.customManagers) {
    if (!manager.managerFilePatterns.some((p) => filePattern(p).test('config/versions.ts'))) continue;
    for (const source of manager.matchStrings) {
      // The `d` flag gives each group's offsets; Renovate itself runs these with RE2 or RegExp.
      for (const m of text.matchAll(new RegExp(source, 'gd'))) {
        const groups = m.groups ?? {};
        const indices = (m as RegExpMatchArray & { indices: { groups: Record<string, [number, number]> } }).indices.groups;
        found.push({ depName: groups.depName ?? manager.depNameTemplate ?? '', currentValue: groups.currentValue, offset: indices.currentValue[0] });
      }
    }
  }
  return found;
}

/** The groups whose rules match a dependency name. */
function groupsOf(depName: string): string[] {
  return config.packageRules.filter((r) => r.groupName && r.matchDepNames?.includes(depName)).map((r) => r.groupName!);
}

function canUnshareNetwork(): boolean {
  return spawnSync('unshare', ['--net', 'true']).status === 0;
}

/** Runs a Renovate executable with no network at all where the machine allows it (a network namespace of its own). */
function runOffline(bin: string, args: string[], cwd: string): { status: number; output: string } {
  const [cmd, argv] = canUnshareNetwork() ? ['unshare', ['--net', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, output: `${r.stdout}\n${r.stderr}` };
}

/** Renovate's warnings and errors from its JSON log lines (the rest is progress). */
function problems(output: string): string {
  const lines = output.split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { level: number; msg: string; loggerErrors?: { msg: string; range?: string }[] };
      return entry.level >= 40 ? [entry.msg, ...(entry.loggerErrors ?? []).map((e) => `  ${e.msg}${e.range ? ` (needs Node.js ${e.range})` : ''}`)] : [];
    } catch {
      return line.trim() ? [line] : [];
    }
  });
  return lines.join('\n').slice(-4000);
}

describe('renovate.json', () => {
  let validator: string;
  let renovate: string;
  let extracted: Record<string, PackageFile[]>;

  beforeAll(async () => {
    validator = await ensureNpmTool(versions.devTools.renovate);
    renovate = path.join(path.dirname(validator), 'renovate');
    // Renovate's own extraction on a copy of what it reads, committed (its local platform reads git).
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'renovate-extract-'));
    for (const rel of ['renovate.json', 'config/versions.ts', 'package.json', 'package-lock.json', 'services/package.json', 'services/package-lock.json', '.github/workflows', 'docker']) {
      fs.cpSync(path.join(ROOT, rel), path.join(repo, rel), { recursive: true });
    }
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@127.0.0.1', ...args], { cwd: repo, stdio: 'ignore' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'snapshot');
    const report = path.join(repo, '..', `${path.basename(repo)}-report.json`);
    const r = runOffline(renovate, ['--platform=local', '--dry-run=extract', '--report-type=file', `--report-path=${report}`], repo);
    if (r.status !== 0) throw new Error(`renovate --dry-run=extract failed (exit ${r.status}):\n${problems(r.output)}`);
    const parsed = JSON.parse(fs.readFileSync(report, 'utf8')) as { repositories: Record<string, { packageFiles: Record<string, PackageFile[]> }> };
    extracted = parsed.repositories.local.packageFiles;
  }, 15 * 60 * 1000);

  test("passes Renovate's own validator, which refuses an unknown option by name", () => {
    const ok = runOffline(validator, ['--strict'], ROOT);
    expect(`${ok.status}\n${ok.output}`).toMatch(/^0\n[\s\S]*renovate\.json[\s\S]*validated successfully/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'renovate-bad-'));
    fs.writeFileSync(path.join(dir, 'renovate.json'), JSON.stringify({ ...config, groupNam: 'typo' }));
    const bad = runOffline(validator, ['--strict'], dir);
    expect(bad.status).not.toBe(0);
    expect(bad.output).toContain('Invalid configuration option: groupNam');
  });

  test('uses built-in presets only: nothing is fetched from a repository', () => {
    // Built-in presets have no `>` (repository) or `:`-less host part such as github>owner/repo.
    for (const preset of config.extends) expect(preset).toMatch(/^(config|helpers|group|monorepo|:)[\w:-]*[\w-]$|^:[\w-]+$/);
  });

  test("finds, as Renovate extracts them, package.json, the services' manifest and lock, the workflows' actions and the images", () => {
    const files = (manager: string) => (extracted[manager] ?? []).map((f) => f.packageFile).sort();
    expect(files('npm')).toEqual(['package.json', 'services/package.json']);
    expect(extracted.npm.find((f) => f.packageFile === 'services/package.json')!.lockFiles).toEqual(['services/package-lock.json']);
    const workflows = fs.readdirSync(path.join(ROOT, '.github', 'workflows')).map((f) => `.github/workflows/${f}`).sort();
    expect(files('github-actions')).toEqual(workflows);
    const actions = extracted['github-actions'].flatMap((f) => f.deps).map((d) => d.depName);
    expect(actions).toEqual(expect.arrayContaining(['actions/checkout', 'actions/setup-node', 'node']));
    expect(files('dockerfile')).toContain('docker/services.Dockerfile');
    expect(files('docker-compose')).toEqual(['docker/compose.yaml']);
  });

  test('tracks every pin of config/versions.ts with one custom manager match, and Renovate extracts the same', () => {
    const leaves = versionLeaves().filter((l) => !IDENTITY_KEYS.has(l.path.split('.').pop()!));
    const matches = versionsMatches();
    const managed = leaves.filter((l) => !ownerOf(l) && !UNMANAGED[l.path]);
    const problems: string[] = [];
    for (const leaf of leaves) {
      const hits = matches.filter((m) => m.offset >= leaf.start && m.offset < leaf.end);
      if (managed.includes(leaf) && hits.length !== 1) problems.push(`${leaf.path} ('${leaf.value}'): ${hits.length} manager matches, expected 1 (add a \`// renovate: datasource=... depName=...\` line above it)`);
      if (!managed.includes(leaf) && hits.length !== 0) problems.push(`${leaf.path} is listed as following another pin or unmanaged, but a manager matches it`);
    }
    for (const leaf of leaves) {
      const owner = ownerOf(leaf);
      if (owner && !managed.some((l) => l.path === owner)) problems.push(`${leaf.path} follows ${owner}, which is no managed pin`);
    }
    expect(problems).toEqual([]);
    const renovateSaw = (extracted.regex ?? []).filter((f) => f.packageFile === 'config/versions.ts').flatMap((f) => f.deps);
    expect(renovateSaw.filter((d) => d.skipReason)).toEqual([]);
    const key = (d: { depName?: string; currentValue?: string }) => `${d.depName} ${d.currentValue}`;
    expect(renovateSaw.map(key).sort()).toEqual(matches.map(key).sort());
  });

  test("maps every pin of config/versions.ts to exactly one group, so one pull request bumps one stack's pins", () => {
    // Groups are assigned by dependency name only, so this evaluation is Renovate's.
    for (const rule of config.packageRules.filter((r) => r.groupName)) {
      expect(Object.keys(rule).filter((k) => k.startsWith('match'))).toEqual(['matchDepNames']);
    }
    const matches = versionsMatches();
    const leaves = versionLeaves().filter((l) => !IDENTITY_KEYS.has(l.path.split('.').pop()!) && !UNMANAGED[l.path]);
    const groupOfLeaf = (leaf: PinLeaf): string[] => {
      const owner = ownerOf(leaf);
      const target = owner ? leaves.find((l) => l.path === owner)! : leaf;
      const hit = matches.find((m) => m.offset >= target.start && m.offset < target.end);
      return hit ? groupsOf(hit.depName) : [];
    };
    const table = Object.fromEntries(leaves.map((l) => [l.path, groupOfLeaf(l)]));
    const wrong = Object.entries(table).filter(([, groups]) => groups.length !== 1);
    expect(wrong).toEqual([]);
    // The same dependency found elsewhere (Dockerfile, compose file, workflows, engines) lands in the same group.
    const elsewhere = Object.values(extracted).flat().filter((f) => f.packageFile !== 'config/versions.ts').flatMap((f) => f.deps);
    const pinned = new Set(matches.map((m) => m.depName));
    for (const dep of elsewhere.filter((d) => d.depName && pinned.has(d.depName))) expect(groupsOf(dep.depName!)).toHaveLength(1);
    // Stack by stack: the charts alone in addons-stack, Kafka and its provider in kafka-stack.
    expect(table['charts.strimzi.version']).toEqual(['addons-stack']);
    expect(table['kafka.version']).toEqual(['kafka-stack']);
    expect(table['strimziSupportedKafka.4.3.1']).toEqual(['addons-stack']);
    expect(table['images.nodeBuild']).toEqual(table['node.version']);
  });
});
