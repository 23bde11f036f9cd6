import * as fs from 'fs';
import * as path from 'path';
import { CACHE_DIR } from '../tools/paths';

/** The last whole-suite `npm test` run, as its reporter records it (__tests__/support/record-run.js). */
export const JEST_RESULTS = path.join(CACHE_DIR, 'jest-results.json');

export interface TestRunTime {
  readonly source: string;
  /** From jest's start to the end of its last test file. */
  readonly wallSeconds: number;
  readonly tests: number;
  readonly failed: number;
  /** When that run finished. */
  readonly finishedAt: string;
}

interface JestResults {
  startTime: number;
  numTotalTests: number;
  numFailedTests: number;
  testResults: { endTime?: number; perfStats?: { end?: number } }[];
}

/** Reads the last recorded run; undefined when none was recorded on this machine. */
export function lastTestRun(file = JEST_RESULTS): TestRunTime | undefined {
  if (!fs.existsSync(file)) return undefined;
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as JestResults;
  const ends = r.testResults.map((t) => t.endTime ?? t.perfStats?.end ?? 0).filter((t) => t > 0);
  if (ends.length === 0) return undefined;
  const end = Math.max(...ends);
  return {
    source: path.relative(process.cwd(), file),
    wallSeconds: (end - r.startTime) / 1000,
    tests: r.numTotalTests,
    failed: r.numFailedTests,
    finishedAt: new Date(end).toISOString(),
  };
}
