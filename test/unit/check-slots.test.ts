/**
 * The slot check an opener runs on a ring nobody else has open: every state the protocol (and
 * recovery) can leave behind passes, anything else is refused with the slot, group or
 * participant entry named.
 */
import { checkSlots } from '../../src/layout/check-slots.js';
import {
  GROUP_DISPATCH,
  GROUP_NAME_LENGTH,
  GROUP_STATE,
  PARTICIPANT_INTENT_COUNT,
  PARTICIPANT_RUN_COUNT,
  PARTICIPANT_RUN_START,
  SEQUENCE_RELEASED_BIT,
  SEQUENCE_SKIP_BIT,
  SLOT_LENGTH,
  SLOT_SPAN,
  TAIL_OFFSET,
  groupOffset,
  participantOffset,
  seqValue,
  sequenceOffsetOf,
  slotOffsetOf,
} from '../../src/layout/ring-layout.js';
import { readParticipant } from '../../src/ring/participants.js';
import { viewsOf } from '../../src/ring/views.js';
import { advanceEmptyRing, memberRing, ringMemory, senderRing, type TestRing } from '../helpers/memory-ring.js';

const SLOTS = 4;
const SLOT_SIZE = 8;
const sequenceOffset = (index: number) => sequenceOffsetOf(geometry, index);
const { geometry } = ringMemory(SLOTS, SLOT_SIZE);

/** A ring after `laps` send-receive pairs, then `sent` sends and `received` receives (from `start`). */
function ring(sent: number, received: number, laps = 0, start = 0): { memory: Buffer; ring: TestRing } {
  const { memory } = ringMemory(SLOTS, SLOT_SIZE);
  if (start > 0) advanceEmptyRing(memory, geometry, start);
  const ring = memberRing(memory, geometry);
  for (let i = 0; i < laps; i++) expect([ring.trySend('x'), ring.tryReceive()?.data.toString()]).toEqual([true, 'x']);
  for (let i = 0; i < sent; i++) expect(ring.trySend(`m${i}`)).toBe(true);
  for (let i = 0; i < received; i++) expect(ring.tryReceive()).not.toBeNull();
  return { memory, ring };
}

const setTail = (memory: Buffer, tail: number) => memory.writeBigUInt64LE(BigInt(tail), TAIL_OFFSET);

test.each([
  [0, 0, 0],
  [3, 1, 0],
  [SLOTS, 0, 0],
  [SLOTS, SLOTS, 0],
  [2, 1, SLOTS * 3 + 1],
])('passes a ring after %i sends and %i receives (after %i round trips)', (sent, received, laps) => {
  expect(checkSlots(ring(sent, received, laps).memory, geometry)).toBeUndefined();
});

test('passes a claim whose sender died before it began writing (the slot still speaks for the lap before)', () => {
  const { memory } = ring(1, 0);
  setTail(memory, 2); // position 1 claimed; slot 1 is still the fresh skip record of 1 - SLOTS
  expect(checkSlots(memory, geometry)).toBeUndefined();
  // Slot 2 holds position 2; position 6 = 2 + SLOTS is claimed and never begun.
  const { memory: lapped, ring: member } = ring(SLOTS, 3);
  expect([member.trySend('m4'), member.trySend('m5')]).toEqual([true, true]);
  setTail(lapped, SLOTS + 3);
  expect(checkSlots(lapped, geometry)).toBeUndefined();
});

