import * as fs from 'fs';
import { createMessage, encodeMessage } from '../services/shared/message';

/**
 * The message both sides send: the producer service's own JSON shape
 * (`{"id","createdAt","payload"}`), about `totalBytes` long, so Kafka's tools get the same
 * size and the same compressibility under gzip.
 */
export interface MessageShape {
  /** PAYLOAD_SIZE for the producer service. */
  readonly payloadSize: number;
  /** Encoded size of one message, in bytes (ids vary by a few digits). */
  readonly messageBytes: number;
}

/** PAYLOAD_SIZE that makes the producer's messages `totalBytes` long for ids `<prefix>-<n>` with `n` of `digits` digits. */
export function messageShape(prefix: string, totalBytes = 1024, digits = 5): MessageShape {
  const sample = (payload: number) => Buffer.byteLength(encodeMessage(createMessage(`${prefix}-${'9'.repeat(digits)}`, payload)));
  const overhead = sample(0);
  const payloadSize = Math.max(0, totalBytes - overhead);
  return { payloadSize, messageBytes: sample(payloadSize) };
}

/** A ProducerPerformance payload file: `count` distinct messages of the shape, one per line. */
export function writePayloadFile(file: string, prefix: string, shape: MessageShape, count = 1000): void {
  const now = new Date();
  const lines = Array.from({ length: count }, (_, i) => encodeMessage(createMessage(`${prefix}-${10_000 + i}`, shape.payloadSize, now)));
  fs.writeFileSync(file, lines.join('\n') + '\n');
}
