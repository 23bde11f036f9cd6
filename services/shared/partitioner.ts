/**
 * Key partitioning as every Kafka client does it: murmur2 of the key's bytes, made positive,
 * modulo the partition count, so a key lands on the same partition whichever client wrote it.
 * Written with 32-bit integer arithmetic (Math.imul): kafkajs' own version emulates 64-bit
 * longs and was a tenth of the producer's CPU time (bench/).
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 hash (the Java client's Utils.murmur2) of `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[blocks + 2] << 16;
  if (rest >= 2) h ^= data[blocks + 1] << 8;
  if (rest >= 1) {
    h ^= data[blocks];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a keyed message among `partitions`. */
export function partitionForKey(key: string | Buffer, partitions: number): number {
  return (murmur2(typeof key === 'string' ? Buffer.from(key, 'utf8') : key) & 0x7fffffff) % partitions;
}
