/**
 * Checks a ring that no other process has open (the opener holds the exclusive flock): every
 * sequence word and message header against the tail, and the group and participant tables. Pure:
 * works on a Buffer.
 *
 * With tail T, the sequence word of slot i speaks for q_i, the last position below T with
 * q_i mod N = i (published, or a skip record), or for q_i - N (q_i was claimed and never
 * published); when T <= i the slot is still fresh (the skip record of i - N). Bit 31 is never set.
 * A published message's span fits before the end of the ring and holds its length. A group is
 * free, being set up, or active with a name of at most 48 bytes and a cursor at most T; a
 * participant's intent and run stay below T + N.
 */
import {
  GROUP_DISPATCH,
  GROUP_NAME_LENGTH,
  GROUP_NAME_MAX,
  GROUP_STATE,
  PARTICIPANT_CAPACITY,
  PARTICIPANT_INTENT_COUNT,
  PARTICIPANT_PID,
  PARTICIPANT_RUN_COUNT,
  PARTICIPANT_RUN_START,
  POSITION_MASK,
  RUN_COUNT_MASK,
  SEQUENCE_SKIP_BIT,
  SHAPE_EXTENSION_MASK,
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  SLOT_SHAPE,
  SLOT_SPAN,
  TAIL_OFFSET,
  WORD,
  groupOffset,
  participantOffset,
  seqValue,
  slotOffsetOf,
  type RingGeometry,
} from './ring-layout.js';

/** Returns undefined when every slot and table entry is in a state the protocol allows, else the first problem. */
export function checkSlots(memory: Buffer, geometry: RingGeometry): string | undefined {
  const { slotCount, slotStride } = geometry;
  const tail = Number(memory.readBigUInt64LE(TAIL_OFFSET) & POSITION_MASK);
  for (let index = 0; index < slotCount; index++) {
    const sequence = memory.readInt32LE(geometry.headerLength + index * WORD);
    const last = tail > index ? tail - 1 - ((tail - 1 - index) % slotCount) : index - slotCount;
    const plain = sequence & ~SEQUENCE_SKIP_BIT;
    const fine = plain === seqValue(last) || (last >= 0 && plain === seqValue(last - slotCount));
    if (!fine) {
      return `slot ${index} has sequence word ${sequence >>> 0}, but with the tail at ${tail} it can only speak for position ${last}${last >= 0 ? ` or ${last - slotCount}` : ''}`;
    }
    if (sequence !== seqValue(last) || last < 0) continue;
    const slot = slotOffsetOf(geometry, index);
    const span = memory.readInt32LE(slot + SLOT_SPAN);
    if (span < 1 || span > slotCount - index) return `the message at slot ${index} spans ${span} slots; 1 to ${slotCount - index} fit before the end of the ring`;
    const length = memory.readInt32LE(slot + SLOT_LENGTH);
    const extension = memory.readInt32LE(slot + SLOT_SHAPE) & SHAPE_EXTENSION_MASK;
    if (length < 0 || extension % 8 !== 0 || SLOT_HEADER_LENGTH + extension + length > span * slotStride) {
      return `the message at slot ${index} has length ${length}; its ${span} slot(s) hold ${Math.max(0, span * slotStride - SLOT_HEADER_LENGTH - extension)} bytes of payload`;
    }
  }
  for (let index = 0; index < geometry.groupCapacity; index++) {
    const base = groupOffset(index);
    const state = memory.readUInt32LE(base + GROUP_STATE);
    if (state > 2) return `group entry ${index} has state ${state}, expected 0, 1 or 2`;
    if (state === 0) continue;
    const nameLength = memory.readUInt32LE(base + GROUP_NAME_LENGTH);
    if (nameLength === 0 || nameLength > GROUP_NAME_MAX) return `group entry ${index} has a name of ${nameLength} bytes, expected 1 to ${GROUP_NAME_MAX}`;
    const dispatch = Number(memory.readBigUInt64LE(base + GROUP_DISPATCH) & POSITION_MASK);
    if (dispatch > tail) return `group entry ${index} has its cursor at ${dispatch}, beyond the tail ${tail}`;
  }
  for (let index = 0; index < PARTICIPANT_CAPACITY; index++) {
    const base = participantOffset(index);
    if (memory.readUInt32LE(base + PARTICIPANT_PID) === 0) continue;
    const intent = memory.readUInt32LE(base + PARTICIPANT_INTENT_COUNT);
    const run = memory.readUInt32LE(base + PARTICIPANT_RUN_COUNT) & RUN_COUNT_MASK;
    const runStart = Number(memory.readBigUInt64LE(base + PARTICIPANT_RUN_START));
    if (intent > slotCount || run > slotCount) return `participant entry ${index} claims ${Math.max(intent, run)} positions, more than the ${slotCount} slots`;
    if (run > 0 && runStart + run > tail) return `participant entry ${index} holds positions ${runStart} to ${runStart + run - 1}, beyond the tail ${tail}`;
  }
  return undefined;
}
