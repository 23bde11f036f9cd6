/**
 * Builds Go binaries from the Go module proxy into the per-machine cache (tools/paths.ts
 * TOOLS_DIR), one file per name and version: a binary that is there is never built again,
 * whichever clone asks. Builds run under `nice` so they share a small machine politely.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { versions } from '../config';
import { paths, PROJECT_ROOT, toolBinary } from './paths';
import { runLogged, step } from './progress';

export class ToolchainError extends Error {}

export function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function versionAtLeast(actual: string, minimum: string): boolean {
  const a = actual.split('.').map(Number);
  const m = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (m[i] ?? 0)) return (a[i] ?? 0) > (m[i] ?? 0);
  }
  return true;
}

export function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOMODCACHE: paths.goModCache,
    GOCACHE: paths.goBuildCache,
    GOFLAGS: '-modcacherw',
    // The pinned toolchain only: a module asking for a newer Go fails instead of fetching one.
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GOOS: 'linux',
    GOARCH: 'amd64',
  };
}

let resolvedGo: string | undefined;

/**
 * The `go` command, at least the pinned version: the one on PATH when recent enough, else
 * the official toolchain fetched from the Go module proxy into the per-machine cache.
 */
export function requireGo(): string {
  if (resolvedGo) return resolvedGo;
  const want = versions.go.toolchain;
  // install-go.sh decides (PATH first) and prints the bin directory; it needs curl and unzip.
  const binDir = execFileSync('bash', [path.join(PROJECT_ROOT, 'tools', 'install-go.sh'), want, paths.tools], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  resolvedGo = path.join(binDir, 'go');
  const have = execFileSync(resolvedGo, ['env', 'GOVERSION'], { encoding: 'utf8' }).trim().replace(/^go/, '');
  if (!versionAtLeast(have, want)) throw new ToolchainError(`Go ${have} at ${resolvedGo} is older than ${want}`);
  return resolvedGo;
}

/** Where a module comes from, and how to make it buildable once downloaded. */
export interface GoSource {
  /** Module path on the Go module proxy. */
  readonly module: string;
  /** Module version (tag or pseudo-version). */
  readonly version: string;
  /** Short name for scratch directories and logs, e.g. `kubernetes`. */
  readonly label: string;
  /** Edits the writable copy before building (e.g. go.mod replace directives). */
  readonly prepare?: (dir: string, go: string) => Promise<void> | void;
}

/** One binary built from a source. */
export interface GoBinary {
  /** File name in the cache, before `-<version>`. */
  readonly name: string;
  /** Version in the file name (the cache key). */
  readonly version: string;
  /** Package inside the module, e.g. `./cmd/tofu`. */
  readonly package: string;
  /** Linker flags beyond `-s -w`. */
  readonly ldflags?: string;
  /** Build tags, comma separated. */
  readonly tags?: string;
  /** Extra environment for `go build` (e.g. GOFLAGS=-mod=mod). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Downloads a module from the Go module proxy and copies it to a writable scratch directory. */
export async function fetchModule(go: string, source: GoSource): Promise<string> {
  fs.mkdirSync(paths.logs, { recursive: true });
  const out = await runLogged(go, ['mod', 'download', '-json', `${source.module}@${source.version}`], {
    env: goEnv(),
    cwd: os.tmpdir(),
    logFile: path.join(paths.logs, `${source.label}-download.log`),
    activity: `downloading ${source.module}@${source.version}`,
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new ToolchainError(`the Go module proxy did not serve ${source.module}@${source.version}: ${info.Error ?? 'no directory'}`);
  const work = path.join(paths.goBuildSources, `${source.label}-${process.pid}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(work), { recursive: true });
  fs.cpSync(info.Dir, work, { recursive: true });
  fs.chmodSync(work, 0o755);
  execFileSync('chmod', ['-R', 'u+w', work]);
  return work;
}

/**
 * The cached paths of `binaries` built from `source`, building only those missing. Each
 * lands under a temporary name and is renamed into place, so a concurrent or interrupted
 * build never leaves a partial binary under the cached name.
 */
export async function goBinaries(source: GoSource, binaries: readonly GoBinary[]): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const missing: GoBinary[] = [];
  for (const b of binaries) {
    result[b.name] = toolBinary(b.name, b.version);
    if (fs.existsSync(result[b.name])) console.log(`    ${b.name} ${b.version}: built`);
    else missing.push(b);
  }
  if (missing.length === 0) return result;
  const go = requireGo();
  const src = await fetchModule(go, source);
  try {
    if (source.prepare) await source.prepare(src, go);
    fs.mkdirSync(paths.toolsBin, { recursive: true });
    for (const b of missing) {
      const done = step(`building ${b.name} ${b.version} from ${source.module}@${source.version}`);
      const target = result[b.name];
      const partial = `${target}.partial-${process.pid}`;
      // No DWARF from the compiler either: the linker strips it (-s -w), so generating it only costs CPU.
      const args = ['-n', '19', go, 'build', '-trimpath', '-gcflags=all=-dwarf=false'];
      if (b.tags) args.push('-tags', b.tags);
      args.push('-ldflags', `-s -w${b.ldflags ? ` ${b.ldflags}` : ''}`, '-o', partial, b.package);
      await runLogged('nice', args, {
        env: { ...goEnv(), ...b.env },
        cwd: src,
        logFile: path.join(paths.logs, `${b.name}-build.log`),
        activity: `compiling ${b.name}`,
      });
      fs.renameSync(partial, target);
      done();
    }
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
  return result;
}
