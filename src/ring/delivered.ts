/**
 * The delivered counts: what members finished, counted as it happens, so that `stat`'s received
 * totals only ever grow (a group created --from earliest, reset or removed moves cursors, never
 * these). One u64 per group (layout: GROUP_DELIVERED), two u32 words each (./counts.ts); the
 * ring's total is every active group's count plus what removed groups had (DELIVERED_OFFSET),
 * moved there under a seqlock (RETIRE_SEQUENCE_OFFSET) when a group is removed. Pure: it sees
 * the ring's memory and nothing else.
 *
 * A member calls countDelivered(words, group, n) once per finish() of n messages: one 32-bit
 * atomic add per finished run, on its group's entry, none per message.
 */
import { DELIVERED_OFFSET, GROUP_ACTIVE, GROUP_DELIVERED, GROUP_STATE, RETIRE_SEQUENCE_OFFSET, groupOffset, type RingGeometry } from '../layout/ring-layout.js';
import { addCount, readCount } from './counts.js';
import type { RingViews } from './views.js';

const RETIRED = DELIVERED_OFFSET >> 2;
const RETIRE_SEQUENCE = RETIRE_SEQUENCE_OFFSET >> 2;
/** A remover that died inside its retire leaves the sequence odd: readers stop waiting for it after this many looks. */
const READ_ATTEMPTS = 1000;

/** The Int32 index of the low word of group `index`'s delivered count. */
export const groupDeliveredWord = (index: number): number => (groupOffset(index) + GROUP_DELIVERED) >> 2;

/** Adds `count` finished messages to the group's count (low word `groupWord`). */
export function countDelivered(words: Int32Array, groupWord: number, count: number): void {
  addCount(words, groupWord, count);
}

/** Messages finished by the members of group `index` since it was created. */
export function groupDelivered(views: RingViews, index: number): number {
  return readCount(views.words, groupDeliveredWord(index));
}

/**
 * Removes group `index` (`free` does it: the state change, true when it was this call's) with its
 * count moved into the removed groups' total, so the ring's total never drops: under the retire
 * sequence, odd meanwhile.
 */
export function retireGroup(views: RingViews, index: number, free: () => boolean): void {
  const { words } = views;
  let sequence: number;
  for (;;) {
    sequence = Atomics.load(words, RETIRE_SEQUENCE);
    if ((sequence & 1) === 0 && Atomics.compareExchange(words, RETIRE_SEQUENCE, sequence, sequence + 1) === sequence) break;
  }
  try {
    if (free()) addCount(words, RETIRED, groupDelivered(views, index));
  } finally {
    Atomics.store(words, RETIRE_SEQUENCE, (sequence + 2) | 0);
  }
}

/** Messages finished by the members of every group since the ring was created. */
export function ringDelivered(views: RingViews, geometry: RingGeometry): number {
  const { words } = views;
  let total = 0;
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const before = Atomics.load(words, RETIRE_SEQUENCE);
    total = readCount(words, RETIRED);
    for (let index = 0; index < geometry.groupCapacity; index++) {
      if (Atomics.load(words, (groupOffset(index) + GROUP_STATE) >> 2) === GROUP_ACTIVE) total += groupDelivered(views, index);
    }
    if ((before & 1) === 0 && Atomics.load(words, RETIRE_SEQUENCE) === before) return total;
  }
  return total;
}