test('passes a claim of a message of three slots whose sender died after writing the skip words of its other slots', () => {
  const { memory } = ring(1, 0);
  setTail(memory, 4); // positions 1 to 3 claimed for one message; its first word never published
  memory.writeInt32LE(seqValue(2) | SEQUENCE_SKIP_BIT, sequenceOffset(2));
  memory.writeInt32LE(seqValue(3) | SEQUENCE_SKIP_BIT, sequenceOffset(3));
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('passes messages of several slots and the padding before the end of the ring', () => {
  const { memory, ring: member } = ring(1, 1);
  expect(member.trySend(Buffer.alloc(2 * (32 + SLOT_SIZE) - 32))).toBe(true); // positions 1-2
  expect(member.tryReceive()?.sequence).toBe(1);
  expect(member.trySend(Buffer.alloc(2 * (32 + SLOT_SIZE) - 32))).toBe(true); // padding at 3, then positions 4-5
  expect(memory.readBigUInt64LE(TAIL_OFFSET)).toBe(6n);
  expect(memory.readInt32LE(sequenceOffset(3))).toBe(seqValue(3) | SEQUENCE_SKIP_BIT);
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('refuses a message whose span passes the end of the ring', () => {
  const { memory } = ring(2, 0);
  memory.writeInt32LE(SLOTS, slotOffsetOf(geometry, 1) + SLOT_SPAN);
  expect(checkSlots(memory, geometry)).toBe(`the message at slot 1 spans ${SLOTS} slots; 1 to ${SLOTS - 1} fit before the end of the ring`);
});

test('passes a claim that recovery released (a skip record for its position)', () => {
  const { memory } = ring(1, 0);
  setTail(memory, 2);
  memory.writeInt32LE(seqValue(1) | SEQUENCE_RELEASED_BIT, sequenceOffset(1));
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('passes what a member and a sender leave behind when they die inside their claims', () => {
  const { memory, ring: member } = ring(2, 0);
  const died = () => {
    throw new Error('died');
  };
  // A member that dies holding a run of 2 (its run stays recorded in its entry).
  expect(() => member.tryReceiveBatchWith(2, () => {}, died)).toThrow('died');
  expect(readParticipant(viewsOf(memory, geometry), member.participant)?.run).toMatchObject({ start: 0, count: 2 });
  // A sender that dies half-way through its payload (intent recorded).
  const sender = senderRing(memory, geometry, { fault: (step) => step === 'send-payload' && died() });
  expect(() => sender.trySend(Buffer.from('halfway!'))).toThrow('died');
  expect(readParticipant(viewsOf(memory, geometry), sender.participant)?.intent).toMatchObject({ start: 2, count: 1 });
  // And one that dies right after its compare-and-swap (claimed, never begun).
  const other = senderRing(memory, geometry, { fault: (step) => step === 'send-claimed' && died() });
  expect(() => other.trySend('never')).toThrow('died');
  expect(memory.readBigUInt64LE(TAIL_OFFSET)).toBe(4n);
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('passes positions across the 30-bit wrap of the sequence word', () => {
  const start = 2 ** 30 - 3;
  const { memory, ring: member } = ring(0, 0, 0, start);
  for (let i = 0; i < 2 * SLOTS + 1; i++) expect([member.trySend(`w${i}`), member.tryReceive()?.sequence]).toEqual([true, start + i]);
  for (let i = 0; i < 3; i++) expect(member.trySend(`v${i}`)).toBe(true);
  expect(checkSlots(memory, geometry)).toBeUndefined();
  expect(memory.readBigUInt64LE(TAIL_OFFSET)).toBe(BigInt(start + 2 * SLOTS + 4)); // past 2^30
  expect(memory.readInt32LE(sequenceOffset((start + 2 * SLOTS + 3) % SLOTS))).toBe(start + 2 * SLOTS + 4 - 2 ** 30); // wrapped in 30 bits
});

test('passes positions past 2^32 (a u64 tail)', () => {
  const { memory } = ring(3, 1, 0, 2 ** 32 - 2);
  expect(memory.readBigUInt64LE(TAIL_OFFSET)).toBe(BigInt(2 ** 32 + 1));
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('refuses a fresh slot that reads as published', () => {
  const { memory } = ring(1, 0);
  memory.writeInt32LE(seqValue(1), sequenceOffset(1)); // position 1 is not claimed: slot 1 can only be fresh
  expect(checkSlots(memory, geometry)).toBe(`slot 1 has sequence word 2, but with the tail at 1 it can only speak for position ${1 - SLOTS}`);
});

test('refuses a slot a lap ahead of the tail', () => {
  const { memory } = ring(2, 0);
  memory.writeInt32LE(seqValue(SLOTS), sequenceOffset(0));
  expect(checkSlots(memory, geometry)).toBe(`slot 0 has sequence word ${SLOTS + 1}, but with the tail at 2 it can only speak for position 0 or ${-SLOTS}`);
});

test('refuses bit 31 in a sequence word (no process of this ring writes it)', () => {
  const { memory } = ring(2, 0);
  const word = (seqValue(-2) | -0x80000000) >>> 0; // fresh slot 2 with bit 31 set
  memory.writeUInt32LE(word, sequenceOffset(2));
  expect(checkSlots(memory, geometry)).toBe(`slot 2 has sequence word ${word}, but with the tail at 2 it can only speak for position -2`);
});

test('refuses a length word larger than the message\'s slots, or negative', () => {
  const { memory } = ring(2, 0);
  const stride = 32 + SLOT_SIZE; // docs/format.md §2: align8(32 + S)
  memory.writeUInt32LE(SLOT_SIZE + 1, slotOffsetOf(geometry, 1) + SLOT_LENGTH);
  expect(checkSlots(memory, geometry)).toBe(`the message at slot 1 has length ${SLOT_SIZE + 1}; its 1 slot(s) hold ${stride - 32} bytes of payload`);
  memory.writeInt32LE(-1, slotOffsetOf(geometry, 1) + SLOT_LENGTH);
  expect(checkSlots(memory, geometry)).toBe(`the message at slot 1 has length -1; its 1 slot(s) hold ${stride - 32} bytes of payload`);
});

describe('the group table', () => {
  test('passes a second group, lossy, at the tail', () => {
    const { memory } = ring(3, 1);
    memberRing(memory, geometry, { group: 'audit', lossy: true });
    expect(checkSlots(memory, geometry)).toBeUndefined();
  });

  test('refuses an unknown group state', () => {
    const { memory } = ring(1, 0);
    memory.writeUInt32LE(3, groupOffset(1) + GROUP_STATE);
    expect(checkSlots(memory, geometry)).toBe('group entry 1 has state 3, expected 0, 1 or 2');
  });

  test.each([0, 49])('refuses a group name of %i bytes', (length) => {
    const { memory } = ring(1, 0);
    memory.writeUInt32LE(length, groupOffset(0) + GROUP_NAME_LENGTH);
    expect(checkSlots(memory, geometry)).toBe(`group entry 0 has a name of ${length} bytes, expected 1 to 48`);
  });

  test('refuses a group cursor beyond the tail', () => {
    const { memory } = ring(2, 0);
    memory.writeBigUInt64LE(3n, groupOffset(0) + GROUP_DISPATCH);
    expect(checkSlots(memory, geometry)).toBe('group entry 0 has its cursor at 3, beyond the tail 2');
    memory.writeBigUInt64LE((5n << 56n) | 2n, groupOffset(0) + GROUP_DISPATCH); // a claimer tag above position 2: fine
    expect(checkSlots(memory, geometry)).toBeUndefined();
  });
});

describe('the participant table', () => {
  test('refuses an intent or a run of more positions than slots', () => {
    const { memory, ring: member } = ring(2, 0);
    const entry = participantOffset(member.participant);
    memory.writeUInt32LE(SLOTS + 1, entry + PARTICIPANT_INTENT_COUNT);
    expect(checkSlots(memory, geometry)).toBe(`participant entry ${member.participant} claims ${SLOTS + 1} positions, more than the ${SLOTS} slots`);
    memory.writeUInt32LE(0, entry + PARTICIPANT_INTENT_COUNT);
    memory.writeUInt32LE(SLOTS + 1, entry + PARTICIPANT_RUN_COUNT);
    expect(checkSlots(memory, geometry)).toBe(`participant entry ${member.participant} claims ${SLOTS + 1} positions, more than the ${SLOTS} slots`);
  });

  test('refuses a run beyond the tail', () => {
    const { memory, ring: member } = ring(2, 0);
    const entry = participantOffset(member.participant);
    memory.writeBigUInt64LE(1n, entry + PARTICIPANT_RUN_START);
    memory.writeUInt32LE(2, entry + PARTICIPANT_RUN_COUNT);
    expect(checkSlots(memory, geometry)).toBe(`participant entry ${member.participant} holds positions 1 to 2, beyond the tail 2`);
  });
});
