import { gunzipSync, gzipSync } from 'zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
// Importing the client module replaces kafkajs' gzip codec, as it does in the services.
import '../../../services/shared/kafka/gzip-codec';

const codec = CompressionCodecs[CompressionTypes.GZIP]() as unknown as {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};

/** Record-batch-like bytes: compressible, not trivially so. */
function batch(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 7 + (i >> 5)) % 251;
  return out;
}

describe('the services gzip codec (small batches on the event loop, large ones in the thread pool)', () => {
  test.each([
    ['a tiny batch', 200],
    ['a batch just under the event-loop limit', 64 * 1024 - 1],
    ['a batch over it', 64 * 1024 + 1],
    ['a 4 MiB batch', 4 * 1024 * 1024],
  ])('compresses %s into standard gzip', async (_, bytes) => {
    const input = batch(bytes);
    expect(gunzipSync(await codec.compress({ buffer: input })).equals(input)).toBe(true);
  });

  test.each([
    ['inflated on the event loop', 1000],
    ['inflated in the thread pool, 200 KiB', 200 * 1024],
    ['inflated in the thread pool, 8 MiB', 8 * 1024 * 1024],
  ])('reads standard gzip %s', async (_, bytes) => {
    const input = batch(bytes);
    const compressed = gzipSync(input);
    // Buffer.equals: jest's deep equality walks megabytes byte by byte for minutes.
    expect((await codec.decompress(compressed)).equals(input)).toBe(true);
  });

  test.each([
    ['on the event loop', 300],
    ['in the thread pool', 300 * 1024],
  ])('reads gzip of several members %s, whose trailer states only the last one\'s size', async (_, bytes) => {
    const first = batch(bytes);
    const second = Buffer.from('a short last member');
    const compressed = Buffer.concat([gzipSync(first), gzipSync(second)]);
    expect((await codec.decompress(compressed)).equals(Buffer.concat([first, second]))).toBe(true);
  });

  test('a corrupt batch is an error, not garbage', async () => {
    const compressed = gzipSync(batch(10_000));
    compressed[compressed.length - 5] ^= 0xff;
    await expect(codec.decompress(compressed)).rejects.toThrow();
  });
});
