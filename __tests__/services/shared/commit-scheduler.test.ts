import { setTimeout as sleep } from 'timers/promises';
import { CommitScheduler, CommitSnapshot, IDLE_COMMIT_MS } from '../../../services/shared/kafka/commit-scheduler';
import { createLogger } from '../../../services/shared/observability';

/**
 * The commit policy both consumers share (kafkajs' and @platformatic/kafka's), against a client
 * stand-in that records each commit: what is marked done is committed, in order, and nothing
 * that failed to commit is counted as committed.
 */
const logger = createLogger('consumer', 'fatal');
const schedulers: CommitScheduler[] = [];
afterEach(() => schedulers.splice(0).forEach((s) => s.stop()));

/** A scheduler over a list of "offsets" (numbers): a commit sends what the list holds and empties it. */
function setup(everyMessages: number, intervalMs = 60_000, send: (taken: number[]) => Promise<void> = async () => undefined) {
  const pending: number[] = [];
  const committed: number[][] = [];
  const scheduler = new CommitScheduler({ everyMessages, intervalMs }, logger, (): CommitSnapshot | undefined => {
    if (pending.length === 0) return undefined;
    const taken = pending.splice(0);
    return {
      send: async () => {
        await send(taken);
        committed.push(taken);
      },
      restore: () => pending.unshift(...taken),
    };
  });
  schedulers.push(scheduler);
  let next = 0;
  /** Marks `n` more messages done and hands them to the offsets. */
  const mark = (n: number) => {
    for (let i = 0; i < n; i++) {
      scheduler.marked();
      pending.push(next++);
    }
    scheduler.resolved(n);
  };
  return { scheduler, pending, committed, mark };
}

test('a background commit is due at half of everyMessages; processing waits at all of it', async () => {
  const { scheduler, mark } = setup(10);
  scheduler.batchStarted();
  mark(4);
  expect([scheduler.due(), scheduler.full()]).toEqual([false, false]);
  mark(1);
  expect([scheduler.due(), scheduler.full()]).toEqual([true, false]);
  mark(5);
  expect(scheduler.full()).toBe(true);
  await scheduler.commit();
  expect([scheduler.notCommitted(), scheduler.full()]).toEqual([0, false]);
});

test('marked but not yet in the offsets counts as not committed, and is not taken by a commit', async () => {
  const { scheduler, committed, mark } = setup(10);
  mark(2);
  scheduler.marked();
  expect(scheduler.notCommitted()).toBe(3);
  await scheduler.commit();
  expect(committed).toEqual([[0, 1]]);
  expect(scheduler.notCommitted()).toBe(1);
});

test('a failed commit puts its offsets back and counts them again; the next one sends them', async () => {
  let fail = true;
  const { scheduler, committed, pending, mark } = setup(10, 60_000, async () => {
    if (fail) throw new Error('NOT_COORDINATOR');
  });
  mark(3);
  await expect(scheduler.commit()).rejects.toThrow('NOT_COORDINATOR');
  expect({ pending: [...pending], notCommitted: scheduler.notCommitted(), committed }).toEqual({ pending: [0, 1, 2], notCommitted: 3, committed: [] });
  fail = false;
  await scheduler.commit();
  expect({ committed, notCommitted: scheduler.notCommitted() }).toEqual({ committed: [[0, 1, 2]], notCommitted: 0 });
});

test('commits run one at a time, in the order they were asked for', async () => {
  const order: string[] = [];
  const { scheduler, mark } = setup(10, 60_000, async (taken) => {
    order.push(`start ${taken.join(',')}`);
    await sleep(taken[0] === 0 ? 50 : 0);
    order.push(`end ${taken.join(',')}`);
  });
  mark(2);
  const first = scheduler.commit();
  // Marked while the first commit is out: the second commit takes them once the first is done.
  await sleep(10);
  mark(1);
  const second = scheduler.commit();
  expect(scheduler.busy()).toBe(true);
  await Promise.all([first, second]);
  expect(order).toEqual(['start 0,1', 'end 0,1', 'start 2', 'end 2']);
});

test(`a consumer with nothing in hand commits what it did within ${IDLE_COMMIT_MS} ms, and not once stopped`, async () => {
  const { scheduler, committed, mark } = setup(1000);
  scheduler.batchStarted();
  mark(3);
  await sleep(IDLE_COMMIT_MS * 4);
  // Still in a batch: the batch's end or the policy commits, not the idle timer.
  expect(committed).toEqual([]);
  scheduler.batchEnded();
  await sleep(IDLE_COMMIT_MS * 4);
  expect(committed).toEqual([[0, 1, 2]]);
  scheduler.stop();
  mark(1);
  await sleep(IDLE_COMMIT_MS * 4);
  expect(committed).toEqual([[0, 1, 2]]);
  expect(scheduler.notCommitted()).toBe(1);
});

test("a batch's control hands the last marked offset over before each commit and at the end, not for every mark", async () => {
  const handed: string[] = [];
  let last: string | undefined;
  const { scheduler } = setup(4);
  const { control, handOver } = scheduler.batchControl(
    (offset) => (last = offset),
    () => {
      if (last !== undefined) handed.push(last);
      last = undefined;
    },
    { shouldContinue: () => true, heartbeat: async () => undefined },
  );
  scheduler.batchStarted();
  // Half of everyMessages (2) makes a background commit due: the second mark hands over.
  expect([control.markProcessed('10'), control.markProcessed('11')]).toEqual([false, false]);
  expect(handed).toEqual(['11']);
  control.markProcessed('12');
  await control.commit();
  expect(handed).toEqual(['11', '12']);
  control.markProcessed('13');
  handOver();
  expect(handed).toEqual(['11', '12', '13']);
  scheduler.batchEnded();
});
