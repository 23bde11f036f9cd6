const fs = require('fs');

/**
 * Which suites share what on this host, for the sequencer and the lanes runner.
 *
 * The Kubernetes lane holds every suite that needs the local Kubernetes binaries (built in the
 * background on a fresh machine, so they run last in their lane) and every suite that uses
 * something of the host two suites must not use at once:
 * - the real nodes' kube-proxy and enforcer rules in the host's iptables (the Kubernetes suites);
 * - the image pipeline's podman storage and the local registry, which the deploy test pushes to
 *   and a suite that started it stops;
 * - the local PostgreSQL: one suite stops it to prove a state backend outage, and Terraform's
 *   `pg` backend holds one database-wide lock while it creates a stack's first state, which a
 *   suite's apply beside another's creation was refused on at once.
 * The other lane holds the rest, fault tests included (they share one fault-test Kafka cluster,
 * so they too run one at a time, in that lane).
 */
const NEEDS_KUBERNETES = /[\\/]__tests__[\\/](stacks[\\/]deploy[\\/]|tools[\\/]local[\\/]kubernetes[\\/]|modules[\\/]storage-class-check\.test)/;
const OWNS_IMAGES = /[\\/]__tests__[\\/]tools[\\/]images[\\/]/;
/** Suites that start, stop or write to the local PostgreSQL import it from there. */
const USES_POSTGRES = /from '[./]*tools\/local-postgres'/;

const inKubernetesLane = (testPath) =>
  NEEDS_KUBERNETES.test(testPath) || OWNS_IMAGES.test(testPath) || USES_POSTGRES.test(fs.readFileSync(testPath, 'utf8'));

module.exports = { NEEDS_KUBERNETES, inKubernetesLane };
