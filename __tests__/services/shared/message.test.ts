import { MAX_ID_LENGTH, createMessage, digest, encodeMessage, encodeNewMessage, parseMessage, payloadFor } from '../../../services/shared/message';

describe('message schema', () => {
  test('a produced message round-trips through JSON and validation', () => {
    const message = createMessage('run-1-42', 300, new Date('2025-01-31T12:00:00.000Z'));
    expect(message).toEqual({ id: 'run-1-42', createdAt: '2025-01-31T12:00:00.000Z', payload: payloadFor('run-1-42', 300) });
    expect(parseMessage(Buffer.from(encodeMessage(message)))).toEqual({ ok: true, message, createdAtMs: Date.parse('2025-01-31T12:00:00.000Z') });
  });

  test('the payload has exactly the requested size and is derived from the id', () => {
    for (const size of [0, 1, 7, 256, 1000]) expect(Buffer.byteLength(payloadFor('abc', size))).toBe(size);
    expect(payloadFor('abc', 10)).toBe('abc|abc|ab');
    expect(digest(payloadFor('a', 5))).toBe(digest('a|a|a'));
    expect(digest('x')).toMatch(/^[0-9a-f]{16}$/);
  });

  test('unknown fields are tolerated so producers can evolve first', () => {
    const r = parseMessage(JSON.stringify({ id: 'x', createdAt: '2025-01-31T12:00:00Z', payload: '', source: 'new-producer' }));
    expect(r).toEqual({ ok: true, message: { id: 'x', createdAt: '2025-01-31T12:00:00Z', payload: '' }, createdAtMs: Date.parse('2025-01-31T12:00:00Z') });
  });

  const format = 'expected a UTF-8 JSON object {"id", "createdAt", "payload"} (docs/services.md, "Message schema")';
  const ts = 'createdAt must be an ISO-8601 UTC timestamp such as 2025-01-31T12:00:00.000Z';
  test.each([
    [null, `empty value: ${format}`],
    ['', `empty value: ${format}`],
    ['{not json', `not JSON (Expected property name or '}' in JSON at position 1 (line 1 column 2)): ${format}`],
    ['[1,2]', `got an array instead of a JSON object: ${format}`],
    ['null', `got null instead of a JSON object: ${format}`],
    ['"text"', `got a string instead of a JSON object: ${format}`],
    [JSON.stringify({ createdAt: '2025-01-31T12:00:00Z', payload: 'p' }), 'schema: id must be a string of 1-200 characters, but it is missing'],
    [JSON.stringify({ id: 'x'.repeat(MAX_ID_LENGTH + 1), createdAt: '2025-01-31T12:00:00Z', payload: 'p' }), 'schema: id must be a string of 1-200 characters, got 201 characters'],
    [JSON.stringify({ id: 'x', createdAt: '31/01/2025', payload: 'p' }), `schema: ${ts}, got "31/01/2025"`],
    [JSON.stringify({ id: 'x', createdAt: '2025-13-45T12:00:00Z', payload: 'p' }), `schema: ${ts}, got "2025-13-45T12:00:00Z"`],
    [JSON.stringify({ id: 'x', createdAt: '2025-01-31T12:00:00+02:00', payload: 'p' }), `schema: ${ts}, got "2025-01-31T12:00:00+02:00"`],
    [JSON.stringify({ id: 'x', createdAt: '2025-01-31T12:00:00Z', payload: 7 }), 'schema: payload must be a string, got a number'],
    [JSON.stringify({ id: 7, createdAt: 0, payload: null }), `schema: id must be a string of 1-200 characters, got a number; ${ts}, got a number; payload must be a string, got null`],
    [Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), `not UTF-8 (6 bytes with an invalid byte sequence): ${format}`],
    [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]), `starts with a byte order mark (U+FEFF): ${format}, without a BOM`],
    // Latin-1 bytes are not ASCII: they must fail as UTF-8, not be read as Latin-1 text.
    [Buffer.from('{"id":"caf\xe9","createdAt":"2025-01-31T12:00:00Z","payload":""}', 'latin1'), `not UTF-8 (61 bytes with an invalid byte sequence): ${format}`],
    [JSON.stringify({ id: 'x', createdAt: '2025-01-31T12:00:00Z', payload: '€'.repeat(310_000) }), 'schema: payload must be at most 921600 bytes, got 930000'],
  ])('rejects %j', (value, error) => {
    expect(parseMessage(value)).toEqual({ ok: false, error });
  });
});

describe('encodeNewMessage', () => {
  const at = new Date('2025-01-31T12:00:00.000Z');
  test.each([
    ['3f1c2a9e-8d3b-4c1e-9f7a-0b5e6d7c8a91-42', 921],
    ['run.1:a_b-7', 0],
    ['x', 5],
    // Characters JSON must escape take the JSON.stringify path and still give the same text.
    ['quote"back\\slash', 40],
    ['tab\tnewline\n', 30],
    ['ünïcödé-🔑', 30],
  ])('gives exactly encodeMessage(createMessage(...)) for id %j', (id, size) => {
    const encoded = encodeNewMessage(id, size, at.toISOString());
    expect(encoded).toBe(encodeMessage(createMessage(id, size, at)));
    expect(parseMessage(encoded)).toEqual({ ok: true, message: createMessage(id, size, at), createdAtMs: at.getTime() });
    // Bytes as the consumer gets them: ASCII takes the Latin-1 decode, the rest the UTF-8 one.
    expect(parseMessage(Buffer.from(encoded, 'utf8'))).toEqual({ ok: true, message: createMessage(id, size, at), createdAtMs: at.getTime() });
  });
});

