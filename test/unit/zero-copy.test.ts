/**
 * Zero-copy sending and receiving (format v3): claims written in place then committed or
 * aborted, batch claims, dropped claims, one claim at a time; views held in place that no sender
 * may overwrite until released. Rings of 8 slots of 16 bytes: stride 48, so a message of up to
 * 16 bytes takes one slot, up to 64 two, up to 112 three (docs/format.md §2).
 */
import { SEQUENCE_SKIP_BIT, TAIL_OFFSET, POSITION_MASK, seqValue } from '../../src/layout/ring-layout.js';
import { memberRing, pidLocks, ringMemory, senderRing, sentTotal, sequenceFor } from '../helpers/memory-ring.js';
import type { Ring } from '../../src/ring/ring.js';

function setup() {
  const { memory, geometry } = ringMemory(8, 16);
  const member = memberRing(memory, geometry);
  const sender = senderRing(memory, geometry);
  const tail = () => Number(memory.readBigUInt64LE(TAIL_OFFSET) & POSITION_MASK);
  const sent = () => sentTotal(memory);
  const word = (position: number) => memory.readInt32LE(sequenceFor(geometry, position));
  return { memory, geometry, member, sender, tail, sent, word };
}

function drain(ring: Ring): Array<[number, string]> {
  const got: Array<[number, string]> = [];
  for (let message = ring.tryReceive(); message; message = ring.tryReceive()) got.push([message.sequence, message.data.toString('latin1')]);
  return got;
}

describe('tryClaim', () => {
  test('a claim is written in place and published by commit, whole; nothing is visible before', () => {
    const { member, sender, sent } = setup();
    const claim = sender.tryClaim(100)!;
    expect({ sequence: claim.sequence, length: claim.data.length }).toEqual({ sequence: 0, length: 100 });
    claim.data.fill('z');
    claim.data.write('claimed:', 0, 'latin1');
    expect(member.tryReceive()).toBeNull(); // claimed, not published
    expect(claim.commit()).toBe(0);
    expect(sent()).toBe(1);
    expect(drain(member)).toEqual([[0, `claimed:${'z'.repeat(92)}`]]);
    expect(() => claim.commit()).toThrow(/already committed or aborted/);
  });

  test('commit with a shorter length publishes only that many bytes', () => {
    const { member, sender } = setup();
    const claim = sender.tryClaim(60)!; // two slots
    claim.data.write('short', 0, 'latin1');
    claim.commit(5);
    sender.trySend('next');
    expect(drain(member)).toEqual([[0, 'short'], [2, 'next']]);
    expect(() => sender.tryClaim(10)!.commit(11)).toThrow(RangeError);
  });

  test('abort turns the claimed positions into skip records: no message, the ring flows on', () => {
    const { member, sender, tail, sent, word } = setup();
    const claim = sender.tryClaim(100)!; // three slots: positions 0-2
    claim.data.fill('x');
    claim.abort();
    claim.abort(); // idempotent
    expect(tail()).toBe(3);
    expect(sent()).toBe(0);
    expect([0, 1, 2].map(word)).toEqual([0, 1, 2].map((q) => seqValue(q) | SEQUENCE_SKIP_BIT));
    expect(sender.trySend('after')).toBe(true);
    expect(drain(member)).toEqual([[3, 'after']]);
  });

  test('tryClaimBatch claims several messages in one step; one commit publishes them in order', () => {
    const { member, sender, tail } = setup();
    const claim = sender.tryClaimBatch([10, 100, 0, 16])!;
    expect(claim.sequences).toEqual([0, 1, 4, 5]);
    expect(claim.buffers.map((buffer) => buffer.length)).toEqual([10, 100, 0, 16]);
    claim.buffers.forEach((buffer, i) => buffer.fill(97 + i));
    expect(tail()).toBe(6);
    expect(claim.commit()).toBe(5);
    expect(drain(member)).toEqual([[0, 'a'.repeat(10)], [1, 'b'.repeat(100)], [4, ''], [5, 'd'.repeat(16)]]);
  });

  test('tryClaimBatch takes as many as fit and stops before a message that would cross the end', () => {
    const { member, sender } = setup();
    for (let i = 0; i < 5; i++) sender.trySend(`m${i}`);
    drain(member);
    const claim = sender.tryClaimBatch([5, 100, 5])!; // 5 fits at 5; 100 (three slots) at 6 would cross the end
    expect(claim.sequences).toEqual([5]);
    claim.commit();
    const next = sender.tryClaim(100)!; // padding at 6-7, then slots 0-2 (positions 8-10)
    expect(next.sequence).toBe(8);
    next.data.fill('p');
    next.commit();
    expect(drain(member)).toEqual([[5, '\0'.repeat(5)], [8, 'p'.repeat(100)]]);
  });

  test('a claim dropped by `using` (an exception in its block) aborts: skip records, the ring flows on', () => {
    const { member, sender, tail, word } = setup();
    expect(() => {
      using claim = sender.tryClaim(60)!;
      claim.data.fill('!');
      throw new Error('the writer failed half-way');
    }).toThrow('the writer failed half-way');
    expect(tail()).toBe(2);
    expect([0, 1].map(word)).toEqual([0, 1].map((q) => seqValue(q) | SEQUENCE_SKIP_BIT));
    {
      using committed = sender.tryClaim(3)!;
      committed.data.write('yes', 'latin1');
      committed.commit(); // disposing a committed claim changes nothing
    }
    expect(drain(member)).toEqual([[2, 'yes']]);
  });

  test('one claim at a time: sending, batch sending or claiming again while a claim is open throws, and sends nothing', () => {
    const { member, sender, tail } = setup();
    const claim = sender.tryClaim(4)!;
    expect(() => sender.trySend('no')).toThrow(/a claim of position 0 is open/);
    expect(() => sender.trySendBatch(['no'])).toThrow(/a claim of position 0 is open/);
    expect(() => sender.tryClaim(4)).toThrow(/a claim of position 0 is open/);
    expect(tail()).toBe(1);
    claim.data.write('open', 'latin1');
    claim.commit();
    expect(sender.trySend('then')).toBe(true);
    expect(drain(member)).toEqual([[0, 'open'], [1, 'then']]);
  });

  test('a claim past the largest message is MessageTooLargeError with nothing claimed; a full ring gives null', () => {
    const { memory, geometry, member, sender, tail } = setup();
    expect(() => sender.tryClaim(geometry.maxMessageLength + 1)).toThrow(expect.objectContaining({ name: 'MessageTooLargeError', exitCode: 5 }));
    expect(tail()).toBe(0);
    const whole = sender.tryClaim(geometry.maxMessageLength)!; // every slot
    expect(whole.data.length).toBe(312); // 8 slots of 48 bytes: 8 × 48 − 32 − 40 (docs/format.md §2)
    expect(senderRing(memory, geometry).tryClaim(0)).toBeNull();
    whole.commit();
    expect(drain(member).map(([sequence, text]) => [sequence, text.length])).toEqual([[0, 312]]);
  });

  test('recovery releases the claim of a sender that died holding it', () => {
    const { memory, geometry, member, tail, word } = setup();
    const dead = senderRing(memory, geometry);
    const claim = dead.tryClaim(60)!;
    claim.data.fill('?'); // written, never committed: its process is gone
    const live = senderRing(memory, geometry);
    live.trySend('later');
    expect(member.tryReceive()).toBeNull(); // position 0 is unpublished
    expect(member.recover(pidLocks(member.views, (pid) => pid !== dead.pid)).released).toBe(2);
    expect([0, 1].map(word)).toEqual([0, 1].map((q) => seqValue(q) | SEQUENCE_SKIP_BIT));
    expect(drain(member)).toEqual([[2, 'later']]);
    expect(tail()).toBe(3);
  });
});

