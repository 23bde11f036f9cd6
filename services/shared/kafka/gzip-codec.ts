import { promisify } from 'util';
import * as zlib from 'zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';

/**
 * kafkajs' gzip codec, except that small record batches are (de)compressed on the event loop.
 * A thread-pool job per produce request and per fetched batch, each finished through a callback,
 * cost more than the work at low rates and queued behind the brokers on a busy machine (bench/:
 * p50 at 1,000 msg/s 27 ms with kafkajs' codec, 9 ms without compression, 4 ms with this one).
 * Large batches still go to the thread pool, so a big fetch does not stall the event loop.
 */
const SYNC_COMPRESS_BYTES = 64 * 1024;
/** Compressed size below which a batch is inflated on the event loop (highly compressible batches grow tenfold and more). */
const SYNC_DECOMPRESS_BYTES = 4 * 1024;
/**
 * Output chunk of an inflate: zlib's default, 16 KiB, returns a 1 MiB batch in 64 callbacks and
 * then copies them together, a tenth of the consumer's CPU at full speed (bench/profile.ts). A
 * gzip member ends with its inflated size (mod 4 GiB), so one chunk of that size holds the whole
 * batch: no joining, no chunk larger than needed (a 1 MiB chunk for every small batch of a slow
 * stream was a gigabyte a second of garbage). The size only sizes the chunk: a wrong one (several
 * members, a corrupt trailer) costs more chunks, never a wrong result, and is capped by deflate's
 * largest ratio and INFLATE_CHUNK_MAX_BYTES.
 */
const INFLATE_CHUNK_MAX_BYTES = 64 * 1024 * 1024;
const DEFLATE_MAX_RATIO = 1032;
const inflateChunkBytes = (compressed: Buffer) => {
  const inflated = compressed.length >= 18 ? compressed.readUInt32LE(compressed.length - 4) : 0;
  // One byte more: a chunk filled exactly makes zlib allocate another whole one before it sees the end.
  return Math.max(64, Math.min(inflated + 1, compressed.length * DEFLATE_MAX_RATIO, INFLATE_CHUNK_MAX_BYTES));
};
const gzipAsync = promisify(zlib.gzip);
const unzipAsync = promisify<zlib.InputType, zlib.ZlibOptions, Buffer>(zlib.unzip);
CompressionCodecs[CompressionTypes.GZIP] = () => ({
  compress: async (encoder: { buffer: Buffer }) => (encoder.buffer.length < SYNC_COMPRESS_BYTES ? zlib.gzipSync(encoder.buffer) : gzipAsync(encoder.buffer)),
  decompress: async (buffer: Buffer) =>
    buffer.length < SYNC_DECOMPRESS_BYTES ? zlib.unzipSync(buffer, { chunkSize: inflateChunkBytes(buffer) }) : unzipAsync(buffer, { chunkSize: inflateChunkBytes(buffer) }),
});
