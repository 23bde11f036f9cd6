import { probeGroups } from '../../../../tools/local/kafka/cluster';

/** Kafka's own placement of a group on an offsets partition (GroupCoordinator#partitionFor). */
function javaPartitionFor(group: string, partitions: number): number {
  // Java's String.hashCode, written out independently: s[0]*31^(n-1) + ... + s[n-1], as a 32-bit int.
  let h = 0n;
  for (const c of group) h = (h * 31n + BigInt(c.charCodeAt(0))) & 0xffffffffn;
  const signed = Number(BigInt.asIntN(32, h));
  return (signed === -2147483648 ? 0 : Math.abs(signed)) % partitions;
}

describe('probeGroups (the local cluster waits for a coordinator of every offsets partition)', () => {
  test.each([1, 10, 50])('names one group for each of %i partitions', (partitions) => {
    const groups = probeGroups('local-kafka-readiness', partitions);
    expect(groups).toHaveLength(partitions);
    expect(new Set(groups.map((g) => javaPartitionFor(g, partitions)))).toEqual(new Set(Array.from({ length: partitions }, (_, i) => i)));
  });

  test("places groups as Java's String.hashCode does", () => {
    // "hello".hashCode() is 99162322 in Java; 99162322 % 10 = 2.
    expect(javaPartitionFor('hello', 10)).toBe(2);
  });
});
