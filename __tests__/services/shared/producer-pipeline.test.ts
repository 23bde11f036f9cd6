import { MessageProducer, OutgoingMessage } from '../../../services/shared/kafka';
import { ProducerPipeline } from '../../../services/shared/producer-pipeline';

/**
 * The pipeline's rules, against a simulated client (the real one is proven end to end by
 * __tests__/services/pipeline.test.ts and the leader-kill chaos test): each request holds one
 * partition's messages in order, a partition never has two requests out, and the acknowledged
 * prefix never claims a message that is not acknowledged.
 */

interface Request {
  readonly partition: number;
  readonly ids: string[];
  done: boolean;
  resolve(): void;
  reject(err: Error): void;
}

/** A client whose requests complete only when the test says so; partition = key mod 3. */
class SimulatedClient implements MessageProducer {
  readonly requests: Request[] = [];
  readonly open = new Set<number>();
  overlapping = false;
  /** Leader of each partition; none known by default. */
  leaders: Record<number, number> = {};

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  isConnected(): boolean {
    return true;
  }
  async send(): Promise<void> {
    throw new Error('not used by the pipeline');
  }
  async partitionsOf(_topic: string, messages: readonly OutgoingMessage[]): Promise<number[]> {
    return messages.map((m) => Number(m.key) % 3);
  }
  leaderOf(_topic: string, partition: number): number | undefined {
    return this.leaders[partition];
  }
  sendToPartition(_topic: string, partition: number, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.open.has(partition)) this.overlapping = true;
    this.open.add(partition);
    return new Promise((resolve, reject) => {
      const request: Request = {
        partition,
        ids: messages.map((m) => String(m.value)),
        done: false,
        resolve: () => {
          request.done = true;
          this.open.delete(partition);
          resolve();
        },
        reject: (err) => {
          request.done = true;
          this.open.delete(partition);
          reject(err);
        },
      };
      this.requests.push(request);
    });
  }
  /** Completes the oldest open request of `partition`. */
  ack(partition: number): void {
    const r = this.requests.find((x) => x.partition === partition && !x.done);
    if (!r) throw new Error(`no open request for partition ${partition}`);
    r.resolve();
  }
}

const messages = (from: number, count: number): OutgoingMessage[] => Array.from({ length: count }, (_, i) => ({ key: String(from + i), value: String(from + i) }));
const tick = () => new Promise((r) => setImmediate(r));
const options = { batchSize: 4, lingerMs: 0, maxBuffered: 100, sendTimeoutMs: 10_000 };

describe('ProducerPipeline', () => {
  test('one request per partition at a time, each with its messages in push order, all partitions at once', async () => {
    const client = new SimulatedClient();
    const pipeline = new ProducerPipeline(client, 't', options);
    await pipeline.push(messages(0, 30));
    await tick();
    expect(client.requests.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
    expect(client.requests.find((r) => r.partition === 0)!.ids).toEqual(['0', '3', '6', '9']);
    const flushed = pipeline.flush();
    while (client.open.size > 0) {
      for (const p of [...client.open]) client.ack(p);
      await tick();
    }
    await flushed;
    expect(client.overlapping).toBe(false);
    for (const p of [0, 1, 2]) {
      const ids = client.requests.filter((r) => r.partition === p).flatMap((r) => r.ids.map(Number));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(ids.every((id) => id % 3 === p)).toBe(true);
    }
    expect(pipeline.acknowledgedPrefix()).toBe(30);
  });

  test('the acknowledged prefix stops at the oldest message not yet acknowledged', async () => {
    const client = new SimulatedClient();
    const acks: number[] = [];
    const pipeline = new ProducerPipeline(client, 't', options, (a) => acks.push(a.messages));
    await pipeline.push(messages(0, 12));
    await tick();
    client.ack(1);
    client.ack(2);
    await tick();
    // Message 0 (partition 0) is still out: nothing is acknowledged from the start on.
    expect(pipeline.acknowledgedPrefix()).toBe(0);
    client.ack(0);
    await tick();
    // Partition 0's first request held 0, 3, 6, 9; partitions 1 and 2 have their second requests out (from 13 on).
    expect(pipeline.acknowledgedPrefix()).toBe(12);
    expect(acks).toEqual([4, 4, 4]);
  });

  test('push waits while MAX_BUFFERED messages are unacknowledged', async () => {
    const client = new SimulatedClient();
    const pipeline = new ProducerPipeline(client, 't', { ...options, maxBuffered: 12 });
    await pipeline.push(messages(0, 12));
    let pushed = false;
    const second = pipeline.push(messages(12, 3)).then(() => (pushed = true));
    await tick();
    expect(pushed).toBe(false);
    client.ack(0);
    await second;
    expect(pushed).toBe(true);
  });

  test('linger holds a partial batch until its time is up; flush sends at once', async () => {
    const client = new SimulatedClient();
    const pipeline = new ProducerPipeline(client, 't', { ...options, lingerMs: 60_000 });
    await pipeline.push(messages(0, 2));
    await tick();
    expect(client.requests).toEqual([]);
    const flushed = pipeline.flush();
    await tick();
    expect(client.requests.map((r) => r.ids)).toEqual([['0'], ['1']]);
    client.ack(0);
    client.ack(1);
    await flushed;
  });

  test('a partition that sends takes along the waiting partitions of its leader, not those of other leaders', async () => {
    const client = new SimulatedClient();
    client.leaders = { 0: 1, 1: 2, 2: 1 };
    const pipeline = new ProducerPipeline(client, 't', { ...options, lingerMs: 60_000 });
    // Partitions 1 and 2 linger; partition 0 fills its batch of 4 and must send.
    await pipeline.push([...messages(1, 1), ...messages(2, 1)]);
    await tick();
    expect(client.requests).toEqual([]);
    await pipeline.push([0, 3, 6, 9].map((k) => ({ key: String(k), value: String(k) })));
    await tick();
    expect(client.requests.map((r) => [r.partition, r.ids])).toEqual([
      [0, ['0', '3', '6', '9']],
      [2, ['2']],
    ]);
    // Partition 1's leader had no request: it still lingers.
    expect(client.open.has(1)).toBe(false);
  });

  test('a failed request fails the pipeline: flush and later pushes reject with it, nothing after it counts as acknowledged', async () => {
    const client = new SimulatedClient();
    const pipeline = new ProducerPipeline(client, 't', options);
    await pipeline.push(messages(0, 6));
    await tick();
    client.requests.find((r) => r.partition === 1 && !r.done)!.reject(new Error('NOT_ENOUGH_REPLICAS'));
    client.ack(0);
    client.ack(2);
    await expect(pipeline.flush()).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    await expect(pipeline.push(messages(6, 1))).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    expect(pipeline.acknowledgedPrefix()).toBe(1);
  });

  test('a request not acknowledged within SEND_TIMEOUT_MS fails the pipeline with the partition and first message', async () => {
    const client = new SimulatedClient();
    const pipeline = new ProducerPipeline(client, 't', { ...options, sendTimeoutMs: 50 });
    await pipeline.push(messages(0, 1));
    await expect(pipeline.flush()).rejects.toThrow('1 messages to partition 0 from message 0 not acknowledged within SEND_TIMEOUT_MS=50 ms');
  });
});
