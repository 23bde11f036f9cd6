import * as fs from 'fs';
import * as path from 'path';
import { isAlive } from '../../tools/local/process';
import { CACHE_DIR } from '../../tools/paths';

/**
 * One scratch directory per test run (`.cache/test-tmp/run-<pid>`), made the run's TMPDIR, so
 * every `os.tmpdir()` of the tests and of the processes they start writes there and the global
 * teardown removes it all: a run leaves nothing in /tmp. Directories of runs that died are
 * removed by the next run.
 */
const SCRATCH_ROOT = path.join(CACHE_DIR, 'test-tmp');
/** Set by the global setup, inherited by the lanes' worker processes. */
const TEST_RUN_VARIABLE = 'KAFKA_PLATFORM_TEST_RUN';
const runDir = (pid: number) => path.join(SCRATCH_ROOT, `run-${pid}`);

export function useRunScratch(): string {
  fs.mkdirSync(SCRATCH_ROOT, { recursive: true });
  for (const name of fs.readdirSync(SCRATCH_ROOT)) {
    const pid = Number(/^run-(\d+)$/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !isAlive(pid)) fs.rmSync(path.join(SCRATCH_ROOT, name), { recursive: true, force: true });
  }
  const dir = runDir(process.pid);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.TMPDIR = dir;
  process.env[TEST_RUN_VARIABLE] = String(process.pid);
  return dir;
}

/**
 * The test run a suite belongs to: the pid of the jest process whose global setup and teardown
 * frame it (its lanes' workers inherit the variable), or this process outside `npm test`.
 */
export function testRunId(): string {
  return process.env[TEST_RUN_VARIABLE] ?? String(process.pid);
}

export function removeRunScratch(): void {
  fs.rmSync(runDir(process.pid), { recursive: true, force: true });
}
