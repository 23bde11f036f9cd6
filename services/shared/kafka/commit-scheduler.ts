import { Logger } from '../observability';
import { BatchControl, CommitPolicy } from './types';

/** A consumer with nothing in hand for this long commits what it processed. */
export const IDLE_COMMIT_MS = 20;

/** What is done, taken for one commit: `send` commits it, `restore` puts it back when that failed. */
export interface CommitSnapshot {
  send(): Promise<void>;
  restore(): void;
}

/**
 * When a consumer commits (`CommitPolicy`), whatever client holds its offsets. Commits run in the
 * background, one at a time and in order, so an older snapshot never lands after a newer one;
 * processing waits only once `everyMessages` done messages are not committed yet, which bounds
 * what a crash redelivers. A consumer that ran out of messages commits at once, not at the next
 * `everyMessages` or `intervalMs`: its lag reaches 0 within IDLE_COMMIT_MS of the last message
 * (bench/: the interval had the last messages of a burst wait up to a second).
 */
export class CommitScheduler {
  private readonly startAfter: number;
  /** Done, and in the offsets a snapshot takes. */
  private done = 0;
  /** Done, not yet handed to those offsets (a consumer hands them over before a commit). */
  private unresolved = 0;
  private inFlight = 0;
  private queued = 0;
  private lastCommitAt = Date.now();
  private commits: Promise<void> = Promise.resolve();
  private activeBatches = 0;
  private lastBatchEndAt = 0;
  private stopped = false;
  private readonly idleCommits: NodeJS.Timeout;

  constructor(
    private readonly policy: CommitPolicy,
    private readonly logger: Logger,
    /** What is done now, for one commit; undefined when there is nothing to commit. */
    private readonly snapshot: () => CommitSnapshot | undefined,
  ) {
    this.startAfter = Math.max(1, Math.floor(policy.everyMessages / 2));
    this.idleCommits = setInterval(() => {
      if (this.activeBatches > 0 || this.stopped || this.queued > 0) return;
      const idle = Date.now() - this.lastBatchEndAt >= IDLE_COMMIT_MS;
      if (this.due() || (idle && this.done + this.unresolved > 0)) this.commitInBackground();
    }, IDLE_COMMIT_MS);
    this.idleCommits.unref();
  }

  /** One more message done, not yet in the offsets. */
  marked(): void {
    this.unresolved++;
  }

  /** `count` done messages are now in the offsets a snapshot takes. */
  resolved(count: number): void {
    this.done += count;
    this.unresolved -= count;
  }

  /** Done messages whose offsets Kafka does not have yet. */
  notCommitted(): number {
    return this.done + this.unresolved + this.inFlight;
  }

  /** True when processing must wait for a commit (`everyMessages` not committed). */
  full(): boolean {
    return this.notCommitted() >= this.policy.everyMessages;
  }

  /** A background commit is due: none queued, and half of `everyMessages` done or `intervalMs` passed. */
  due(): boolean {
    const marked = this.done + this.unresolved;
    return this.queued === 0 && (marked >= this.startAfter || (marked > 0 && Date.now() - this.lastCommitAt >= this.policy.intervalMs));
  }

  /** True while a commit is queued or running. */
  busy(): boolean {
    return this.queued > 0;
  }

  /** Commits everything in the offsets when the commit starts; resolves when Kafka has it. A failure fails this caller only. */
  commit(): Promise<void> {
    this.queued++;
    this.commits = this.commits
      .catch(() => undefined)
      .then(async () => {
        try {
          const count = this.done;
          const taken = this.snapshot();
          if (!taken) return;
          this.done -= count;
          this.inFlight = count;
          this.lastCommitAt = Date.now();
          try {
            await taken.send();
          } catch (err) {
            taken.restore();
            this.done += count;
            throw err;
          } finally {
            this.inFlight = 0;
          }
        } finally {
          this.queued--;
        }
      });
    return this.commits;
  }

  commitInBackground(): void {
    this.commit().catch((err: Error) => this.logger.warn({ event: 'commit_failed', err }, `commit failed, done messages may be redelivered: ${err.message}`));
  }

  /**
   * The handler's BatchControl for one batch. Messages are marked in order, so `remember` keeps
   * only the last one marked, and `hand` gives it to the client's offsets: before a commit and at
   * the batch's end (`handOver`), not for every message (offset arithmetic adds up at 100,000 a
   * second).
   */
  batchControl(
    remember: (offset: string) => void,
    hand: () => void,
    rest: Pick<BatchControl, 'shouldContinue' | 'heartbeat'>,
  ): { readonly control: BatchControl; readonly handOver: () => void } {
    let marked = 0;
    const handOver = () => {
      hand();
      this.resolved(marked);
      marked = 0;
    };
    const control: BatchControl = {
      ...rest,
      markProcessed: (offset) => {
        remember(offset);
        marked++;
        this.marked();
        if (this.due()) {
          handOver();
          this.commitInBackground();
        }
        return this.full();
      },
      commit: () => {
        handOver();
        return this.commit();
      },
    };
    return { control, handOver };
  }

  batchStarted(): void {
    this.activeBatches++;
  }

  batchesInHand(): number {
    return this.activeBatches;
  }

  /** Returns the number of batches still in hand. */
  batchEnded(): number {
    this.lastBatchEndAt = Date.now();
    return --this.activeBatches;
  }

  /** No more idle commits; what is left is committed by the consumer's own stop. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.idleCommits);
  }
}
