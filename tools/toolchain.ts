/**
 * Offline toolchain bootstrap, idempotent: a Terraform-compatible CLI, the Terraform
 * providers built from the Go module proxy into a filesystem mirror, and Apache Kafka
 * from Maven Central. Every pin comes from config/versions.ts; everything lands in
 * the cache directory; a second run downloads and builds nothing.
 *
 *   tsx tools/toolchain.ts                 # what the project needs
 *   tsx tools/toolchain.ts --with-opentofu # also build OpenTofu when Terraform is present
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ProviderPin, versions } from '../config';
import { paths, providerBinary, REGISTRY_HOSTS, PROJECT_ROOT } from './paths';
import { runLogged, step } from './progress';

class ToolchainError extends Error {}

function which(binary: string): string | undefined {
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

function versionAtLeast(actual: string, minimum: string): boolean {
  const a = actual.split('.').map(Number);
  const m = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (m[i] ?? 0)) return (a[i] ?? 0) > (m[i] ?? 0);
  }
  return true;
}

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOMODCACHE: paths.goModCache,
    GOCACHE: paths.goBuildCache,
    GOFLAGS: '-modcacherw',
    CGO_ENABLED: '0',
    GOOS: 'linux',
    GOARCH: 'amd64',
  };
}

function requireGo(): string {
  const go = which('go');
  if (!go) {
    throw new ToolchainError('Go is required to build the Terraform providers offline: run `bash .ci/run` once, or install Go 1.21+ (apt-get install golang-go).');
  }
  return go;
}

/** Downloads a module from the Go module proxy and copies it to a writable build directory. */
async function fetchModule(go: string, module: string, version: string, label: string): Promise<string> {
  const out = await runLogged(go, ['mod', 'download', '-json', `${module}@${version}`], {
    env: goEnv(),
    cwd: os.tmpdir(),
    logFile: path.join(paths.logs, `${label}-download.log`),
    activity: `downloading ${module}@${version}`,
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new ToolchainError(`the Go module proxy did not serve ${module}@${version}: ${info.Error ?? 'no directory'}`);
  const work = path.join(paths.cache, 'go', 'src', label);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(work), { recursive: true });
  fs.cpSync(info.Dir, work, { recursive: true });
  return work;
}

async function buildProvider(go: string, name: string, pin: ProviderPin): Promise<void> {
  const targets = REGISTRY_HOSTS.map((host) => providerBinary(host, pin));
  if (targets.every((t) => fs.existsSync(t))) {
    console.log(`    provider ${pin.namespace}/${pin.type} ${pin.version}: in the mirror`);
    return;
  }
  const done = step(`building provider ${pin.namespace}/${pin.type} ${pin.version} from ${pin.goModule}@${pin.goVersion}`);
  // Built inside the downloaded module so its own replace directives apply.
  const src = await fetchModule(go, pin.goModule, pin.goVersion, `provider-${name}`);
  const built = path.join(paths.cache, 'go', `terraform-provider-${pin.type}`);
  await runLogged(go, ['build', '-trimpath', '-ldflags', '-s -w', '-o', built, '.'], {
    env: goEnv(),
    cwd: src,
    logFile: path.join(paths.logs, `provider-${name}-build.log`),
    activity: `compiling ${pin.type} provider`,
  });
  for (const target of targets) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(built, target);
    fs.chmodSync(target, 0o755);
  }
  fs.rmSync(built);
  fs.rmSync(src, { recursive: true, force: true });
  done();
}

