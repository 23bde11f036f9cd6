import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readConfig } from 'jest-config';
import { lastTestRun } from '../../bench/test-time';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RecordRunReporter = require('../support/record-run.js');

/** jest's own global config for a command line (`jest <files> -t <name>`), as the reporter receives it. */
async function globalConfig(args: string[], testNamePattern?: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const argv = { $0: 'jest', _: args, testNamePattern } as any;
  return (await readConfig(argv, path.resolve(__dirname, '../..'))).globalConfig;
}

/** jest's aggregated results of a run of two files, as `jest --json` writes them. */
const results = { startTime: Date.parse('2026-11-23T10:00:00Z'), numTotalTests: 12, numFailedTests: 1, testResults: [{ perfStats: { end: Date.parse('2026-11-23T10:20:00Z') } }, { perfStats: { end: Date.parse('2026-11-23T10:25:30Z') } }] };

describe("the bench's npm test row", () => {
  let dir: string;
  const saved = process.env.KAFKA_PLATFORM_CACHE;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'record-run-'));
    process.env.KAFKA_PLATFORM_CACHE = dir;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.KAFKA_PLATFORM_CACHE;
    else process.env.KAFKA_PLATFORM_CACHE = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('is the wall time of the last whole-suite run, from start to the last file', async () => {
    new RecordRunReporter(await globalConfig([])).onRunComplete(new Set(), results);
    expect(lastTestRun(path.join(dir, 'jest-results.json'))).toMatchObject({ wallSeconds: 1530, tests: 12, failed: 1, finishedAt: '2026-11-23T10:25:30.000Z' });
  });

  test('ignores runs narrowed to some files or test names: they are not the suite', async () => {
    new RecordRunReporter(await globalConfig(['__tests__/bench'])).onRunComplete(new Set(), results);
    new RecordRunReporter(await globalConfig([], 'row')).onRunComplete(new Set(), results);
    expect(fs.existsSync(path.join(dir, 'jest-results.json'))).toBe(false);
    expect(lastTestRun(path.join(dir, 'jest-results.json'))).toBeUndefined();
  });
});
