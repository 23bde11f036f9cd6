/**
 * Which suites share what on this host, for the sequencer and the lanes runner.
 *
 * The Kubernetes lane holds every suite that needs the local Kubernetes binaries (built in the
 * background on a fresh machine, so they run last in their lane) and every suite that owns
 * something of the host only one of them may hold at a time: the real nodes' kube-proxy and
 * enforcer rules in the host's iptables, and the image pipeline's podman storage and local
 * registry (which the deploy test pushes to and a suite that started it stops). The other lane
 * holds the rest, fault tests included (they share one fault-test Kafka cluster, so they run one
 * at a time there too).
 */
const NEEDS_KUBERNETES = /[\\/]__tests__[\\/](stacks[\\/]deploy[\\/]|tools[\\/]local[\\/]kubernetes[\\/]|modules[\\/]storage-class-check\.test)/;
const OWNS_IMAGES = /[\\/]__tests__[\\/]tools[\\/]images[\\/]/;

const inKubernetesLane = (testPath) => NEEDS_KUBERNETES.test(testPath) || OWNS_IMAGES.test(testPath);

module.exports = { NEEDS_KUBERNETES, inKubernetesLane };