async function buildOpenTofu(go: string): Promise<string> {
  const pin = versions.terraform.opentofu;
  if (fs.existsSync(paths.opentofu)) {
    console.log(`    OpenTofu ${pin.goVersion}: built`);
    return paths.opentofu;
  }
  const done = step(`building OpenTofu ${pin.goVersion} from the Go module proxy`);
  const src = await fetchModule(go, pin.goModule, pin.goVersion, 'opentofu');
  fs.mkdirSync(paths.bin, { recursive: true });
  await runLogged(
    go,
    ['build', '-trimpath', '-ldflags', "-s -w -X 'github.com/opentofu/opentofu/version.dev=no'", '-o', paths.opentofu, './cmd/tofu'],
    { env: goEnv(), cwd: src, logFile: path.join(paths.logs, 'opentofu-build.log'), activity: 'compiling OpenTofu' },
  );
  fs.rmSync(src, { recursive: true, force: true });
  done();
  return paths.opentofu;
}

/** actionlint, so tests can lint the GitHub workflows. */
async function buildActionlint(): Promise<void> {
  const pin = versions.devTools.actionlint;
  if (fs.existsSync(paths.actionlint)) {
    console.log(`    actionlint ${pin.goVersion}: built`);
    return;
  }
  const go = requireGo();
  const done = step(`building actionlint ${pin.goVersion} from the Go module proxy`);
  const src = await fetchModule(go, pin.goModule, pin.goVersion, 'actionlint');
  fs.mkdirSync(paths.bin, { recursive: true });
  await runLogged(go, ['build', '-trimpath', '-ldflags', '-s -w', '-o', paths.actionlint, pin.package], {
    env: goEnv(),
    cwd: src,
    logFile: path.join(paths.logs, 'actionlint-build.log'),
    activity: 'compiling actionlint',
  });
  fs.rmSync(src, { recursive: true, force: true });
  done();
}

/** The CLIs found or built: `cli` is the one cdktf uses (Terraform when recent enough). */
interface Clis {
  readonly cli: string;
  readonly terraform?: string;
  readonly opentofu?: string;
}

