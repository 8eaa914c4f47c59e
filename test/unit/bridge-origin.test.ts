/** The origin frame that imported messages carry in a ring slot (src/bridge/origin.ts). */
import { crc32, decodeOrigin, frame, frameHeaderLength, frameLength, FRAME_FIXED_LENGTH, FRAME_MAGIC } from '../../src/bridge/origin.js';

describe('origin frames', () => {
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
