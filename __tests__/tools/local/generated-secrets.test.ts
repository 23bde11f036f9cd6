import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { localUserPasswordFile } from '../../../tools/local/kafka';
import { PROJECT_ROOT } from '../../../tools/paths';
import { KnownSecret, filesUnder, findSecrets, generatedDirs, generatedSecrets, gitList } from '../../support/secrets';

/**
 * The passwords, CA and keystores the local clusters and PostgreSQL generate stay in git-ignored,
 * owner-only files, and nothing git could pick up (tracked, or untracked and not ignored) holds
 * one of them, a private key or a token.
 */

const isIgnored = (file: string) => {
  try {
    execFileSync('git', ['check-ignore', '-q', '--no-index', file], { cwd: PROJECT_ROOT });
    return true;
  } catch {
    return false;
  }
};

/** Secret material by file type: key stores and the files holding generated passwords. */
const SECRET_FILE = /(^|\/)(password|[^/]+\.password|[^/]+\.p12|[^/]+\.jks|[^/]+\.key)$/;

let known: KnownSecret[];
beforeAll(() => {
  known = generatedSecrets();
});

describe("the local clusters' generated secrets", () => {
  test('include the SCRAM passwords the services use, so the scans below look for them', () => {
    const files = known.map((k) => path.join(PROJECT_ROOT, k.file));
    expect(files).toEqual(expect.arrayContaining([localUserPasswordFile('producer'), localUserPasswordFile('consumer')]));
  });

  test('live only in git-ignored files readable by their owner alone', () => {
    const files = generatedDirs().flatMap(filesUnder);
    // A file is secret by type, or because it holds a generated password (e.g. server.properties).
    const secret = files.filter((f) => SECRET_FILE.test(f) || findSecrets(f, fs.readFileSync(f, 'utf8'), known).length > 0);
    expect(secret.length).toBeGreaterThanOrEqual(6);
    const exposed = secret
      .map((f) => ({ file: path.relative(PROJECT_ROOT, f), ignored: isIgnored(f), ownerOnly: (fs.statSync(f).mode & 0o077) === 0 }))
      .filter((f) => !f.ignored || !f.ownerOnly);
    expect(exposed).toEqual([]);
  });

  test('appear in no log or other generated file that is not itself a secret file', () => {
    const leaks = generatedDirs()
      .flatMap(filesUnder)
      .filter((f) => !SECRET_FILE.test(f) && !/server\.properties$/.test(f))
      .flatMap((f) => findSecrets(path.relative(PROJECT_ROOT, f), fs.readFileSync(f, 'utf8'), known));
    expect(leaks).toEqual([]);
  });
});

describe('what git could pick up', () => {
  test('git status reports the generated directories as ignored', () => {
    const ignored = gitList(['status', '--porcelain', '--ignored', '--untracked-files=normal']).filter((l) => l.startsWith('!! ')).map((l) => l.slice(3));
    const covered = (dir: string) => ignored.some((i) => path.join(PROJECT_ROOT, i).replace(/\/$/, '') === dir || dir.startsWith(path.join(PROJECT_ROOT, i)));
    expect(generatedDirs().filter((d) => !covered(d))).toEqual([]);
  });

  test('no untracked file outside .gitignore holds a secret', () => {
    const untracked = gitList(['ls-files', '--others', '--exclude-standard']);
    const findings = untracked.flatMap((f) => findSecrets(f, fs.readFileSync(path.join(PROJECT_ROOT, f), 'utf8'), known));
    expect(findings).toEqual([]);
  });

  test('no tracked file holds a secret', () => {
    const tracked = gitList(['ls-files']).filter((f) => fs.existsSync(path.join(PROJECT_ROOT, f)));
    expect(tracked.length).toBeGreaterThan(100);
    const findings = tracked.flatMap((f) => findSecrets(f, fs.readFileSync(path.join(PROJECT_ROOT, f), 'utf8'), known));
    expect(findings).toEqual([]);
  });
});
