const TestRunner = require('jest-runner').default;
const { EmittingTestRunner } = require('jest-runner');
const { inKubernetesLane } = require('./lanes');

/**
 * Two lanes of suites side by side, each one worker process running its suites one at a time
 * (__tests__/support/lanes.js says which suite goes where). A whole `npm test` waits on broker
 * restarts, rollouts and Helm for a third of its time with one suite at a time; the second lane
 * fills that. `--runInBand` (a single file, `npm run test:chaos`) keeps jest's one in-process lane.
 */
class LanesRunner extends EmittingTestRunner {
  #listeners = [];

  async runTests(tests, watcher, options) {
    // One look per suite: the lane test reads the suite's file.
    const inLane = new Set(tests.filter((t) => inKubernetesLane(t.path)));
    const kubernetes = tests.filter((t) => inLane.has(t));
    const other = tests.filter((t) => !inLane.has(t));
    if (options.serial || kubernetes.length === 0 || other.length === 0) {
      return this.#lane(this._globalConfig).runTests(tests, watcher, options);
    }
    const oneWorker = { ...this._globalConfig, maxWorkers: 1 };
    await Promise.all([this.#lane(oneWorker).runTests(other, watcher, options), this.#lane(oneWorker).runTests(kubernetes, watcher, options)]);
  }

  on(eventName, listener) {
    const entry = { eventName, listener };
    this.#listeners.push(entry);
    return () => {
      this.#listeners = this.#listeners.filter((e) => e !== entry);
    };
  }

  /** jest's own runner, reporting to whoever listens to this one. */
  #lane(globalConfig) {
    const runner = new TestRunner(globalConfig, this._context);
    for (const { eventName, listener } of this.#listeners) runner.on(eventName, listener);
    return runner;
  }
}

module.exports = LanesRunner;
