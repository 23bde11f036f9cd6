import * as fs from 'fs';
import * as path from 'path';
import { versions } from '../../config';
import { PROJECT_ROOT } from '../../tools/paths';
import { Stage, execForm, globalArgs, parseDockerfile } from './dockerfile';

const DOCKERFILE = path.join(PROJECT_ROOT, 'docker', 'services.Dockerfile');
const stages = parseDockerfile(DOCKERFILE);
const stage = (name: string): Stage => {
  const s = stages.find((st) => st.name === name);
  if (!s) throw new Error(`no stage ${name} in ${DOCKERFILE}`);
  return s;
};
const all = (s: Stage, keyword: string) => s.instructions.filter((i) => i.keyword === keyword);
/** A stage's instructions including the ones it inherits from earlier stages (FROM <stage>). */
const lineage = (s: Stage): Stage[] => {
  const parent = stages.find((p) => p.name === s.from);
  return parent ? [...lineage(parent), s] : [s];
};
const effective = (s: Stage, keyword: string) => lineage(s).flatMap((st) => all(st, keyword));
const TARGETS = ['producer', 'consumer'] as const;

describe('docker/services.Dockerfile', () => {
  test('is multi-stage: build (dev deps, compiles), deps (production deps only), distroless runtime', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime', 'producer', 'consumer']);
    expect(all(stage('build'), 'RUN').map((r) => r.args).join('\n')).toMatch(/npm ci --prefix services (?!.*--omit=dev)/);
    expect(all(stage('build'), 'RUN').some((r) => r.args.includes('tsc -p services/tsconfig.build.json'))).toBe(true);
    const depsRuns = all(stage('deps'), 'RUN').map((r) => r.args);
    expect(depsRuns).toEqual([expect.stringMatching(/^npm ci --omit=dev\b/)]);
    // Every runtime file comes from those stages: no sources or dev dependencies copied in.
    for (const copy of all(stage('runtime'), 'COPY')) expect(copy.args).toMatch(/^--from=(deps|build)\s/);
    expect(all(stage('runtime'), 'RUN')).toEqual([]);
  });

  test('takes its bases as build arguments whose defaults are the pins of config/versions.ts, by digest with the tag for humans', () => {
    const args = globalArgs(DOCKERFILE);
    expect(args).toEqual({ NODE_BUILD_IMAGE: versions.images.nodeBuild, NODE_RUNTIME_IMAGE: versions.images.nodeRuntime });
    for (const pin of [versions.images.nodeBuild, versions.images.nodeRuntime]) expect(pin).toMatch(/^[a-z0-9.\-/]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
    // Same major as versions.node; the patch follows when its digest is resolved (Renovate's `node` group bumps both).
    expect(versions.images.nodeBuild).toMatch(new RegExp(`^node:${versions.node.version.split('.')[0]}\\.\\d+\\.\\d+-`));
    expect(versions.images.nodeRuntime).toMatch(new RegExp(`^gcr\\.io/distroless/nodejs${versions.node.version.split('.')[0]}-`));
    expect(stage('build').from).toBe('${NODE_BUILD_IMAGE}');
    expect(stage('deps').from).toBe('${NODE_BUILD_IMAGE}');
    expect(stage('runtime').from).toBe('${NODE_RUNTIME_IMAGE}');
    for (const target of TARGETS) expect(stage(target).from).toBe('runtime');
    expect(fs.readFileSync(DOCKERFILE, 'utf8')).not.toMatch(/:latest\b/);
  });

  test('has no ADD (so no remote ADD) and no shell-form entry points', () => {
    expect(stages.flatMap((s) => all(s, 'ADD'))).toEqual([]);
    for (const target of TARGETS) {
      const [entrypoint] = effective(stage(target), 'ENTRYPOINT').slice(-1);
      const [cmd] = effective(stage(target), 'CMD').slice(-1);
      expect(execForm(entrypoint.args)).toEqual(['/nodejs/bin/node']);
      expect(execForm(cmd.args)).toEqual([`/app/services/${target}/main.js`]);
    }
  });

  test.each(TARGETS)('the %s image runs as 65532, with an exec-form HEALTHCHECK and OCI labels', (target) => {
    const users = effective(stage(target), 'USER').map((u) => u.args);
    expect(users[users.length - 1]).toMatch(/^65532(:65532)?$/);

    const [healthcheck] = effective(stage(target), 'HEALTHCHECK').slice(-1);
    const m = /^(.*?)\s*CMD\s+(\[.*\])$/.exec(healthcheck.args)!;
    expect(m[1]).toMatch(/--interval=\d+s/);
    expect(execForm(m[2])).toEqual(['/nodejs/bin/node', '/app/services/shared/healthcheck.js', '/readyz']);

    const labels = effective(stage(target), 'LABEL').map((l) => l.args).join(' ');
    for (const key of ['title', 'description', 'version', 'source', 'licenses', 'base.name']) {
      expect(labels).toMatch(new RegExp(`org\\.opencontainers\\.image\\.${key.replace('.', '\\.')}=`));
    }
    expect(labels).toContain(`org.opencontainers.image.title="kafka-platform-${target}"`);
    // The base actually used, whether the pinned default or a local base passed in.
    expect(labels).toContain('org.opencontainers.image.base.name="${NODE_RUNTIME_IMAGE}"');
    expect(all(stage('runtime'), 'ARG').map((a) => a.args)).toContain('NODE_RUNTIME_IMAGE');
    expect(all(stage('runtime'), 'ARG').map((a) => a.args)).toContain(`VERSION=${versions.images.services}`);
  });

  test('compiles exactly what the image runs: entry points and the healthcheck exist in services/', () => {
    for (const file of ['producer/main.ts', 'consumer/main.ts', 'shared/healthcheck.ts', 'tsconfig.build.json', 'package.json', 'package-lock.json']) {
      expect(fs.existsSync(path.join(PROJECT_ROOT, 'services', file))).toBe(true);
    }
  });
});

describe('.dockerignore', () => {
  const patterns = fs
    .readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  test('keeps dependencies, caches, state, VCS data, build output and tests out of the build context', () => {
    expect(patterns).toEqual(expect.arrayContaining(['**/node_modules', '.cache', 'cdktf.out', '.git', 'state', '__tests__', 'dist', '**/*.tfstate', '**/.env']));
  });

  test('does not exclude what the build copies', () => {
    for (const needed of ['services', 'tsconfig.json']) expect(patterns).not.toContain(needed);
    expect(patterns.some((p) => p.startsWith('!'))).toBe(false);
  });
});
