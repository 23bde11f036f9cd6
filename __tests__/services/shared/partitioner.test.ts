import { randomBytes } from 'crypto';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionForKey } from '../../../services/shared/partitioner';

// kafkajs' own murmur2 (a port of the Java client's), the reference the fast version must match.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

describe('key partitioning', () => {
  test('murmur2 equals kafkajs\' for 20,000 random keys of every length remainder, empty and multi-byte ones included', () => {
    const keys: Buffer[] = [Buffer.alloc(0), Buffer.from('ü-键-🔑', 'utf8')];
    for (let i = 0; i < 20_000; i++) keys.push(randomBytes(i % 67));
    const mismatches = keys.filter((k) => murmur2(k) !== kafkajsMurmur2(k));
    expect(mismatches.map((k) => k.toString('hex'))).toEqual([]);
  });

  test('a keyed message gets the partition kafkajs\' default partitioner gives it', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 7, 60]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
      for (let i = 0; i < 2000; i++) {
        const key = `3f1c2a9e-8d3b-4c1e-9f7a-${i}`;
        expect(partitionForKey(key, partitions)).toBe(partitioner({ topic: 't', partitionMetadata, message: { key, value: 'v' } }));
      }
    }
  });
});
