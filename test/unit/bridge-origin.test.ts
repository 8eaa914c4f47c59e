/**
 * Where an imported message came from: the 40-byte origin extension of kind 3 (docs/format.md §9b,
 * src/layout/origin-layout.ts), and the legacy origin frame that earlier imports put in front of the
 * payload, which decodeOrigin(buffer) still reads (src/bridge/legacy-frame.ts).
 */
import { createHash } from 'node:crypto';
import { decodeOrigin, KIND_IMPORTED, OriginWriter, originOf, originStreamName } from '../../src/bridge/origin.js';
import { crc32, frame, frameHeaderLength, frameLength, FRAME_FIXED_LENGTH, FRAME_MAGIC } from '../../src/bridge/legacy-frame.js';
import { decodeOriginExtension, ORIGIN_EXTENSION_LENGTH } from '../../src/layout/origin-layout.js';
import { EXTENSION_RESERVE } from '../../src/layout/ring-layout.js';
import { KIND_REPLY, KIND_REQUEST } from '../../src/layout/request-layout.js';

/** The bytes docs/format.md §9b gives, written out by hand: u64 position, u64 position 2, engine, name form, name. */
function spelled(position: bigint, position2: bigint, engine: number, form: number, name: Buffer): Buffer {
  const bytes = Buffer.alloc(40);
  bytes.writeBigUInt64LE(position, 0);
  bytes.writeBigUInt64LE(position2, 8);
  bytes[16] = engine;
  bytes[17] = form;
  name.copy(bytes, 18);
  return bytes;
}

describe('the origin extension (kind 3)', () => {
  test('is 40 bytes, the room every ring keeps for an extension, and kind 3', () => {
    expect([ORIGIN_EXTENSION_LENGTH, EXTENSION_RESERVE, KIND_IMPORTED]).toEqual([40, 40, 3]);
  });

  test('a NATS origin is the stream sequence, engine 1 and the name, as format.md spells it; and decodes back', () => {
    const written = Buffer.from(new OriginWriter('nats', 'ORDERS').at('12345'));
    expect(written).toEqual(spelled(12345n, 0n, 1, 6, Buffer.from('ORDERS')));
    expect(decodeOriginExtension(3, written)).toEqual({ engine: 'nats', stream: 'ORDERS', position: '12345' });
  });

  test('a Redis origin is the entry ID as two u64s, engine 2, the key; positions past 2^53 are exact', () => {
    const writer = new OriginWriter('redis', 'clé');
    expect(Buffer.from(writer.at('1700000000000-3'))).toEqual(spelled(1700000000000n, 3n, 2, 4, Buffer.from('clé')));
    const huge = writer.at('18446744073709551615-18446744073709551614');
    expect(decodeOriginExtension(3, huge)).toEqual({ engine: 'redis', stream: 'clé', position: '18446744073709551615-18446744073709551614' });
  });

  test('a name of 22 bytes is kept whole; a longer one is its first 14 bytes (whole characters), then 8 bytes of its SHA-256', () => {
    const whole = 'a'.repeat(22);
    expect(decodeOriginExtension(3, new OriginWriter('nats', whole).at('1'))!.stream).toBe(whole);
    const long = 'ééééééé-streams-of-europe'; // 7 × 2 bytes fill the prefix exactly
    const hash = createHash('sha256').update(long).digest();
    const written = Buffer.from(new OriginWriter('nats', long).at('9'));
    expect(written).toEqual(spelled(9n, 0n, 1, 255, Buffer.concat([Buffer.from('ééééééé'), hash.subarray(0, 8)])));
    expect(decodeOriginExtension(3, written)!.stream).toBe(`ééééééé~${hash.subarray(0, 8).toString('hex')}`);
    expect(originStreamName(long)).toBe(`ééééééé~${hash.subarray(0, 8).toString('hex')}`);
    // A character that would straddle byte 14 is left out (zero-padded), never cut in two.
    const straddling = `${'x'.repeat(13)}€${'y'.repeat(10)}`;
    const shown = decodeOriginExtension(3, new OriginWriter('redis', straddling).at('1-0'))!.stream;
    expect(shown).toBe(`${'x'.repeat(13)}~${createHash('sha256').update(straddling).digest('hex').slice(0, 16)}`);
  });

  test('is not read from a request, a reply, a plain message or an extension of another length', () => {
    const bytes = new OriginWriter('nats', 'S').at('1');
    for (const kind of [0, KIND_REQUEST, KIND_REPLY, 4]) expect(decodeOriginExtension(kind, bytes)).toBeUndefined();
    expect(decodeOriginExtension(3, bytes.subarray(0, 32))).toBeUndefined();
    expect(decodeOriginExtension(3, Buffer.concat([bytes, Buffer.alloc(8)]))).toBeUndefined();
    const unknownEngine = Buffer.from(bytes);
    unknownEngine[16] = 9;
    expect(decodeOriginExtension(3, unknownEngine)).toBeUndefined();
  });

  test('decodeOrigin and originOf take a received message: the payload is its data, unchanged', () => {
    const data = Buffer.from([0, 0xff, 0x6d, 0x6f, 1, 1]);
    const imported = { kind: 3, extension: Buffer.from(new OriginWriter('nats', 'S').at('7')), data };
    expect(decodeOrigin(imported)).toEqual({ origin: { engine: 'nats', stream: 'S', position: '7' }, payload: data });
    expect(originOf(imported)).toEqual({ engine: 'nats', stream: 'S', position: '7' });
    expect(decodeOrigin({ kind: 0, extension: Buffer.alloc(0), data })).toEqual({ origin: undefined, payload: data });
  });
});

