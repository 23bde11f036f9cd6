import { spawnSync } from 'child_process';
import * as path from 'path';
import { PROJECT_ROOT } from '../tools/paths';

/**
 * The suite runs TypeScript through ts-jest and tsx, which strip types file by file
 * (`isolatedModules`) and never report a type error: this is where one fails the build.
 */
test('the whole project type-checks (tsc --noEmit over tsconfig.json)', () => {
  const tsc = path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', PROJECT_ROOT], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  expect({ status: result.status, errors: `${result.stdout}${result.stderr}`.trim() }).toEqual({ status: 0, errors: '' });
}, 180_000);
