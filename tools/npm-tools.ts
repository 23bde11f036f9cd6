/**
 * npm packages the tests need that are too big for the project's node_modules (Renovate's
 * config validator pulls in about 600 packages), installed on first use into the per-machine
 * cache, one directory per package and version, so another clone installs nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { paths } from './paths';
import { runLogged, step } from './progress';

/** One npm package at an exact version, and the executable of it the tests run. */
export interface NpmToolPin {
  /** Package name on the npm registry. */
  readonly npmPackage: string;
  /** Exact version. */
  readonly version: string;
  /** Name of the executable in the package's `bin`. */
  readonly bin: string;
}

/** Directory a pinned package is installed into. */
export function npmToolDir(pin: NpmToolPin): string {
  return path.join(paths.tools, 'npm', `${pin.npmPackage.replace(/\//g, '+')}-${pin.version}`);
}

/** Path of the pinned package's executable, installing the package first if needed. */
export async function ensureNpmTool(pin: NpmToolPin): Promise<string> {
  const dir = npmToolDir(pin);
  const bin = path.join(dir, 'node_modules', '.bin', pin.bin);
  if (fs.existsSync(bin)) return bin;
  const partial = `${dir}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  fs.mkdirSync(paths.logs, { recursive: true });
  const done = step(`installing ${pin.npmPackage} ${pin.version} from the npm registry into ${dir}`);
  // No install scripts: nothing here needs a native build, and a fallback (Renovate's RE2) is enough to validate.
  await runLogged('npm', ['install', '--prefix', partial, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', `${pin.npmPackage}@${pin.version}`], {
    logFile: path.join(paths.logs, `npm-${pin.npmPackage.replace(/\//g, '+')}.log`),
    activity: `installing ${pin.npmPackage}`,
  });
  if (!fs.existsSync(path.join(partial, 'node_modules', '.bin', pin.bin))) {
    throw new Error(`${pin.npmPackage}@${pin.version} has no executable ${pin.bin}: check versions.devTools in config/versions.ts`);
  }
  // Renamed into place: an interrupted install never leaves a partial directory behind.
  try {
    fs.renameSync(partial, dir);
  } catch {
    fs.rmSync(partial, { recursive: true, force: true });
  }
  done();
  return bin;
}
