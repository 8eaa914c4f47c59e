/**
 * Typed views over a ring's memory, made once per ring object: 32-bit words and doubles for the
 * header and slots, 64-bit words for positions. Every shared word is read and written through
 * Atomics (doubles, which Atomics cannot take, are only ever approximate figures).
 */
import { WORD, type RingGeometry } from '../layout/ring-layout.js';

export interface RingViews {
  readonly memory: Buffer;
  readonly words: Int32Array;
  readonly longs: BigUint64Array;
  readonly doubles: Float64Array;
}

export function ringViews(memory: Buffer, length: number): RingViews {
  if (memory.byteOffset % 8 !== 0) throw new RangeError('ring memory must be 8-byte aligned');
  const usable = Math.floor(length / 8) * 8;
  return {
    memory,
    words: new Int32Array(memory.buffer, memory.byteOffset, usable / WORD),
    longs: new BigUint64Array(memory.buffer, memory.byteOffset, usable / 8),
    doubles: new Float64Array(memory.buffer, memory.byteOffset, usable / 8),
  };
}

export function viewsOf(memory: Buffer, geometry: RingGeometry): RingViews {
  return ringViews(memory, geometry.fileLength);
}

/** A u64 position word as a number (positions stay below 2^53). */
export function loadPosition(longs: BigUint64Array, byteOffset: number): number {
  return Number(Atomics.load(longs, byteOffset >> 3));
}
