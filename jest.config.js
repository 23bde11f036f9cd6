/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  // One local Kafka cluster per test run, shared by every suite.
  globalSetup: '<rootDir>/__tests__/support/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/support/global-teardown.ts',
  // Suites that need the local Kubernetes last, while its binaries may still be building.
  testSequencer: '<rootDir>/__tests__/support/sequencer.js',
  // Two lanes of suites side by side (__tests__/support/lanes.js); `--runInBand` keeps one.
  runner: '<rootDir>/__tests__/support/lanes-runner.js',
  maxWorkers: 2,
  testTimeout: 120000,
  // Whole-suite runs keep their results for the bench's `npm test` row.
  reporters: ['default', '<rootDir>/__tests__/support/record-run.js'],
};
