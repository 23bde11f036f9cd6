const Sequencer = require('@jest/test-sequencer').default;
const { NEEDS_KUBERNETES } = require('./lanes');

/**
 * Jest's own order (failed first, then slowest first), except that the suites needing the local
 * Kubernetes run last: on a fresh machine its binaries build in the background meanwhile
 * (__tests__/support/kubernetes-build.ts). The lanes runner keeps this order within each lane.
 */
class KubernetesLastSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    return [...sorted.filter((t) => !NEEDS_KUBERNETES.test(t.path)), ...sorted.filter((t) => NEEDS_KUBERNETES.test(t.path))];
  }
}

module.exports = KubernetesLastSequencer;