/** Terraform from PATH when recent enough, else OpenTofu built here (also built on request). */
async function terraformClis(withOpenTofu: boolean): Promise<Clis> {
  const preference = process.env.KAFKA_PLATFORM_TF;
  const found = which('terraform');
  let terraform: string | undefined;
  if (found) {
    const out = execFileSync(found, ['version', '-json'], { env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' } }).toString();
    const version = (JSON.parse(out) as { terraform_version: string }).terraform_version;
    if (versionAtLeast(version, versions.terraform.minimumTerraform)) {
      console.log(`    Terraform ${version} on PATH: ${found}`);
      terraform = found;
    } else {
      console.log(`    Terraform ${version} on PATH is older than ${versions.terraform.minimumTerraform}: not used`);
    }
  }
  const wantTofu = withOpenTofu || !terraform || preference === 'tofu' || fs.existsSync(paths.opentofu);
  const opentofu = wantTofu ? await buildOpenTofu(requireGo()) : undefined;
  const cli = preference === 'tofu' || !terraform ? opentofu! : terraform;
  console.log(`    cdktf uses ${cli}`);
  return { cli, terraform, opentofu };
}

async function kafkaJars(): Promise<void> {
  const marker = path.join(paths.kafkaLibs, '.complete');
  const pom = path.join(PROJECT_ROOT, 'tools', 'kafka', 'pom.xml');
  // Any change to the pom or the version fetches the jars again.
  const fingerprint = `${versions.kafka.version} ${createHash('sha256').update(fs.readFileSync(pom)).digest('hex')}\n`;
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === fingerprint) {
    console.log(`    Apache Kafka ${versions.kafka.version}: jars present`);
    return;
  }
  if (!which('mvn')) throw new ToolchainError('Maven is required to fetch Apache Kafka from Maven Central: apt-get install maven');
  const done = step(`fetching Apache Kafka ${versions.kafka.version} from Maven Central`);
  fs.rmSync(paths.kafkaLibs, { recursive: true, force: true });
  await runLogged(
    'mvn',
    [
      '-B', '-f', pom,
      `-Dmaven.repo.local=${paths.mavenRepo}`,
      `-Dkafka.version=${versions.kafka.version}`,
      `-Dscala.binary.version=${versions.kafka.scala}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${paths.kafkaLibs}`,
      '-DincludeScope=runtime',
    ],
    { logFile: path.join(paths.logs, 'kafka-jars.log'), activity: 'downloading Kafka jars' },
  );
  fs.writeFileSync(marker, fingerprint);
  done();
}

function writeCliConfig(): void {
  // Only the mirror: a provider missing from it fails at init instead of reaching out.
  const config = [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path = ${JSON.stringify(paths.providerMirror)}`,
    '  }',
    '  direct {',
    '    exclude = ["*/*"]',
    '  }',
    '}',
    `plugin_cache_dir = ${JSON.stringify(paths.pluginCache)}`,
    '',
  ].join('\n');
  fs.mkdirSync(paths.pluginCache, { recursive: true });
  fs.writeFileSync(paths.cliConfig, config);
}

/** TypeScript bindings for providers without a prebuilt package (Mongey/kafka), from the mirror's schema. */
async function providerBindings(cli: string): Promise<void> {
  const pin = versions.providers.kafka;
  const generated = path.join(PROJECT_ROOT, '.gen', 'versions.json');
  if (fs.existsSync(generated)) {
    const have = JSON.parse(fs.readFileSync(generated, 'utf8')) as Record<string, string>;
    if (Object.entries(have).some(([source, v]) => source.endsWith(`/${pin.namespace.toLowerCase()}/${pin.type}`) && v === pin.version)) {
      console.log(`    bindings for ${pin.namespace}/${pin.type} ${pin.version}: generated`);
      return;
    }
  }
  const done = step(`generating TypeScript bindings for ${pin.namespace}/${pin.type} ${pin.version} (cdktf get)`);
  await runLogged(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdktf'), ['get', '--force'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TF_CLI_CONFIG_FILE: paths.cliConfig, TERRAFORM_BINARY_NAME: cli, CHECKPOINT_DISABLE: '1', CI: '1' },
    logFile: path.join(paths.logs, 'cdktf-get.log'),
    activity: 'generating provider bindings',
  });
  done();
}

function writeToolchainEnv({ cli, terraform, opentofu }: Clis): void {
  const env = {
    TF_CLI_CONFIG_FILE: paths.cliConfig,
    TERRAFORM_BINARY_NAME: cli,
    // Every CLI available, so tests can prove the project with each one.
    KAFKA_PLATFORM_TERRAFORM: terraform ?? '',
    KAFKA_PLATFORM_OPENTOFU: opentofu ?? '',
    CHECKPOINT_DISABLE: '1',
    KAFKA_PLATFORM_KAFKA_LIBS: paths.kafkaLibs,
    KAFKA_PLATFORM_ACTIONLINT: paths.actionlint,
  };
  fs.writeFileSync(paths.toolchainEnv, Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const withOpenTofu = process.argv.includes('--with-opentofu');
  fs.mkdirSync(paths.logs, { recursive: true });
  if (!which('java')) throw new ToolchainError('Java 17+ is required for the local Kafka cluster: apt-get install openjdk-17-jre-headless');

  const clis = await terraformClis(withOpenTofu);
  const needsGo = Object.values(versions.providers).some((pin) => !REGISTRY_HOSTS.every((h) => fs.existsSync(providerBinary(h, pin))));
  const go = needsGo ? requireGo() : '';
  for (const [name, pin] of Object.entries(versions.providers)) await buildProvider(go, name, pin);
  writeCliConfig();
  await providerBindings(clis.cli);
  await kafkaJars();
  await buildActionlint();
  writeToolchainEnv(clis);
  console.log(`toolchain ready in ${Math.round((Date.now() - started) / 1000)}s (cache: ${paths.cache})`);
}

main().catch((err: Error) => {
  console.error(`toolchain: ${err.message}`);
  process.exit(1);
});
