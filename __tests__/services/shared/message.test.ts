import { MAX_ID_LENGTH, createMessage, digest, encodeMessage, parseMessage, payloadFor } from '../../../services/shared/message';

describe('message schema', () => {
  test('a produced message round-trips through JSON and validation', () => {
    const message = createMessage('run-1-42', 300, new Date('2025-01-31T12:00:00.000Z'));
    expect(message).toEqual({ id: 'run-1-42', createdAt: '2025-01-31T12:00:00.000Z', payload: payloadFor('run-1-42', 300) });
    expect(parseMessage(Buffer.from(encodeMessage(message)))).toEqual({ ok: true, message });
  });

  test('the payload has exactly the requested size and is derived from the id', () => {
    for (const size of [0, 1, 7, 256, 1000]) expect(Buffer.byteLength(payloadFor('abc', size))).toBe(size);
    expect(payloadFor('abc', 10)).toBe('abc|abc|ab');
    expect(digest(payloadFor('a', 5))).toBe(digest('a|a|a'));
    expect(digest('x')).toMatch(/^[0-9a-f]{16}$/);
  });

  test('unknown fields are tolerated so producers can evolve first', () => {
    const r = parseMessage(JSON.stringify({ id: 'x', createdAt: '2025-01-31T12:00:00Z', payload: '', source: 'new-producer' }));
    expect(r).toEqual({ ok: true, message: { id: 'x', createdAt: '2025-01-31T12:00:00Z', payload: '' } });
  });

  test.each([
    [null, 'empty value: expected a JSON object'],
    ['', 'empty value: expected a JSON object'],
    ['{not json', expect.stringMatching(/^not JSON: /)],
    ['[1,2]', 'expected a JSON object, got an array'],
    ['null', 'expected a JSON object, got null'],
    ['"text"', 'expected a JSON object, got string'],
    [JSON.stringify({ createdAt: '2025-01-31T12:00:00Z', payload: 'p' }), 'schema: id must be a string of 1-200 characters'],
    [JSON.stringify({ id: 'x'.repeat(MAX_ID_LENGTH + 1), createdAt: '2025-01-31T12:00:00Z', payload: 'p' }), 'schema: id must be a string of 1-200 characters'],
    [JSON.stringify({ id: 'x', createdAt: '31/01/2025', payload: 'p' }), 'schema: createdAt must be an ISO-8601 UTC timestamp such as 2025-01-31T12:00:00.000Z'],
    [JSON.stringify({ id: 'x', createdAt: '2025-13-45T12:00:00Z', payload: 'p' }), 'schema: createdAt must be an ISO-8601 UTC timestamp such as 2025-01-31T12:00:00.000Z'],
    [JSON.stringify({ id: 'x', createdAt: '2025-01-31T12:00:00+02:00', payload: 'p' }), 'schema: createdAt must be an ISO-8601 UTC timestamp such as 2025-01-31T12:00:00.000Z'],
    [JSON.stringify({ id: 'x', createdAt: '2025-01-31T12:00:00Z', payload: 7 }), 'schema: payload must be a string'],
    [JSON.stringify({ id: 7, createdAt: 0, payload: null }), 'schema: id must be a string of 1-200 characters; createdAt must be an ISO-8601 UTC timestamp such as 2025-01-31T12:00:00.000Z; payload must be a string'],
  ])('rejects %j', (value, error) => {
    expect(parseMessage(value)).toEqual({ ok: false, error });
  });
});
