import { RecentIds } from '../../../services/consumer/recent-ids';

describe('RecentIds', () => {
  test('recognises an id seen among the last N distinct ones, and forgets the oldest first', () => {
    const ids = new RecentIds(3);
    expect(['a', 'b', 'c'].map((id) => ids.remember(id))).toEqual([false, false, false]);
    expect(ids.remember('a')).toBe(true);
    // A repeat does not refresh its place: 'a' is still the oldest and goes first.
    expect(ids.remember('d')).toBe(false);
    expect(ids.remember('a')).toBe(false);
    expect(ids.remember('c')).toBe(true);
    expect(ids.size).toBe(3);
  });

  test('capacity 0 turns the check off', () => {
    const ids = new RecentIds(0);
    expect([ids.remember('a'), ids.remember('a')]).toEqual([false, false]);
  });

  test('stays constant-time once full: 1,000,000 ids through a 100,000 cache take about as long per id as the first 100,000', () => {
    const ids = new RecentIds(100_000);
    const time = (from: number, count: number) => {
      const started = process.hrtime.bigint();
      for (let i = from; i < from + count; i++) ids.remember(`3f1c2a9e-8d3b-4c1e-9f7a-${i}`);
      return Number(process.hrtime.bigint() - started) / count;
    };
    const filling = time(0, 100_000);
    const full = time(100_000, 900_000);
    // The Set.values().next() eviction took minutes here, growing with every id.
    expect(full).toBeLessThan(filling * 5);
    expect(ids.size).toBe(100_000);
  });
});
