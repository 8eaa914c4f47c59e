/**
 * Position arithmetic. Positions count claims modulo the position limit L, a multiple of the
 * slot count near 2^30 (so slot p mod N is the same slot every lap, and 32-bit words never
 * overflow); distances are signed and taken modulo L, so they stay right across a wrap.
 */
import { SEQUENCE_RELEASED_BIT } from '../layout/ring-layout.js';

export class PositionSpace {
  readonly limit: number;
  readonly slotCount: number;
  readonly #half: number;

  constructor(limit: number, slotCount: number) {
    this.limit = limit;
    this.slotCount = slotCount;
    this.#half = limit / 2;
  }

  /** p + 1 modulo the limit. */
  next(position: number): number {
    return position + 1 === this.limit ? 0 : position + 1;
  }

  /** p + n modulo the limit, for any integer n (also negative). */
  add(position: number, n: number): number {
    const p = (position + n) % this.limit;
    return p < 0 ? p + this.limit : p;
  }

  /** (a - b) modulo the limit, as a signed distance in [-L/2, L/2). */
  distance(a: number, b: number): number {
    let d = a - b;
    if (d >= this.#half) d -= this.limit;
    else if (d < -this.#half) d += this.limit;
    return d;
  }

  /** Slot index of a position; any 32-bit value maps to a valid index. */
  indexOf(position: number): number {
    return (position >>> 0) % this.slotCount;
  }
}

/** A sequence word with the released bit cleared: the position it speaks for. */
export function sequencePosition(sequence: number): number {
  return sequence & ~SEQUENCE_RELEASED_BIT;
}
