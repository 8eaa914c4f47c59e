/**
 * The delivered counts: what members finished, counted as it happens, so that `stat`'s received
 * totals only ever grow (a group created --from earliest, reset or removed moves cursors, never
 * these). One u64 for the ring and one per group (layout: DELIVERED_OFFSET, GROUP_DELIVERED).
 * Pure: it sees the ring's memory and nothing else.
 *
 * A member calls countDelivered(longs, group, n) once per finish() of n messages: two atomic adds
 * per finished run, none per message.
 */
import { DELIVERED_OFFSET, GROUP_DELIVERED, groupOffset } from '../layout/ring-layout.js';
import type { RingViews } from './views.js';

const RING_DELIVERED = DELIVERED_OFFSET >> 3;

/** The u64 index of group `index`'s delivered count. */
export const groupDeliveredWord = (index: number): number => (groupOffset(index) + GROUP_DELIVERED) >> 3;

/** Adds `count` finished messages to the ring's total and to group `group`'s. */
const SMALL = Array.from({ length: 257 }, (_, i) => BigInt(i));

export function countDelivered(longs: BigUint64Array, groupWord: number, count: number): void {
  const amount = count < SMALL.length ? SMALL[count]! : BigInt(count);
  Atomics.add(longs, RING_DELIVERED, amount);
  Atomics.add(longs, groupWord, amount);
}

/** Messages finished by the members of every group since the ring was created. */
export function ringDelivered(views: RingViews): number {
  return Number(Atomics.load(views.longs, RING_DELIVERED));
}
