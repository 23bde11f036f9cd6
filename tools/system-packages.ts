/**
 * The Debian packages the project and its tests need, in one list, installed by the
 * bootstrap when missing (after `apt-get update`), so a fresh machine needs nothing but
 * Node.js and `npm test`. On a machine without apt or root, the error names the command.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { paths } from './paths';
import { runLogged, step } from './progress';
import { ToolchainError, which } from './go-build';

/** One Debian package and how to tell it is already there. */
export interface SystemPackage {
  /** Debian package name. */
  readonly debian: string;
  /** What the project uses it for, shown when it is installed or missing. */
  readonly purpose: string;
  /** True when the machine already has it (by command or file, not by dpkg: other installs count). */
  readonly present: () => boolean;
}

const command = (name: string) => () => which(name) !== undefined;
const anyFile = (dir: string, pattern: RegExp, inner: string) => () =>
  fs.existsSync(dir) && fs.readdirSync(dir).some((d) => pattern.test(d) && fs.existsSync(path.join(dir, d, inner)));

/** Everything beyond Node.js (which runs this file): add a package here, nowhere else. */
export const systemPackages: readonly SystemPackage[] = [
  { debian: 'openjdk-17-jdk-headless', purpose: 'the local Kafka cluster and its keytool TLS material', present: command('java') },
  { debian: 'maven', purpose: 'Apache Kafka and the JMX exporter from Maven Central', present: command('mvn') },
  { debian: 'postgresql', purpose: 'the Terraform state backend the tests use', present: anyFile('/usr/lib/postgresql', /^\d+$/, 'bin/postgres') },
  { debian: 'prometheus', purpose: 'promtool for the alert rule tests, Prometheus for the firing test', present: command('promtool') },
  { debian: 'openssl', purpose: 'certificates of the local Kubernetes control plane', present: command('openssl') },
  { debian: 'curl', purpose: 'fetching the Go toolchain from the Go module proxy', present: command('curl') },
  { debian: 'unzip', purpose: 'unpacking the Go toolchain', present: command('unzip') },
  { debian: 'ca-certificates', purpose: 'TLS to the package registries', present: () => fs.existsSync('/etc/ssl/certs/ca-certificates.crt') },
  { debian: 'podman', purpose: 'building and running the service images (npm run images)', present: command('podman') },
  // crun cannot run containers on these machines' hybrid cgroups.
  { debian: 'runc', purpose: 'the OCI runtime podman uses here', present: command('runc') },
  { debian: 'iptables', purpose: 'container networking (netavark)', present: () => command('iptables')() || fs.existsSync('/usr/sbin/iptables') },
  { debian: 'debootstrap', purpose: 'the Debian base of the service images where no container registry is reachable', present: () => command('debootstrap')() || fs.existsSync('/usr/sbin/debootstrap') },
  { debian: 'containernetworking-plugins', purpose: 'pod networking on the local real node (bridge, host-local, loopback)', present: () => fs.existsSync('/usr/lib/cni/host-local') },
  { debian: 'busybox-static', purpose: "the local real node's test image", present: () => fs.existsSync('/bin/busybox') },
  { debian: 'libseccomp-dev', purpose: 'building runc (seccomp) for the local real node', present: () => fs.existsSync('/usr/include/seccomp.h') },
  { debian: 'gcc', purpose: 'building runc and the pod sandbox (pause) for the local real node', present: command('gcc') },
  { debian: 'ipset', purpose: "the local real node's NetworkPolicy enforcer (kube-router's address sets)", present: () => command('ipset')() || fs.existsSync('/usr/sbin/ipset') },
  { debian: 'socat', purpose: "the local real node's forward from the pod bridge to the API server", present: command('socat') },
  { debian: 'tcpdump', purpose: "reading the NetworkPolicy enforcer's drop log (NFLOG) in the real node's test", present: () => command('tcpdump')() || fs.existsSync('/usr/bin/tcpdump') },
  // Preinstalled on Debian; needed on Ubuntu CI runners for debootstrap to check Debian's signatures.
  { debian: 'debian-archive-keyring', purpose: "checking the signatures of Debian's archive (debootstrap)", present: () => fs.existsSync('/usr/share/keyrings/debian-archive-keyring.gpg') },
];

/** The command prefix that runs apt here: as root, through password-less sudo, or undefined. */
function aptRunner(): string[] | undefined {
  if (!which('apt-get')) return undefined;
  // Through env, because sudo drops the caller's environment.
  const env = ['env', 'DEBIAN_FRONTEND=noninteractive'];
  if (process.getuid?.() === 0) return env;
  if (which('sudo') && spawnSync('sudo', ['-n', 'true']).status === 0) return ['sudo', '-n', ...env];
  return undefined;
}

/** Installs the missing packages of `packages` (default: all of the project's), or says how. */
export async function ensureSystemPackages(packages: readonly SystemPackage[] = systemPackages): Promise<void> {
  const missing = packages.filter((p) => !p.present());
  if (missing.length === 0) {
    console.log(`    system packages: all ${packages.length} present`);
    return;
  }
  const names = missing.map((p) => p.debian);
  const runner = aptRunner();
  if (!runner) {
    const why = missing.map((p) => `  ${p.debian}: ${p.purpose}`).join('\n');
    throw new ToolchainError(`missing system packages:\n${why}\ninstall them with: sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`);
  }
  const done = step(`installing Debian packages: ${names.join(' ')}`);
  const [cmd, ...prefix] = runner;
  fs.mkdirSync(paths.logs, { recursive: true });
  const logFile = path.join(paths.logs, 'apt.log');
  await runLogged(cmd, [...prefix, 'apt-get', 'update', '-qq'], { logFile: path.join(paths.logs, 'apt-update.log'), activity: 'updating the package lists' });
  await runLogged(cmd, [...prefix, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...names], {
    logFile,
    activity: `installing ${names.join(' ')}`,
  });
  const still = missing.filter((p) => !p.present()).map((p) => p.debian);
  if (still.length) throw new ToolchainError(`apt-get installed ${names.join(' ')} but ${still.join(', ')} is still not usable (see ${logFile})`);
  done();
}
