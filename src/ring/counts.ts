/**
 * Counts that only grow (messages sent, messages delivered), kept as u64 in two u32 words (low
 * word first) so that adding costs one 32-bit atomic add and allocates nothing: a 64-bit atomic
 * add in JavaScript takes and returns a BigInt on every message. docs/format.md §2.1 says how
 * other implementations add to and read them. Pure: words and indexes only.
 *
 * Adding: an atomic add of n to the low word; the adder that carries it past 2^32 adds 1 to the
 * high word right after. Reading: high, low, high again, until both highs agree. For the few
 * nanoseconds of a carry (once every 2^32 counts) a reader can see the count 2^32 too low.
 */

const CARRY = 0x1_0000_0000;

/** Adds `count` to the u64 whose low word is words[low] (high word at low + 1). */
export function addCount(words: Int32Array, low: number, count: number): void {
  const before = Atomics.add(words, low, count) >>> 0;
  if (before + count >= CARRY) Atomics.add(words, low + 1, 1);
}

/** The u64 whose low word is words[low]. */
export function readCount(words: Int32Array, low: number): number {
  for (;;) {
    const high = Atomics.load(words, low + 1) >>> 0;
    const value = Atomics.load(words, low) >>> 0;
    if ((Atomics.load(words, low + 1) >>> 0) === high) return high * CARRY + value;
  }
}
