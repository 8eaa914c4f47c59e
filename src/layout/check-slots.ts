/**
 * Checks every slot of a ring that no other process has open against its head and tail. Pure:
 * works on a Buffer. Only meaningful while nothing else can change the ring (the opener holds
 * the exclusive flock); on a ring in use the ring algorithm's own checks apply instead.
 *
 * The states a slot can be left in (positions modulo the limit L, N slots, see ring.ts):
 * - for p in [head, tail): p (claimed by a sender that has not committed: it may have died) or
 *   p + 1 (committed; recovery may have set SEQUENCE_RELEASED_BIT on it);
 * - for p in [tail, head + N): p (free) or p - N + 1 (the message for p - N was claimed by a
 *   receiver that has not freed the slot yet: it may have died), also with the released bit.
 * Every length word is at most the slot size: senders never write more.
 */
import { SEQUENCE_RELEASED_BIT, SLOT_LENGTH, SLOT_SEQUENCE, HEAD_OFFSET, TAIL_OFFSET, slotOffsetOf, type RingGeometry } from './ring-layout.js';

/** Returns undefined when every slot is in a state the protocol allows, else the first problem. */
export function checkSlots(memory: Buffer, geometry: RingGeometry): string | undefined {
  const { slotCount, slotSize, positionLimit: limit } = geometry;
  const wrap = (position: number) => ((position % limit) + limit) % limit;
  const head = memory.readUInt32LE(HEAD_OFFSET);
  const tail = memory.readUInt32LE(TAIL_OFFSET);
  const backlog = wrap(tail - head);
  for (let k = 0; k < slotCount; k++) {
    const position = wrap(head + k);
    const index = position % slotCount;
    const slot = slotOffsetOf(geometry, index);
    const sequence = memory.readUInt32LE(slot + SLOT_SEQUENCE);
    const inUse = k < backlog;
    const held = inUse ? wrap(position + 1) : wrap(position - slotCount + 1);
    if (sequence !== position && (sequence & ~SEQUENCE_RELEASED_BIT) !== held) {
      const state = inUse ? `holds position ${position} (between head ${head} and tail ${tail})` : `is free for position ${position}`;
      return `slot ${index} ${state} but its sequence word is ${sequence}, expected ${position} or ${held}`;
    }
    const length = memory.readInt32LE(slot + SLOT_LENGTH);
    if (length < 0 || length > slotSize) {
      return `slot ${index} has length ${length}, outside 0 to the ${slotSize}-byte slot size`;
    }
  }
  return undefined;
}
