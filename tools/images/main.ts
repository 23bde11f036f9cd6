/**
 * `npm run images`: builds the producer and consumer images, pushes them by digest with a
 * CycloneDX SBOM each, and signs them when given a key.
 *
 *   npm run images                                # local bases, local registry (127.0.0.1)
 *   npm run images -- --no-push                   # build only
 *   npm run images -- --refresh-bases             # remake the local bases (security updates)
 *   npm run images -- --bases pinned --environment prod   # production: distroless by digest, prod registry
 *   npm run images -- sign --sign-key env://COSIGN_PRIVATE_KEY   # sign what the last run pushed
 *   npm run images -- registry up|down|status     # the local OCI registry
 *   npm run images -- registry host --environment prod   # an environment's registry host
 *
 * A signing key's password comes from COSIGN_PASSWORD. The record of the run is
 * .cache/images/published.json.
 */
import { ENVIRONMENT_NAMES, loadConfig } from '../../config';
import { runImagePipeline, signPublished, summary } from './pipeline';
import { parseRegistry, registryDown, registryStatus, registryUp } from './registry';

const USAGE = [
  'usage: npm run images -- [--bases local|pinned] [--refresh-bases] [--environment NAME | --registry HOST[/PATH]] [--no-push] [--sign-key KEY]',
  '       npm run images -- sign --sign-key KEY',
  '       npm run images -- registry up|down|status|host [--environment NAME]',
].join('\n');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value\n${USAGE}`);
  args.splice(i, 2);
  return value;
}

function flag(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  if (args[0] === 'registry') {
    const action = args[1];
    if (action === 'host') {
      // The host:port an environment's images live on (to log in to it).
      const name = option(args, '--environment') ?? 'local';
      if (!(ENVIRONMENT_NAMES as readonly string[]).includes(name)) throw new Error(`--environment is "${name}": expected one of ${ENVIRONMENT_NAMES.join(', ')}`);
      // loadConfig: with the override variables (KAFKA_PLATFORM_IMAGE_REGISTRY) the deploy workflow sets.
      console.log(parseRegistry(loadConfig(name).imageRegistry).host);
      return;
    }
    if (action === 'up') await registryUp();
    else if (action === 'down') await registryDown();
    else if (action === 'status') console.log(await registryStatus());
    else throw new Error(USAGE);
    return;
  }
  if (args[0] === 'sign') {
    args.shift();
    const key = option(args, '--sign-key');
    if (!key || args.length > 0) throw new Error(USAGE);
    console.log(summary(signPublished({ key, password: process.env.COSIGN_PASSWORD })));
    return;
  }
  const bases = option(args, '--bases') ?? 'local';
  if (bases !== 'local' && bases !== 'pinned') throw new Error(`--bases is "${bases}": expected local (made here from Debian packages) or pinned (config/versions.ts digests)\n${USAGE}`);
  const environment = option(args, '--environment');
  let registry = option(args, '--registry');
  if (environment !== undefined) {
    if (registry !== undefined) throw new Error(`--environment and --registry both name a registry: give one\n${USAGE}`);
    if (!(ENVIRONMENT_NAMES as readonly string[]).includes(environment)) throw new Error(`--environment is "${environment}": expected one of ${ENVIRONMENT_NAMES.join(', ')}`);
    registry = loadConfig(environment).imageRegistry;
  }
  const signKey = option(args, '--sign-key');
  const push = !flag(args, '--no-push');
  const refreshBases = flag(args, '--refresh-bases');
  if (args.length > 0) throw new Error(`unknown arguments: ${args.join(' ')}\n${USAGE}`);
  if (!push && (registry || signKey)) throw new Error(`--no-push builds only: --registry and --sign-key need a push\n${USAGE}`);
  const record = await runImagePipeline({
    bases,
    refreshBases,
    registry,
    push,
    signingKey: signKey ? { key: signKey, password: process.env.COSIGN_PASSWORD } : undefined,
  });
  console.log(summary(record));
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`images: ${err.message}`);
  process.exit(1);
});
