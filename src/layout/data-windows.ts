/**
 * How this implementation sees a ring's memory: not as one Buffer (Node 20's Buffer holds at most
 * 4 GiB, buffer.constants.MAX_LENGTH) but as a head and data windows. Pure: no fs, no FFI. The
 * file format is the same whatever the windows; docs/format.md §1 says what they change.
 *
 *   0 ............ D (dataOffset) .............................................. fileLength
 *   | head: header, |  window 0: slots [0, W)                        |
 *   | sequence words|              window 1: slots [S, S + W)                    |
 *                   |                            window 2: slots [2S, N) ...               |
 *
 * A ring whose slots fit a window has one window over all of them. A bigger one has windows of
 * W slots (as many as MAX_WINDOW_LENGTH holds) starting every S = W - maxSpan slots: consecutive windows
 * overlap by maxSpan slots, so a message starting in [kS, (k + 1)S) lies wholly in window k, and
 * one starting in the last window's range ends with the ring. Every slot offset the ring core
 * computes is then inside one window: (index - first slot) x stride < 4 GiB.
 */
import { PAGE_LENGTH, type RingGeometry } from './ring-layout.js';

/**
 * Each window is at most this long: a page under Node 20's longest Buffer (2^32 bytes), a margin
 * against Node's 32-bit length arguments. Strings are written into a window with their length
 * given: buf.write(string, offset) with more than 2 GiB of room after offset writes nothing.
 */
export const MAX_WINDOW_LENGTH = 2 ** 32 - PAGE_LENGTH;

export interface DataWindow {
  /** Index of the window's first slot. */
  readonly firstSlot: number;
  /** Messages starting at slots [firstSlot, homeEnd) lie wholly inside this window. */
  readonly homeEnd: number;
  /** Byte offset of the window in the file, and its length. */
  readonly offset: number;
  readonly length: number;
}

/** The data windows of a ring (one when its slots fit MAX_WINDOW_LENGTH). */
export function dataWindows(geometry: RingGeometry): DataWindow[] {
  const { slotCount, slotStride, dataOffset, dataLength, maxSpan } = geometry;
  if (dataLength <= MAX_WINDOW_LENGTH) return [{ firstSlot: 0, homeEnd: slotCount, offset: dataOffset, length: dataLength }];
  const windowSlots = Math.floor(MAX_WINDOW_LENGTH / slotStride);
  const step = windowSlots - maxSpan;
  const windows: DataWindow[] = [];
  for (let first = 0; ; first += step) {
    const last = first + windowSlots >= slotCount;
    const slots = last ? slotCount - first : windowSlots;
    windows.push({ firstSlot: first, homeEnd: last ? slotCount : first + step, offset: dataOffset + first * slotStride, length: slots * slotStride });
    if (last) return windows;
  }
}

/** Slots between the starts of consecutive windows: the window of slot i is min(floor(i / step), count - 1). */
export function windowStep(windows: readonly DataWindow[]): number {
  return windows.length === 1 ? windows[0]!.homeEnd : windows[0]!.homeEnd - windows[0]!.firstSlot;
}

/**
 * A ring's memory as the core sees it: `head` holds bytes [0, dataOffset) of the file (header,
 * tables and sequence words), and windows[k] the bytes of dataWindows(geometry)[k].
 */
export interface RingMemory {
  readonly head: Buffer;
  readonly windows: readonly Buffer[];
}

/** The ring memory of a mapping, from a function that views `length` bytes of it at `offset`. */
export function ringMemoryOf(geometry: RingGeometry, view: (offset: number, length: number) => Buffer): RingMemory {
  return { head: view(0, geometry.dataOffset), windows: dataWindows(geometry).map((window) => view(window.offset, window.length)) };
}

/** The ring memory inside one Buffer holding the whole file (rings up to 4 GiB; tests). */
export function ringMemoryIn(file: Buffer, geometry: RingGeometry): RingMemory {
  if (file.length < geometry.fileLength) throw new RangeError(`ring memory is ${file.length} bytes, the geometry needs ${geometry.fileLength}`);
  return ringMemoryOf(geometry, (offset, length) => file.subarray(offset, offset + length));
}
