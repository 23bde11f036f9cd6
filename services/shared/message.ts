import { createHash } from 'crypto';

/**
 * The value of every message on `posts`, as UTF-8 JSON:
 * `{ "id": "<1-200 chars>", "createdAt": "<ISO-8601 UTC>", "payload": "<string>" }`.
 * Extra fields are accepted and ignored, so producers can add fields before consumers know them.
 */
export interface PostMessage {
  /** Unique per message; the consumer uses it to spot redeliveries. */
  readonly id: string;
  /** When the producer created the message; the end-to-end latency is measured from it. */
  readonly createdAt: string;
  readonly payload: string;
}

export const MAX_ID_LENGTH = 200;
export const MAX_PAYLOAD_BYTES = 900 * 1024;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export type Validation = { readonly ok: true; readonly message: PostMessage } | { readonly ok: false; readonly error: string };

/** Parses and validates a raw message value; the error says what is wrong. */
export function parseMessage(value: Buffer | string | null | undefined): Validation {
  if (value === null || value === undefined || value.length === 0) return { ok: false, error: 'empty value: expected a JSON object' };
  let data: unknown;
  try {
    data = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, error: `expected a JSON object, got ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data}` };
  }
  const o = data as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof o.id !== 'string' || o.id.length === 0 || o.id.length > MAX_ID_LENGTH) {
    problems.push(`id must be a string of 1-${MAX_ID_LENGTH} characters`);
  }
  if (typeof o.createdAt !== 'string' || !ISO_UTC.test(o.createdAt) || Number.isNaN(Date.parse(o.createdAt))) {
    problems.push('createdAt must be an ISO-8601 UTC timestamp such as 2025-01-31T12:00:00.000Z');
  }
  if (typeof o.payload !== 'string') {
    problems.push('payload must be a string');
  } else if (Buffer.byteLength(o.payload) > MAX_PAYLOAD_BYTES) {
    problems.push(`payload must be at most ${MAX_PAYLOAD_BYTES} bytes`);
  }
  if (problems.length > 0) return { ok: false, error: `schema: ${problems.join('; ')}` };
  return { ok: true, message: { id: o.id as string, createdAt: o.createdAt as string, payload: o.payload as string } };
}

/**
 * A payload of exactly `size` ASCII bytes derived from the id, so anyone holding the id
 * can check the content without the producer's help.
 */
export function payloadFor(id: string, size: number): string {
  if (size <= 0) return '';
  const unit = `${id}|`;
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/** Short content fingerprint logged by the consumer. */
export function digest(payload: string): string {
  return createHash('sha256').update(payload).digest('hex').slice(0, 16);
}

export function createMessage(id: string, payloadSize: number, now: Date = new Date()): PostMessage {
  return { id, createdAt: now.toISOString(), payload: payloadFor(id, payloadSize) };
}

export function encodeMessage(message: PostMessage): string {
  return JSON.stringify(message);
}
