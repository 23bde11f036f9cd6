import { LocalKafkaCluster } from './cluster';
import { PLATFORM_LOCAL_KAFKA } from './layout';
import { externalAddresses } from './external-listener';

export * from './cluster';
export { PLATFORM_LOCAL_KAFKA, SIDE_CLUSTER_PORT_OFFSETS, shiftedPorts } from './layout';
export type { LocalKafkaSpec, LocalNode } from './layout';
export { LOCAL_SCRAM_USERS } from './secrets';
export { brokerTlsPassword, externalAddresses, externalListenerProblem, serveExternalKeystore } from './external-listener';
export { ensurePortFree } from '../process';
export type { Log } from '../process';

/** The platform's local cluster (`npm run kafka:up`), shared by the test suite and `npm start`. */
export const localKafka = new LocalKafkaCluster(PLATFORM_LOCAL_KAFKA);

/** Everything the platform's local cluster writes. */
export const LOCAL_KAFKA_DIR = PLATFORM_LOCAL_KAFKA.dir;

// The platform cluster's operations as plain functions, for scripts and tests.
export const localNodes = () => localKafka.nodes();
export const localNode = (id: number) => localKafka.node(id);
export const localBootstrapServers = () => localKafka.bootstrapServers();
export const localSaslBootstrapServers = () => localKafka.saslBootstrapServers();
export const localCaFile = () => localKafka.caFile();
export const localUserPasswordFile = (name: string) => localKafka.userPasswordFile(name);
export const runningPid: LocalKafkaCluster['runningPid'] = (node) => localKafka.runningPid(node);
export const clusterUp: LocalKafkaCluster['up'] = (options) => localKafka.up(options);
export const clusterDown: LocalKafkaCluster['down'] = (options) => localKafka.down(options);
export const clusterStatus: LocalKafkaCluster['status'] = () => localKafka.status();
export const waitForHealthy: LocalKafkaCluster['waitForHealthy'] = (options) => localKafka.waitForHealthy(options);
export const startNode: LocalKafkaCluster['startNode'] = (id, options) => localKafka.startNode(id, options);
export const stopNode: LocalKafkaCluster['stopNode'] = (id, options) => localKafka.stopNode(id, options);
export const describeQuorum: LocalKafkaCluster['describeQuorum'] = (servers) => localKafka.describeQuorum(servers);
export const localExternalAddresses = () => externalAddresses(PLATFORM_LOCAL_KAFKA);
