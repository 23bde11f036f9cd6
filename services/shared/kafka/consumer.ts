import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Logger } from '../observability';
import { CommitScheduler } from './commit-scheduler';
import { StartupRetry, untilBrokersAnswer } from './startup';
import { ConsumerOptions, IncomingBatch, IncomingMessage, MessageConsumer } from './types';

/** How often, in messages, a batch handler's shouldContinue() asks kafkajs whether the partition is still assigned. */
const REVOCATION_CHECK_EVERY = 64;

/**
 * A group consumer with at-least-once delivery: kafkajs' auto-commit is off and offsets
 * are committed only for messages the handler marked processed.
 */
export function createConsumer(kafka: Kafka, logger: Logger, options: ConsumerOptions, startup: StartupRetry): MessageConsumer {
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(options.sessionTimeoutMs / 3)),
    // A stop waits for the fetch long-poll in flight: keep maxWaitMs short.
    maxWaitTimeInMs: options.fetch.maxWaitMs,
    minBytes: options.fetch.minBytes,
    maxBytes: options.fetch.maxBytes,
    maxBytesPerPartition: options.fetch.maxBytesPerPartition,
  });
  let joined = false;
  let stopped = false;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joined = true;
    logger.info({ event: 'group_join', groupId: e.payload.groupId, memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
  });
  consumer.on(consumer.events.DISCONNECT, () => (joined = false));
  consumer.on(consumer.events.STOP, () => (joined = false));
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    const error = e.payload.error;
    logger.error({ event: 'consumer_crash', restart: e.payload.restart, err: error }, `consumer crashed: ${error.message}`);
    // kafkajs restarts by itself after retriable errors; anything else ends the service.
    if (!e.payload.restart && !stopped) options.onFatal(error);
  });

  // Done-but-uncommitted offsets live in kafkajs (resolveOffset); the scheduler decides when to commit them.
  let committer: Pick<EachBatchPayload, 'commitOffsetsIfNecessary' | 'uncommittedOffsets'> | undefined;
  const commits = new CommitScheduler(options.commit, logger, () => {
    const c = committer;
    if (!c) return undefined;
    const pending = c.uncommittedOffsets();
    return {
      send: async () => {
        if (pending.topics.length > 0) await c.commitOffsetsIfNecessary(pending);
      },
      // A failed commit leaves the offsets in kafkajs: the next snapshot takes them again.
      restore: () => undefined,
    };
  });
  let batchesDone: () => void = () => undefined;

  return {
    start: async (handler) => {
      await untilBrokersAnswer('consumer connect', () => consumer.connect(), startup);
      await untilBrokersAnswer('subscribe', () => consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning }), startup);
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary, uncommittedOffsets }) => {
          committer = { commitOffsetsIfNecessary, uncommittedOffsets };
          commits.batchStarted();
          const stillOurs = () => !stopped && isRunning() && !isStale();
          // kafkajs builds a string key and looks the partition up for each isStale(): asked for
          // every message it was a visible share of the consumer's CPU. A stop is seen at once,
          // a revoked partition within REVOCATION_CHECK_EVERY messages (reprocessed at most, never lost).
          let calls = 0;
          let ours = true;
          const shouldContinue = () => {
            if (stopped) return false;
            if (++calls % REVOCATION_CHECK_EVERY === 0) ours = stillOurs();
            return ours;
          };
          try {
            // kafkajs' records already have the fields of IncomingMessage: handed over as they are,
            // not copied, which was one object per message for the garbage collector (bench/profile.ts).
            const incoming: IncomingBatch = { topic: batch.topic, partition: batch.partition, messages: batch.messages as unknown as IncomingMessage[] };
            // Telling kafkajs the last done message is enough (kafkajs does 64-bit offset arithmetic on each call).
            let lastDone: string | undefined;
            const { control, handOver } = commits.batchControl(
              (offset) => (lastDone = offset),
              () => {
                if (lastDone !== undefined) resolveOffset(lastDone);
                lastDone = undefined;
              },
              { shouldContinue, heartbeat },
            );
            try {
              await handler(incoming, control);
            } finally {
              handOver();
            }
            // Before giving the partition up, everything done is committed; otherwise commit when due.
            if (!stillOurs() && commits.notCommitted() > 0) await commits.commit();
            else if (commits.due()) commits.commitInBackground();
          } finally {
            if (commits.batchEnded() === 0) batchesDone();
          }
        },
      });
    },
    stop: async () => {
      stopped = true;
      commits.stop();
      // The running batch sees shouldContinue() false, commits and returns; then commit what an idle stretch left.
      if (commits.batchesInHand() > 0) await new Promise<void>((resolve) => (batchesDone = resolve));
      if (commits.notCommitted() > 0 || commits.busy()) await commits.commit().catch((err: Error) => logger.warn({ event: 'commit_failed', err }, `final commit failed: ${err.message}`));
      await consumer.disconnect();
    },
    isReady: () => joined && !stopped,
  };
}
