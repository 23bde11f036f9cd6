const fs = require('fs');
const path = require('path');

/**
 * Keeps jest's JSON results of every whole-suite `npm test` run in the cache (the same shape as
 * `jest --json`), so `npm run bench` can quote the suite's wall time. A run narrowed to some
 * files or test names is not the suite's time and is not kept.
 * The cache directory is tools/paths.ts' CACHE_DIR (a reporter is loaded before ts-jest).
 */
class RecordRunReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
  }

  onRunComplete(_contexts, results) {
    const g = this.globalConfig;
    // jest 30 keeps the file patterns as a TestPathPatterns object (`jest <files>`, `--testPathPatterns`).
    const narrowed = g.testPathPatterns.isSet() || (g.testNamePattern ?? '') !== '' || g.onlyChanged || g.findRelatedTests;
    if (narrowed) return;
    const cacheDir = process.env.KAFKA_PLATFORM_CACHE ?? path.join(g.rootDir, '.cache');
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.writeFileSync(path.join(cacheDir, 'jest-results.json'), JSON.stringify(results));
  }
}

module.exports = RecordRunReporter;
