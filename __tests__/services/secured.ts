import { KafkaTools, runKafkaTool } from '../../tools/kafka-tool';
import { localCaFile, localSaslBootstrapServers, localUserPasswordFile } from '../../tools/local/kafka';
import { bootstrapServers } from '../support/kafka';

/**
 * The services as they run in Kubernetes, on the local cluster's SASL_SSL listener: TLS against
 * the local CA, SCRAM-SHA-512 as the `producer` or `consumer` user, and only the ACLs granted here
 * (through the plaintext listener, whose ANONYMOUS principal is a super user).
 */

/** A run's own topic, its DLQ and the consumer group. */
export interface PipelineNames {
  readonly topic: string;
  readonly dlq: string;
  readonly group: string;
}

/** The environment of a service on the SASL_SSL listener as `user`. */
export function securedEnv(user: 'producer' | 'consumer', overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: localSaslBootstrapServers(),
    KAFKA_TLS_CA_FILE: localCaFile(),
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD_FILE: localUserPasswordFile(user),
    ...overrides,
  };
}

function acl(args: readonly string[]): Promise<string> {
  return runKafkaTool(KafkaTools.acls, ['--bootstrap-server', bootstrapServers(), ...args]);
}

/** The grants config/topics.ts gives `posts` and `posts.dlq`, on a run's own names. */
export async function grantPipelineAcls(t: PipelineNames): Promise<void> {
  await Promise.all([
    acl(['--add', '--allow-principal', 'User:producer', '--operation', 'Write', '--operation', 'Describe', '--topic', t.topic]),
    acl(['--add', '--allow-principal', 'User:consumer', '--operation', 'Read', '--operation', 'Describe', '--topic', t.topic]),
    acl(['--add', '--allow-principal', 'User:consumer', '--operation', 'Read', '--group', t.group]),
    acl(['--add', '--allow-principal', 'User:consumer', '--operation', 'Write', '--operation', 'Describe', '--topic', t.dlq]),
  ]);
  // New ACLs reach each broker's authorizer through the metadata log, normally within milliseconds.
  await new Promise((r) => setTimeout(r, 1000));
}

/** Removes what grantPipelineAcls added; a failure here must not hide the test's own result. */
export async function revokePipelineAcls(t: PipelineNames): Promise<void> {
  await acl(['--remove', '--force', '--topic', t.topic, '--topic', t.dlq, '--group', t.group]).catch(() => undefined);
}
