import { Kafka } from 'kafkajs';
import { RequiredTopic } from './types';

/**
 * Fails, before anything is read or written, when a topic the service uses does not exist or
 * its user may not describe it, with an error naming the topic, its setting and the fix.
 * Otherwise a missing topic shows up later as kafkajs' bare `This server does not host this
 * topic-partition`, and a missing DLQ only when the first malformed message arrives.
 */
export async function requireTopics(kafka: Kafka, required: readonly RequiredTopic[]): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 2 } });
  await admin.connect();
  try {
    for (const r of required) {
      await admin.fetchTopicMetadata({ topics: [r.topic] }).catch((err: unknown) => {
        throw explainTopicError(err, r);
      });
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** kafkajs' protocol error type (`UNKNOWN_TOPIC_OR_PARTITION`), also through its retry wrapper. */
function protocolErrorType(err: unknown): string | undefined {
  for (let e = err as { type?: unknown; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.type === 'string') return e.type;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return undefined;
}

function explainTopicError(err: unknown, r: RequiredTopic): Error {
  const message = err instanceof Error ? err.message : String(err);
  switch (protocolErrorType(err)) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return new Error(
        `topic "${r.topic}" (${r.setting}) does not exist: create it with kafka-stack (the platform's topics are declared in config/topics.ts) or set ${r.setting} to an existing topic`,
      );
    case 'TOPIC_AUTHORIZATION_FAILED':
      return new Error(`${message}: this service's user may not use topic "${r.topic}" (${r.setting}); grant it Describe and ${r.operation} on the topic (config/topics.ts)`);
    default:
      return err instanceof Error ? err : new Error(message);
  }
}
