/**
 * Typed views of a ring's data windows (../layout/data-windows.ts), made once per ring object.
 * A slot's offset is taken in the window that holds it: (index - firstSlot) x stride, below
 * 4 GiB, so it is divided into word indexes with >>> (never >>, which turns 2^31 and up negative).
 */
import { dataWindows, ringMemoryIn, windowStep, type RingMemory } from '../layout/data-windows.js';
import type { RingGeometry } from '../layout/ring-layout.js';

export interface SlotWindow {
  readonly bytes: Buffer;
  readonly words: Int32Array;
  readonly doubles: Float64Array;
  /** Slot index of the window's first byte. */
  readonly firstSlot: number;
  /** Messages starting at [firstSlot, homeEnd) lie wholly inside the window. */
  readonly homeEnd: number;
}

export class SlotWindows {
  readonly windows: readonly SlotWindow[];
  readonly #step: number;
  readonly #last: number;
  readonly #stride: number;

  constructor(memory: RingMemory, geometry: RingGeometry) {
    const layout = dataWindows(geometry);
    if (memory.windows.length !== layout.length) throw new RangeError(`ring memory has ${memory.windows.length} data windows, the geometry needs ${layout.length}`);
    this.windows = layout.map((window, k) => {
      const bytes = memory.windows[k]!;
      if (bytes.length < window.length) throw new RangeError(`data window ${k} is ${bytes.length} bytes, the geometry needs ${window.length}`);
      if (bytes.byteOffset % 8 !== 0) throw new RangeError('ring memory must be 8-byte aligned');
      return {
        bytes,
        words: new Int32Array(bytes.buffer, bytes.byteOffset, window.length / 4),
        doubles: new Float64Array(bytes.buffer, bytes.byteOffset, window.length / 8),
        firstSlot: window.firstSlot,
        homeEnd: window.homeEnd,
      };
    });
    this.#step = windowStep(layout);
    this.#stride = geometry.slotStride;
    this.#last = layout.length - 1;
  }

  /** The window that holds slot `index` and any message that starts there. */
  of(index: number): SlotWindow {
    return this.windows[Math.min(Math.floor(index / this.#step), this.#last)]!;
  }

  /** Byte offset of slot `index` in its window, of(index) (not for a per-message path: it looks the window up). */
  offsetOf(index: number): number {
    return (index - this.of(index).firstSlot) * this.#stride;
  }
}

/** A ring's memory given as its parts, or as one Buffer holding the whole file (up to 4 GiB; tests). */
export function ringPartsOf(memory: Buffer | RingMemory, geometry: RingGeometry): RingMemory {
  return Buffer.isBuffer(memory) ? ringMemoryIn(memory, geometry) : memory;
}
