/** The classic ring over plain memory: the tutorial's protocol, its bounds, and corrupt words. */
import {
  CLASSIC_MAX_MESSAGE_LENGTH,
  CLASSIC_SLOT_COUNT,
  CLASSIC_SLOT_LENGTH,
  CLASSIC_STRUCT_LENGTH,
  MESSAGE_COUNT_OFFSET,
  READ_INDEX_OFFSET,
  WRITE_INDEX_OFFSET,
  isConsistent,
  slotOffset,
} from '../../src/classic/classic-layout.js';
import { ClassicRing } from '../../src/classic/classic-ring.js';
import { MessageTooLargeError, RingFormatError } from '../../src/errors.js';

const memory = () => Buffer.alloc(CLASSIC_STRUCT_LENGTH);
const take = (ring: ClassicRing) => {
  let got: [string, number] | undefined;
  ring.tryReceiveWith((message, remaining) => (got = [message.toString('utf8'), remaining]));
  return got;
};

test('the struct is three ints and 100 slots of 64 bytes', () => {
  expect(CLASSIC_STRUCT_LENGTH).toBe(3 * 4 + CLASSIC_SLOT_COUNT * CLASSIC_SLOT_LENGTH);
  expect(slotOffset(CLASSIC_SLOT_COUNT)).toBe(CLASSIC_STRUCT_LENGTH);
});

test('a send writes the C string at write_index, then advances write_index and the count', () => {
  const buffer = memory();
  buffer.fill(0xff, slotOffset(0), slotOffset(1));
  const ring = new ClassicRing(buffer);
  expect(ring.trySend(Buffer.from('hi'))).toBe(1);
  expect(buffer.subarray(slotOffset(0), slotOffset(0) + 3)).toEqual(Buffer.from('hi\0'));
  expect(buffer.readInt32LE(WRITE_INDEX_OFFSET)).toBe(1);
  expect(buffer.readInt32LE(MESSAGE_COUNT_OFFSET)).toBe(1);
  expect(take(ring)).toEqual(['hi', 0]);
  expect(buffer.readInt32LE(READ_INDEX_OFFSET)).toBe(1);
  expect(take(ring)).toBeUndefined();
});

test('full is a return value; order holds across the wrap from slot 99 to slot 0', () => {
  const buffer = memory();
  buffer.writeInt32LE(CLASSIC_SLOT_COUNT - 1, READ_INDEX_OFFSET);
  buffer.writeInt32LE(CLASSIC_SLOT_COUNT - 1, WRITE_INDEX_OFFSET);
  const ring = new ClassicRing(buffer);
  for (let i = 0; i < CLASSIC_SLOT_COUNT; i++) expect(ring.trySend(Buffer.from(`m${i}`))).toBe(i + 1);
  expect(ring.trySend(Buffer.from('more'))).toBe(-1);
  expect(ring.peek(2).map(String)).toEqual(['m0', 'm1']);
  for (let i = 0; i < CLASSIC_SLOT_COUNT; i++) expect(take(ring)).toEqual([`m${i}`, CLASSIC_SLOT_COUNT - 1 - i]);
  expect(isConsistent(ring.state)).toBe(true);
});

test('a handler that throws leaves the message in the ring', () => {
  const ring = new ClassicRing(memory());
  ring.trySend(Buffer.from('keep'));
  expect(() =>
    ring.tryReceiveWith(() => {
      throw new Error('output closed');
    }),
  ).toThrow('output closed');
  expect(take(ring)).toEqual(['keep', 0]);
});

test('refuses messages that are too long or hold a NUL byte', () => {
  const ring = new ClassicRing(memory());
  expect(() => ring.trySend(Buffer.alloc(CLASSIC_MAX_MESSAGE_LENGTH + 1, 0x61))).toThrow(MessageTooLargeError);
  expect(() => ring.trySend(Buffer.from('a\0b'))).toThrow(/NUL/);
  expect(ring.trySend(Buffer.alloc(CLASSIC_MAX_MESSAGE_LENGTH, 0x61))).toBe(1);
});

test.each([
  [MESSAGE_COUNT_OFFSET, CLASSIC_SLOT_COUNT + 1, /message_count is 101/],
  [MESSAGE_COUNT_OFFSET, -1, /message_count is -1/],
  [READ_INDEX_OFFSET, CLASSIC_SLOT_COUNT, /read_index is 100/],
  [WRITE_INDEX_OFFSET, -5, /write_index is -5/],
])('a word out of range (offset %d = %d) is a RingFormatError', (offset, value, reason) => {
  const buffer = memory();
  buffer.writeInt32LE(value, offset);
  buffer.writeInt32LE(offset === MESSAGE_COUNT_OFFSET ? 0 : 1, offset === MESSAGE_COUNT_OFFSET ? READ_INDEX_OFFSET : MESSAGE_COUNT_OFFSET);
  const ring = new ClassicRing(buffer, 'f');
  expect(() => ring.validate()).toThrow(RingFormatError);
  expect(() => ring.validate()).toThrow(reason);
});

test('a lost update shows as an inconsistent count', () => {
  const ring = new ClassicRing(memory());
  ring.trySend(Buffer.from('a'));
  ring.trySend(Buffer.from('b'));
  ring.memory.writeInt32LE(1, MESSAGE_COUNT_OFFSET); // as if a C ++ had overwritten the second increment
  expect(isConsistent(ring.state)).toBe(false);
});
