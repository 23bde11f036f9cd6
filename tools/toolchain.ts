/**
 * Offline toolchain bootstrap, idempotent: a Terraform-compatible CLI, the Terraform
 * providers built from the Go module proxy into a filesystem mirror, and Apache Kafka
 * from Maven Central, the local Kubernetes binaries, and the Debian packages the tests
 * need. Every pin comes from config/versions.ts; built binaries land in the per-machine
 * cache (tools/paths.ts TOOLS_DIR) keyed by version; a second run downloads and builds nothing.
 *
 *   tsx tools/toolchain.ts                 # what the project needs
 *   tsx tools/toolchain.ts --with-opentofu # also build OpenTofu when Terraform is present
 *   tsx tools/toolchain.ts --with-kubernetes # also the local Kubernetes (npm run k8s:up)
 *   tsx tools/toolchain.ts --only-kubernetes # just the local Kubernetes and its real node's binaries (npm test builds them so, in the background)
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ProviderPin, versions } from '../config';
import { paths, providerBinary, REGISTRY_HOSTS, PROJECT_ROOT } from './paths';
import { fetchKafkaJars } from './kafka-jars';
import { goBinaries, versionAtLeast, which } from './go-build';
import { ensureImageTools } from './images/binaries';
import { ensureJaeger } from './local-jaeger';
import { ensureKubernetesBinaries } from './local/kubernetes/build';
import { ensureNodeBinaries } from './local/kubernetes/node-build';
import { runLogged, step } from './progress';
import { ensureSystemPackages } from './system-packages';

async function buildProvider(pin: ProviderPin): Promise<void> {
  const targets = REGISTRY_HOSTS.map((host) => providerBinary(host, pin));
  if (targets.every((t) => fs.existsSync(t))) {
    console.log(`    provider ${pin.namespace}/${pin.type} ${pin.version}: in the mirror`);
    return;
  }
  // Built inside the downloaded module so its own replace directives apply.
  const name = `terraform-provider-${pin.type}`;
  const built = await goBinaries(
    { module: pin.goModule, version: pin.goVersion, label: name },
    [{ name, version: pin.version, package: '.' }],
  );
  for (const target of targets) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(built[name], target);
    fs.chmodSync(target, 0o755);
  }
}

async function buildOpenTofu(): Promise<string> {
  const pin = versions.terraform.opentofu;
  const built = await goBinaries({ module: pin.goModule, version: pin.goVersion, label: 'opentofu' }, [
    { name: 'tofu', version: pin.goVersion, package: './cmd/tofu', ldflags: "-X 'github.com/opentofu/opentofu/version.dev=no'" },
  ]);
  return built.tofu;
}

/** actionlint, so tests can lint the GitHub workflows. */
async function buildActionlint(): Promise<void> {
  const pin = versions.devTools.actionlint;
  await goBinaries({ module: pin.goModule, version: pin.goVersion, label: 'actionlint' }, [
    { name: 'actionlint', version: pin.goVersion, package: pin.package },
  ]);
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
  const opentofu = wantTofu ? await buildOpenTofu() : undefined;
  const cli = preference === 'tofu' || !terraform ? opentofu! : terraform;
  console.log(`    cdktf uses ${cli}`);
  return { cli, terraform, opentofu };
}

/** Links a built binary into paths.bin under its plain name (the Strimzi CRD installer runs `kubectl`). */
function linkTool(name: string, target: string): void {
  const link = path.join(paths.bin, name);
  fs.mkdirSync(paths.bin, { recursive: true });
  fs.rmSync(link, { force: true });
  fs.symlinkSync(target, link);
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
  fs.mkdirSync(path.dirname(paths.cliConfig), { recursive: true });
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

/** How long the project's plans and applies wait for a state lock another run holds. */
export const STATE_LOCK_TIMEOUT = '5m';

function writeToolchainEnv({ cli, terraform, opentofu }: Clis): void {
  const env = {
    TF_CLI_CONFIG_FILE: paths.cliConfig,
    TERRAFORM_BINARY_NAME: cli,
    // Every CLI available, so tests can prove the project with each one.
    KAFKA_PLATFORM_TERRAFORM: terraform ?? '',
    KAFKA_PLATFORM_OPENTOFU: opentofu ?? '',
    CHECKPOINT_DISABLE: '1',
    // Never wait for an answer: an unset variable fails at once, where cdktf would hang on its terminal.
    TF_INPUT: '0',
    // A state lock held by another run (a concurrent deploy, or PostgreSQL's database-wide lock
    // while another stack creates its first state) is waited for, not failed on at once.
    TF_CLI_ARGS_plan: `-lock-timeout=${STATE_LOCK_TIMEOUT}`,
    TF_CLI_ARGS_apply: `-lock-timeout=${STATE_LOCK_TIMEOUT}`,
    TF_CLI_ARGS_destroy: `-lock-timeout=${STATE_LOCK_TIMEOUT}`,
    KAFKA_PLATFORM_KAFKA_LIBS: paths.kafkaLibs,
    KAFKA_PLATFORM_ACTIONLINT: paths.actionlint,
  };
  fs.writeFileSync(paths.toolchainEnv, Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  if (process.argv.includes('--only-kubernetes')) {
    // npm test's background build (__tests__/support/kubernetes-build.ts): it writes nothing the running tests read.
    fs.mkdirSync(paths.logs, { recursive: true });
    linkTool('kubectl', (await ensureKubernetesBinaries()).kubectl);
    // After the control plane, whose suites wait only for it: the node's suite waits for all.
    await ensureNodeBinaries();
    console.log(`local Kubernetes binaries ready in ${Math.round((Date.now() - started) / 1000)}s`);
    return;
  }
  const withOpenTofu = process.argv.includes('--with-opentofu');
  fs.mkdirSync(paths.logs, { recursive: true });
  await ensureSystemPackages();

  // Two lanes of builds side by side: one Go build leaves a core idle while it downloads
  // modules and links, and the other fills it. The CLIs, the providers and their bindings in
  // one lane; the tools the tests, the traces and the images need in the other.
  const clis = terraformClis(withOpenTofu);
  const providers = (async () => {
    const { cli } = await clis;
    for (const pin of Object.values(versions.providers)) await buildProvider(pin);
    writeCliConfig();
    await providerBindings(cli);
  })();
  const tools = (async () => {
    await fetchKafkaJars();
    await buildActionlint();
    // The local trace backend: npm start and the tests send the services' spans to it.
    await ensureJaeger();
    await ensureImageTools();
  })();
  // Both settle before the first failure is reported: no build is left running unseen.
  for (const r of await Promise.allSettled([providers, tools])) if (r.status === 'rejected') throw r.reason;
  if (process.argv.includes('--with-kubernetes')) linkTool('kubectl', (await ensureKubernetesBinaries()).kubectl);
  writeToolchainEnv(await clis);
  console.log(`toolchain ready in ${Math.round((Date.now() - started) / 1000)}s (built tools: ${paths.tools}, work files: ${paths.cache})`);
}

main().catch((err: Error) => {
  console.error(`toolchain: ${err.message}`);
  process.exit(1);
});
