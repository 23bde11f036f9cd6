import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { kubernetesBinaryPaths } from '../../tools/local/kubernetes/build';
import { nodeBinaryPaths } from '../../tools/local/kubernetes/node-build';
import { isAlive, tailFile } from '../../tools/local/process';
import { CACHE_DIR, PROJECT_ROOT, paths } from '../../tools/paths';

/**
 * The local Kubernetes binaries take the longest to build on a fresh machine (about 9 minutes on
 * two idle cores). `npm test` does not wait for them: the global setup starts their build in the
 * background at the lowest CPU priority, the suites that need them run last (jest's
 * testSequencer, __tests__/support/sequencer.js), and those suites wait here. On a machine that
 * has built them once this is a lookup.
 */
const LOG = path.join(CACHE_DIR, 'logs', 'kubernetes-build.log');
const STATUS = path.join(CACHE_DIR, 'logs', 'kubernetes-build.status');
const PID = path.join(CACHE_DIR, 'logs', 'kubernetes-build.pid');

const controlPlaneBuilt = () => Object.values(kubernetesBinaryPaths()).every((file) => fs.existsSync(file)) && fs.existsSync(path.join(paths.bin, 'kubectl'));
/** The background build makes the real node's binaries last (tools/toolchain.ts --only-kubernetes). */
const nodeBuilt = () => Object.values(nodeBinaryPaths()).every((file) => fs.existsSync(file));
const built = () => controlPlaneBuilt() && nodeBuilt();

/** The build wrote its exit status. */
const buildFinished = () => fs.existsSync(STATUS) && fs.readFileSync(STATUS, 'utf8').trim() !== '';

/** The running build's pid; none once it finished (its pid may belong to another process by then). */
function buildPid(): number | undefined {
  if (buildFinished()) return undefined;
  const pid = Number(fs.existsSync(PID) ? fs.readFileSync(PID, 'utf8').trim() : NaN);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

/** Starts the build unless the binaries are there or a build already runs; returns at once. */
export function startKubernetesBuild(log: (line: string) => void): void {
  if (built() || buildPid() !== undefined) return;
  fs.mkdirSync(path.dirname(LOG), { recursive: true });
  fs.rmSync(STATUS, { force: true });
  const out = fs.openSync(LOG, 'w');
  // Only the Kubernetes part of the bootstrap: the rest is in place, and its files are being read.
  const child = spawn(
    'sh',
    ['-c', `nice -n 19 "$0" tools/toolchain.ts --only-kubernetes; echo $? > "$1"`, path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), STATUS],
    { cwd: PROJECT_ROOT, stdio: ['ignore', out, out], detached: true },
  );
  fs.closeSync(out);
  child.unref();
  fs.writeFileSync(PID, `${child.pid}\n`);
  log(`building the local Kubernetes binaries in the background (log: ${LOG}); the suites that need them run last`);
}

/** Waits for the background build (progress every 30 s); builds in the foreground if none runs. Throws with the log's end if it failed. */
export async function kubernetesBinariesReady(log: (line: string) => void = console.log, timeoutMs = 45 * 60_000, withNode = false): Promise<void> {
  const ready = withNode ? built : controlPlaneBuilt;
  if (ready()) return;
  // None running (a run of single suites, or an earlier build that failed): start one now.
  if (buildPid() === undefined) startKubernetesBuild(log);
  let raised = raiseBuildPriority();
  if (raised) log('a suite waits for the local Kubernetes build: it runs at normal CPU priority from now on');
  const started = Date.now();
  let reported = started;
  let lastRaised = started;
  // The control plane's suites go on as soon as its binaries are in; the node's suite waits for all.
  while (!ready() && !buildFinished()) {
    if (buildPid() === undefined && !fs.existsSync(STATUS)) throw new Error(`the local Kubernetes build stopped without a result; see ${LOG}:\n${tailFile(LOG)}`);
    if (Date.now() - started > timeoutMs) throw new Error(`the local Kubernetes build did not finish within ${timeoutMs / 60_000} minutes; see ${LOG}:\n${tailFile(LOG)}`);
    if (Date.now() - reported >= 30_000) {
      log(`  ... waiting for the local Kubernetes build (${Math.round((Date.now() - started) / 1000)}s): ${tailFile(LOG, 1).trim()}`);
      reported = Date.now();
    }
    // Each binary's `go build` starts at nice 19 again (tools/go-build.ts): lift the new ones too.
    if (raised && Date.now() - lastRaised >= 5000) {
      raised = raiseBuildPriority();
      lastRaised = Date.now();
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (ready()) return;
  const code = fs.readFileSync(STATUS, 'utf8').trim();
  if (code !== '0' || !ready()) throw new Error(`building the local Kubernetes binaries failed (exit ${code}); see ${LOG}:\n${tailFile(LOG)}`);
}

/**
 * A suite now waits on the build, so its lane has nothing else to do: the build's processes
 * take their fair share of the CPU beside the other lane instead of what that lane leaves over.
 * False when that is not allowed (lowering a nice value needs root: the build stays at 19) or no
 * build runs.
 */
function raiseBuildPriority(): boolean {
  const pid = buildPid();
  if (pid === undefined) return false;
  try {
    execFileSync('renice', ['-n', '0', '-g', String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** At the end of a run: a build still running (no suite needed it) is stopped; Go keeps what it compiled. */
export function stopKubernetesBuild(): void {
  const pid = buildPid();
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch (err) {
    // The group ended between the look and the signal.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