describe('parseMessage on the producer\'s own form', () => {
  // A small deterministic generator: the same cases on every run.
  let seed = 42;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  /** Characters JSON treats specially, and ones it does not but that are easy to get wrong. */
  const alphabet = ['a', 'Z', '0', '-', '|', '"', '\\', '\u0000', '\u0001', '\u001f', ' ', '\u007f', 'é', '€', '🔑', '\u2028', '\ud800', '/'];
  const text = (lengths: readonly number[]) => {
    const density = pick([0, 0.002, 0.1]);
    return Array.from({ length: pick(lengths) }, () => (next() < density ? pick(alphabet) : 'a')).join('');
  };
  const createdAts = ['2025-01-31T12:00:00.000Z', '2025-01-31T12:00:00Z', '2025-01-31T12:00:00.123456789Z', '2025-01-31T12:00:00.1234567890Z', '2025-13-01T00:00:00Z', '2025-02-30T00:00:00Z', '2024-02-29T23:59:59.9Z', '2025-01-31T12:00:00+02:00', '2025-01-31t12:00:00z', '2025-01-31 12:00:00Z', ''];
  /** Raw JSON text in the producer's layout, whatever the characters: some valid, many not. */
  const raw = (id: string, createdAt: string, payload: string) => `{"id":"${id}","createdAt":"${createdAt}","payload":"${payload}"}`;
  const cases: string[] = [];
  for (let i = 0; i < 4000; i++) cases.push(raw(text([0, 1, 8, 199, 200, 201]), pick(createdAts), text([0, 1, 40, 1000])));
  cases.push(raw('x', '2025-01-31T12:00:00Z', 'a'.repeat(921_600)), raw('x', '2025-01-31T12:00:00Z', 'a'.repeat(921_601)), raw('x', '2025-01-31T12:00:00Z', '€'.repeat(307_201)));

  test('accepts and rejects exactly what JSON.parse and the schema do, with the same values', () => {
    let accepted = 0;
    for (const c of cases) {
      // Trailing whitespace is valid JSON the form does not allow: the same message through JSON.parse.
      // As bytes: the ASCII ones take the form's reading, the others the UTF-8 decode (lone surrogates become invalid UTF-8).
      const direct = parseMessage(Buffer.from(c));
      const viaJson = parseMessage(Buffer.from(`${c} `));
      expect({ c, ok: direct.ok }).toEqual({ c, ok: viaJson.ok });
      if (direct.ok && viaJson.ok) expect(direct).toEqual(viaJson);
      // As a string, as the tests and tools pass it.
      expect({ c, ok: parseMessage(c).ok }).toEqual({ c, ok: parseMessage(`${c} `).ok });
      if (direct.ok) accepted++;
    }
    // Both sides of the boundary were tried.
    expect(accepted).toBeGreaterThan(500);
    expect(cases.length - accepted).toBeGreaterThan(500);
  });

  test('keeps no message alive through the id it returns', () => {
    // What the consumer does: remember ids long after their messages (RecentIds).
    const v8 = require('v8') as typeof import('v8');
    v8.setFlagsFromString('--expose-gc');
    const gc = require('vm').runInNewContext('gc') as () => void;
    const kept: string[] = [];
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2000; i++) {
      const r = parseMessage(Buffer.from(encodeNewMessage(`retention-check-${i}`, 100_000, '2025-01-31T12:00:00.000Z')));
      if (!r.ok) throw new Error(r.error);
      kept.push(r.message.id);
    }
    gc();
    // 2,000 messages of 100 KB: 200 MB if each id held on to its message's text.
    expect({ ids: kept.length, heapGrowthMB: Math.round((process.memoryUsage().heapUsed - before) / 1e6) }).toEqual({ ids: 2000, heapGrowthMB: expect.any(Number) });
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(20e6);
  });

  test('takes members in another order, extra members, whitespace and escapes through JSON.parse', () => {
    const at = '2025-01-31T12:00:00.000Z';
    const expected = { ok: true, message: { id: 'a"b', createdAt: at, payload: 'p\n' }, createdAtMs: Date.parse(at) };
    for (const c of [
      `{"id":"a\\"b","createdAt":"${at}","payload":"p\\n"}`,
      `{"createdAt":"${at}","id":"a\\"b","payload":"p\\n"}`,
      `{"id":"a\\"b","createdAt":"${at}","payload":"p\\n","source":"next"}`,
      `{ "id": "a\\"b", "createdAt": "${at}", "payload": "p\\n" }`,
      `{"id":"a\\u0022b","createdAt":"${at}","payload":"p\\u000a"}`,
    ]) {
      expect(parseMessage(c)).toEqual(expected);
    }
    // A member given twice: JSON.parse keeps the last, and so does the consumer.
    expect(parseMessage(`{"id":"first","createdAt":"${at}","payload":"","id":"last"}`)).toEqual({ ok: true, message: { id: 'last', createdAt: at, payload: '' }, createdAtMs: Date.parse(at) });
  });
});
