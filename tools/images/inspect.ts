/**
 * Looking inside a built image without running a shell in it (the runtime has none): its
 * file list and selected files, read from a created (never started) container's export.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { podman, podmanEnv, requirePodman } from './podman';
import { HARDENING_FLAGS, NO_HEALTHCHECK_TIMER } from './run';

/** Runs `fn` with a created, never started container of `image`, removed afterwards. */
function withContainer<T>(image: string, fn: (id: string) => T): T {
  // The entry point is never run: `create` only lays out the filesystem.
  const id = podman(['create', '--pull=never', image]).trim();
  try {
    return fn(id);
  } finally {
    podman(['rm', '--force', id]);
  }
}

/** `podman export` of a container piped into tar with `args`. */
function exportThroughTar(id: string, args: readonly string[]): string {
  const exported = spawnSync('bash', ['-o', 'pipefail', '-c', `"$0" export "$1" | tar ${args.map((a) => `'${a}'`).join(' ')}`, requirePodman(), id], {
    env: podmanEnv(),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (exported.status !== 0) throw new Error(`reading the filesystem of container ${id} failed: ${exported.stderr.trim()}`);
  return exported.stdout;
}

/** Every path in the image's filesystem (as tar lists them: no leading slash, directories end in /). */
export function imageFileList(image: string): string[] {
  return withContainer(image, (id) => exportThroughTar(id, ['-t']).split('\n').filter((l) => l !== ''));
}

/** Copies `members` (paths without a leading slash; directories whole) out of the image into a new temp dir. */
export function extractFromImage(image: string, members: readonly string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-files-'));
  withContainer(image, (id) => exportThroughTar(id, ['-x', '-C', dir, ...members]));
  return dir;
}

/** Output of the image's entry point run with `args` (no network, read-only, unprivileged). */
export function runEntrypoint(image: string, args: readonly string[]): string {
  return podman(['run', '--rm', '--pull=never', '--network', 'none', ...NO_HEALTHCHECK_TIMER, ...HARDENING_FLAGS, image, ...args]);
}
