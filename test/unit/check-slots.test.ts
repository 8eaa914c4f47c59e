/**
 * The slot check an opener runs on a ring nobody else has open: every state the protocol (and
 * recovery) can leave behind passes, anything else is refused with the slot named.
 */
import { checkSlots } from '../../src/layout/check-slots.js';
import { publishHeader, writeHeader } from '../../src/layout/header.js';
import {
  HEAD_OFFSET,
  SEQUENCE_RELEASED_BIT,
  SLOT_LENGTH,
  SLOT_SEQUENCE,
  TAIL_OFFSET,
  ringGeometry,
  slotOffsetOf,
  type RingGeometry,
} from '../../src/layout/ring-layout.js';
import { Ring } from '../../src/ring/ring.js';

const SLOTS = 4;
const SLOT_SIZE = 8;
const geometry = ringGeometry(SLOTS, SLOT_SIZE) as RingGeometry;
const sequenceOffset = (index: number) => slotOffsetOf(geometry, index) + SLOT_SEQUENCE;

/** A ring after `laps` send-receive pairs, then `sent` sends and `received` receives. */
function ring(sent: number, received: number, laps = 0): { memory: Buffer; ring: Ring } {
  const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
  writeHeader(memory, geometry, { pid: 1, startTicks: 0, createdAt: 0 });
  publishHeader(memory);
  const ring = new Ring(memory, geometry);
  for (let i = 0; i < laps; i++) expect([ring.trySend('x'), ring.tryReceive()?.data.toString()]).toEqual([true, 'x']);
  for (let i = 0; i < sent; i++) expect(ring.trySend(`m${i}`)).toBe(true);
  for (let i = 0; i < received; i++) expect(ring.tryReceive()).not.toBeNull();
  return { memory, ring };
}

test.each([
  [0, 0, 0],
  [3, 1, 0],
  [SLOTS, 0, 0],
  [2, 1, SLOTS * 3 + 1],
])('passes a ring after %i sends and %i receives (after %i round trips)', (sent, received, laps) => {
  expect(checkSlots(ring(sent, received, laps).memory, geometry)).toBeUndefined();
});

test('passes a claim whose sender died before committing it', () => {
  const { memory } = ring(1, 0);
  memory.writeUInt32LE(2, TAIL_OFFSET); // position 1 claimed; slot 1 still reads 1
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('passes a claim that recovery released (committed with the released bit)', () => {
  const { memory } = ring(1, 0);
  memory.writeUInt32LE(2, TAIL_OFFSET);
  memory.writeUInt32LE(2 | SEQUENCE_RELEASED_BIT, sequenceOffset(1));
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('passes a message whose receiver died before freeing its slot', () => {
  const { memory } = ring(1, 0);
  memory.writeUInt32LE(1, HEAD_OFFSET); // position 0 taken; slot 0 still reads 1, not 0 + SLOTS
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('passes positions that wrap around the position limit', () => {
  const { memory } = ring(0, 0);
  const limit = geometry.positionLimit;
  const head = limit - 2;
  memory.writeUInt32LE(head, HEAD_OFFSET);
  memory.writeUInt32LE((head + 3) % limit, TAIL_OFFSET);
  for (let k = 0; k < SLOTS; k++) {
    const position = (head + k) % limit;
    memory.writeUInt32LE(k < 3 ? (position + 1) % limit : position, sequenceOffset(position % SLOTS));
  }
  expect(checkSlots(memory, geometry)).toBeUndefined();
});

test('refuses a free slot that reads as committed', () => {
  const { memory } = ring(1, 0);
  memory.writeUInt32LE(2, sequenceOffset(1)); // position 1 is past the tail: free, must read 1
  const consumed = geometry.positionLimit + 1 - SLOTS + 1; // position 1 - SLOTS, plus one, modulo the limit
  expect(checkSlots(memory, geometry)).toBe(`slot 1 is free for position 1 but its sequence word is 2, expected 1 or ${consumed}`);
});

test('refuses the released bit on a free slot', () => {
  const { memory } = ring(0, 0);
  memory.writeUInt32LE(2 | SEQUENCE_RELEASED_BIT, sequenceOffset(2));
  expect(checkSlots(memory, geometry)).toBe(`slot 2 is free for position 2 but its sequence word is ${2 | SEQUENCE_RELEASED_BIT}, expected 2 or ${geometry.positionLimit + 2 - SLOTS + 1}`);
});

test('refuses a length word larger than the slot', () => {
  const { memory } = ring(2, 0);
  memory.writeUInt32LE(SLOT_SIZE + 1, slotOffsetOf(geometry, 1) + SLOT_LENGTH);
  expect(checkSlots(memory, geometry)).toBe(`slot 1 has length ${SLOT_SIZE + 1}, outside 0 to the ${SLOT_SIZE}-byte slot size`);
});
