import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Logger } from '../observability';
import { StartupRetry, untilBrokersAnswer } from './startup';
import { ConsumerOptions, IncomingBatch, IncomingMessage, MessageConsumer } from './types';

/** How often, in messages, a batch handler's shouldContinue() asks kafkajs whether the partition is still assigned. */
const REVOCATION_CHECK_EVERY = 64;

/** A consumer with nothing in hand for this long commits what it processed. */
const IDLE_COMMIT_MS = 20;

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

  // Done-but-uncommitted offsets live in kafkajs (resolveOffset); these decide when to commit them.
  // Commits run in the background, one at a time; processing waits only when COMMIT_EVERY done
  // messages are not committed yet, which bounds what a crash redelivers.
  const startAfter = Math.max(1, Math.floor(options.commit.everyMessages / 2));
  // Done and told to kafkajs since the last commit snapshot; done but not told yet (see resolveDone).
  let doneSinceSnapshot = 0;
  let unresolved = 0;
  let inFlightCount = 0;
  let queuedCommits = 0;
  let lastCommitAt = Date.now();
  let activeBatches = 0;
  let lastBatchEndAt = 0;
  let committer: Pick<EachBatchPayload, 'commitOffsetsIfNecessary' | 'uncommittedOffsets'> | undefined;
  // In order, so an older snapshot never lands after a newer one.
  let commits: Promise<void> = Promise.resolve();
  const notCommitted = () => doneSinceSnapshot + unresolved + inFlightCount;
  /** Commits everything done by the time the commit starts; resolves when Kafka has it. */
  const commit = (): Promise<void> => {
    queuedCommits++;
    // A failed commit fails its caller only; the next one starts afresh.
    commits = commits
      .catch(() => undefined)
      .then(async () => {
        try {
          if (!committer) return;
          const count = doneSinceSnapshot;
          const pending = committer.uncommittedOffsets();
          doneSinceSnapshot -= count;
          inFlightCount = count;
          lastCommitAt = Date.now();
          try {
            if (pending.topics.length > 0) await committer.commitOffsetsIfNecessary(pending);
          } catch (err) {
            doneSinceSnapshot += count;
            throw err;
          } finally {
            inFlightCount = 0;
          }
        } finally {
          queuedCommits--;
        }
      });
    return commits;
  };
  const commitInBackground = () => {
    commit().catch((err: Error) => logger.warn({ event: 'commit_failed', err }, `commit failed, done messages may be redelivered: ${err.message}`));
  };
  const commitDue = () => {
    const done = doneSinceSnapshot + unresolved;
    return queuedCommits === 0 && (done >= startAfter || (done > 0 && Date.now() - lastCommitAt >= options.commit.intervalMs));
  };
  // A consumer that ran out of messages commits what it did at once, not at the next
  // COMMIT_EVERY or COMMIT_INTERVAL_MS: its lag reaches 0 within IDLE_COMMIT_MS of the last
  // message (bench/: the interval had the last messages of a burst wait up to a second).
  const idleCommits = setInterval(() => {
    if (activeBatches > 0 || stopped || queuedCommits > 0) return;
    const idle = Date.now() - lastBatchEndAt >= IDLE_COMMIT_MS;
    if (commitDue() || (idle && doneSinceSnapshot + unresolved > 0)) commitInBackground();
  }, IDLE_COMMIT_MS);
  idleCommits.unref();
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
          activeBatches++;
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
            // Messages are done in order, so telling kafkajs the last done one is enough, and is
            // due only before a commit (kafkajs does 64-bit offset arithmetic on each call).
            let lastDone: string | undefined;
            let batchUnresolved = 0;
            const resolveDone = () => {
              if (lastDone !== undefined) resolveOffset(lastDone);
              lastDone = undefined;
              // Counted as committable only together with what kafkajs will commit.
              doneSinceSnapshot += batchUnresolved;
              unresolved -= batchUnresolved;
              batchUnresolved = 0;
            };
            try {
              await handler(incoming, {
                shouldContinue,
                markProcessed: (offset) => {
                  lastDone = offset;
                  batchUnresolved++;
                  unresolved++;
                  if (commitDue()) {
                    resolveDone();
                    commitInBackground();
                  }
                  return notCommitted() >= options.commit.everyMessages;
                },
                commit: () => {
                  resolveDone();
                  return commit();
                },
                heartbeat,
              });
            } finally {
              resolveDone();
            }
            // Before giving the partition up, everything done is committed; otherwise commit when due.
            if (!stillOurs() && notCommitted() > 0) await commit();
            else if (commitDue()) commitInBackground();
          } finally {
            lastBatchEndAt = Date.now();
            if (--activeBatches === 0) batchesDone();
          }
        },
      });
    },
    stop: async () => {
      stopped = true;
      clearInterval(idleCommits);
      // The running batch sees shouldContinue() false, commits and returns; then commit what an idle stretch left.
      if (activeBatches > 0) await new Promise<void>((resolve) => (batchesDone = resolve));
      if (notCommitted() > 0 || queuedCommits > 0) await commit().catch((err: Error) => logger.warn({ event: 'commit_failed', err }, `final commit failed: ${err.message}`));
      await consumer.disconnect();
    },
    isReady: () => joined && !stopped,
  };
}
