import { Message, RecordMetadata } from 'kafkajs';
import { PartitionSend, sendUntilAcknowledged } from '../../../services/shared/kafka/producer';

/**
 * The acknowledgement check of services/shared/kafka/producer.ts against a simulated kafkajs `send`, which
 * can leave partitions out of its result as kafkajs 2.2.4 does after a leader moves (the real
 * failure is reproduced by __tests__/chaos/broker-kill.test.ts).
 */

interface Outcome {
  resolved: boolean;
  error?: Error;
}

function partitionSend(partition: number, values: string[], outcomes: Map<number, Outcome>): PartitionSend {
  const outcome: Outcome = { resolved: false };
  outcomes.set(partition, outcome);
  return {
    partition,
    messages: values.map((value) => ({ value, partition })),
    resolve: () => (outcome.resolved = true),
    reject: (error) => (outcome.error = error),
  };
}

const metadata = (topic: string, partitions: number[]): RecordMetadata[] => partitions.map((partition) => ({ topicName: topic, partition, errorCode: 0 }));

/** A simulated kafkajs send: records each call's messages, answers with what `answer` says for that call. */
function simulatedSend(answer: (call: number, partitions: number[]) => number[] | Error) {
  const calls: Message[][] = [];
  const send = async (messages: Message[]) => {
    calls.push(messages);
    const partitions = [...new Set(messages.map((m) => m.partition as number))];
    const a = answer(calls.length, partitions);
    if (a instanceof Error) throw a;
    return metadata('t', a);
  };
  return { calls, send };
}

describe('sendUntilAcknowledged', () => {
  test('partitions missing from the result are sent again, alone and in order, and resolve only then', async () => {
    const outcomes = new Map<number, Outcome>();
    const incomplete: number[][] = [];
    // The first call's result names partition 0 only, as after a leader moved partition 3 mid-call.
    const { calls, send } = simulatedSend((call, partitions) => (call === 1 ? [0] : partitions));
    await sendUntilAcknowledged(send, 't', [partitionSend(0, ['a', 'b'], outcomes), partitionSend(3, ['c', 'd'], outcomes)], (p) => incomplete.push(p));
    expect(calls.map((c) => c.map((m) => m.value))).toEqual([['a', 'b', 'c', 'd'], ['c', 'd']]);
    expect(incomplete).toEqual([[3]]);
    expect(outcomes.get(0)).toEqual({ resolved: true });
    expect(outcomes.get(3)).toEqual({ resolved: true });
  });

  test('a partition is not acknowledged by an entry of another topic or with an error code', async () => {
    const outcomes = new Map<number, Outcome>();
    let call = 0;
    const send = async (messages: Message[]): Promise<RecordMetadata[]> => {
      call++;
      if (call === 1) return [{ topicName: 'other', partition: 1, errorCode: 0 }, { topicName: 't', partition: 2, errorCode: 6 }];
      return metadata('t', [...new Set(messages.map((m) => m.partition as number))]);
    };
    await sendUntilAcknowledged(send, 't', [partitionSend(1, ['x'], outcomes), partitionSend(2, ['y'], outcomes)]);
    expect(call).toBe(2);
    expect([outcomes.get(1)?.resolved, outcomes.get(2)?.resolved]).toEqual([true, true]);
  });

  test('a failed call rejects every partition still waiting, and none it acknowledged before', async () => {
    const outcomes = new Map<number, Outcome>();
    const failure = new Error('KafkaJSNumberOfRetriesExceeded');
    const { send } = simulatedSend((call) => (call === 1 ? [0] : failure));
    await sendUntilAcknowledged(send, 't', [partitionSend(0, ['a'], outcomes), partitionSend(1, ['b'], outcomes)]);
    expect(outcomes.get(0)).toEqual({ resolved: true });
    expect(outcomes.get(1)).toEqual({ resolved: false, error: failure });
  });

  test('a partition left out of every result fails after 10 calls with an error naming it', async () => {
    const outcomes = new Map<number, Outcome>();
    const { calls, send } = simulatedSend(() => []);
    await sendUntilAcknowledged(send, 't', [partitionSend(4, ['a'], outcomes)]);
    expect(calls).toHaveLength(10);
    expect(outcomes.get(4)?.resolved).toBe(false);
    expect(outcomes.get(4)?.error?.message).toBe('partition(s) 4 of t were not acknowledged in 10 sends');
  });
});
