/**
 * The delivered counts: what members finished, counted as it happens, so that `stat`'s received
 * totals only ever grow (a group created --from earliest, reset or removed moves cursors, never
 * these). One u64 for the ring and one per group (layout: DELIVERED_OFFSET, GROUP_DELIVERED),
 * each two u32 words (./counts.ts). Pure: it sees the ring's memory and nothing else.
 *
 * A member calls countDelivered(words, group, n) once per finish() of n messages: two 32-bit
 * atomic adds per finished run, none per message.
 */
import { DELIVERED_OFFSET, GROUP_DELIVERED, groupOffset } from '../layout/ring-layout.js';
import { addCount, readCount } from './counts.js';
import type { RingViews } from './views.js';

const RING_DELIVERED = DELIVERED_OFFSET >> 2;

/** The Int32 index of the low word of group `index`'s delivered count. */
export const groupDeliveredWord = (index: number): number => (groupOffset(index) + GROUP_DELIVERED) >> 2;

/** Adds `count` finished messages to the ring's total and to the group's (low word `groupWord`). */
export function countDelivered(words: Int32Array, groupWord: number, count: number): void {
  addCount(words, RING_DELIVERED, count);
  addCount(words, groupWord, count);
}

/** Messages finished by the members of every group since the ring was created. */
export function ringDelivered(views: RingViews): number {
  return readCount(views.words, RING_DELIVERED);
}

/** Messages finished by the members of group `index` since it was created. */
export function groupDelivered(views: RingViews, index: number): number {
  return readCount(views.words, groupDeliveredWord(index));
}
