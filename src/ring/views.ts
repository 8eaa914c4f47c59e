/**
 * Typed views over a ring's head (header, tables, sequence words), made once per ring object:
 * 32-bit words and doubles, 64-bit words for positions. Shared words are read and written through
 * Atomics, except fields that an atomic store right after them publishes (slot payloads, intent
 * and run starts; docs/format.md §6-7); doubles, which Atomics cannot take, are only ever
 * approximate figures.
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

/** Views of the ring's head: its bytes before slot 0 (the slots are seen through ./slot-windows.ts). */
export function viewsOf(memory: Buffer, geometry: RingGeometry): RingViews {
  return ringViews(memory, geometry.dataOffset);
}

/** A u64 position word as a number (positions stay below 2^53). */
export function loadPosition(longs: BigUint64Array, byteOffset: number): number {
  return Number(Atomics.load(longs, byteOffset >> 3));
}

/**
 * Stores a u64 position as two plain 32-bit stores, low half first: no BigInt. Only for fields
 * that an atomic store right after publishes (an intent or run start before its count).
 */
export function storePositionPlain(words: Int32Array, lowWord: number, position: number): void {
  words[lowWord] = position % 0x1_0000_0000;
  words[lowWord + 1] = Math.floor(position / 0x1_0000_0000);
}