describe('legacy origin frames (decodeOrigin of a Buffer)', () => {
  test('a framed message decodes to its origin and the exact payload, whatever the bytes', () => {
    for (const payload of [Buffer.alloc(0), Buffer.from('héllo ✓'), Buffer.from([0, 255, 10, 13, 0]), Buffer.alloc(300, 7)]) {
      const framed = frame({ engine: 'nats', stream: 'ORDERS', position: '12345' }, payload);
      expect(framed.length).toBe(payload.length + frameLength('ORDERS', '12345'));
      expect(decodeOrigin(framed)).toEqual({ origin: { engine: 'nats', stream: 'ORDERS', position: '12345' }, payload });
      expect(frameHeaderLength(framed, 0, framed.length)).toBe(frameLength('ORDERS', '12345'));
    }
    const redis = frame({ engine: 'redis', stream: 'clé', position: '1700000000000-3' }, Buffer.from('x'));
    expect(decodeOrigin(redis).origin).toEqual({ engine: 'redis', stream: 'clé', position: '1700000000000-3' });
  });

  test('a plain message, even one that starts with the magic, is not a frame', () => {
    const lookalike = Buffer.concat([FRAME_MAGIC, Buffer.from([1, 1, 3]), Buffer.from('abc'), Buffer.from([1, 0x37, 0, 0, 0, 0, 9, 9])]);
    for (const message of [Buffer.alloc(0), Buffer.from('text'), FRAME_MAGIC, lookalike, Buffer.alloc(FRAME_FIXED_LENGTH)]) {
      expect(frameHeaderLength(message, 0, message.length)).toBe(0);
      expect(decodeOrigin(message)).toEqual({ origin: undefined, payload: message });
    }
  });

  test('a frame cut short or with one bit flipped is not a frame', () => {
    const framed = frame({ engine: 'nats', stream: 'S', position: '7' }, Buffer.from('payload'));
    const header = frameLength('S', '7');
    for (let length = 0; length < header; length++) expect(frameHeaderLength(framed, 0, length)).toBe(0);
    for (let bit = 0; bit < header * 8; bit++) {
      const damaged = Buffer.from(framed);
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      expect(frameHeaderLength(damaged, 0, damaged.length)).not.toBe(header);
    }
  });

  test('CRC-32 matches the IEEE check value', () => {
    expect(crc32(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926);
  });
});