describe('tryView', () => {
  test('held views are the ring\'s bytes; they never change while held, however hard senders push; release lets the slots be reused', () => {
    const { member, sender } = setup();
    sender.trySend('first message!');
    sender.trySend(Buffer.alloc(100, 'L')); // positions 1-3
    const held = member.tryView(2)!;
    expect(held.messages.map((m) => [m.sequence, m.data.length])).toEqual([[0, 14], [1, 100]]);
    const copies = held.messages.map((m) => Buffer.from(m.data));
    // The group's floor stays on the held messages: senders fill the free slots, then find no room.
    let pushed = 0;
    while (sender.trySend(`push ${pushed}`)) pushed++;
    expect(pushed).toBe(4);
    expect(held.messages.every((m, i) => m.data.equals(copies[i]!))).toBe(true);
    expect(() => member.tryView(1)).toThrow(/held batch is still open/);
    held.release();
    expect(sender.trySend('reuses slot 0')).toBe(true);
    expect(held.messages[0]!.data.equals(copies[0]!)).toBe(false); // the view was the slot itself
    expect(drain(member).map(([sequence]) => sequence)).toEqual([4, 5, 6, 7, 8]);
  });

  test('a view released with `using` at the end of its block; a lossy group gets checked copies', () => {
    const { memory, geometry, sender } = setup();
    const lossy = memberRing(memory, geometry, { group: 'metrics', lossy: true, from: 'latest' });
    sender.trySend('abc');
    {
      using held = lossy.tryView(5)!;
      expect(held.messages.map((m) => m.data.toString())).toEqual(['abc']);
      expect(held.messages[0]!.data.buffer).not.toBe(memory.buffer); // a copy
    }
    expect(lossy.tryView(1)).toBeNull();
  });
});
