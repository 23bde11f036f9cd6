import { partitionsFor, platformTopics, POSTS_SIZING } from '../../config/topics';

describe('partitionsFor', () => {
  it('sizes for throughput when that needs more partitions than consumers', () => {
    // 20 MiB/s at 1 MiB/s per partition: 20, rounded up to a multiple of 3 brokers.
    expect(partitionsFor({ targetMessagesPerSecond: 20480, averageMessageBytes: 1024, perPartitionBytesPerSecond: 1048576, maxConsumers: 2, brokers: 3 })).toBe(21);
  });

  it('gives every consumer a partition when consumers outnumber the throughput need', () => {
    expect(partitionsFor({ targetMessagesPerSecond: 10, averageMessageBytes: 100, perPartitionBytesPerSecond: 1048576, maxConsumers: 8, brokers: 4 })).toBe(8);
  });
});

describe('platformTopics', () => {
  it('declares posts with replication 3, min.insync.replicas 2 and unclean election off', () => {
    const posts = platformTopics(3).find((t) => t.name === 'posts')!;
    expect(posts).toMatchObject({ replicationFactor: 3, config: { 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false' } });
    expect(posts.partitions).toBe(partitionsFor({ ...POSTS_SIZING, brokers: 3 }));
    expect(posts.partitions).toBeGreaterThanOrEqual(POSTS_SIZING.maxConsumers);
  });

  it('declares the dead-letter topic with a longer retention than posts', () => {
    const [posts, dlq] = platformTopics(3);
    expect(dlq.name).toBe('posts.dlq');
    expect(Number(dlq.config['retention.ms'])).toBeGreaterThan(Number(posts.config['retention.ms']));
  });
});
