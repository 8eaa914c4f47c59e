/** The ring algorithm over plain memory: FIFO, full and empty, sizes, the wrap, corruption. */
import { Worker } from 'node:worker_threads';
import { MessageTooLargeError, RingFormatError } from '../../src/errors.js';
import { GROUP_DISPATCH, SLOT_LENGTH, TAIL_OFFSET, groupOffset, seqValue } from '../../src/layout/ring-layout.js';
import type { Ring } from '../../src/ring/ring.js';
import { advanceEmptyRing, memberRing, memoryRing, ringMemory, senderRing, sequenceFor, slotFor } from '../helpers/memory-ring.js';

const text = (ring: Ring) => ring.tryReceive()?.data.toString('utf8') ?? null;

describe('ring semantics', () => {
  test('delivers messages first in, first out', () => {
    const ring = memoryRing(8, 16);
    for (const word of ['one', 'two', 'three']) expect(ring.trySend(word)).toBe(true);
    expect([text(ring), text(ring), text(ring)]).toEqual(['one', 'two', 'three']);
  });

  test('a full ring refuses by return value and keeps its messages', () => {
    const ring = memoryRing(3, 8);
    expect([ring.trySend('a'), ring.trySend('b'), ring.trySend('c'), ring.trySend('d')]).toEqual([true, true, true, false]);
    expect(ring.occupancy).toBe(3);
    expect(ring.hasRoom).toBe(false);
    expect(text(ring)).toBe('a');
    expect(ring.hasRoom).toBe(true);
    expect(ring.trySend('d')).toBe(true);
    expect([text(ring), text(ring), text(ring)]).toEqual(['b', 'c', 'd']);
  });

  test('an empty ring returns null, before and after traffic', () => {
    const ring = memoryRing(4, 8);
    expect(ring.tryReceive()).toBeNull();
    expect(ring.hasMessage).toBe(false);
    ring.trySend('x');
    expect(ring.hasMessage).toBe(true);
    expect(text(ring)).toBe('x');
    expect(ring.tryReceive()).toBeNull();
    expect(ring.occupancy).toBe(0);
  });

  test('a message of exactly the slot size and an empty message pass unchanged', () => {
    const ring = memoryRing(4, 16);
    const full = Buffer.from([...Array(16).keys()].map((i) => 0xf0 + i));
    expect(ring.trySend(full)).toBe(true);
    expect(ring.trySend(Buffer.alloc(0))).toBe(true);
    expect(ring.trySend('')).toBe(true);
    expect(ring.tryReceive()?.data).toEqual(full);
    expect(ring.tryReceive()?.data).toEqual(Buffer.alloc(0));
    expect(ring.tryReceive()?.data).toEqual(Buffer.alloc(0));
  });

  test('a slot reused on the next lap carries only the new message', () => {
    const ring = memoryRing(2, 16);
    ring.trySend('a long message!');
    expect(text(ring)).toBe('a long message!');
    ring.trySend('other');
    ring.trySend('x');
    expect([text(ring), text(ring)]).toEqual(['other', 'x']);
  });

  // A ring of 4 slots of 16 bytes: stride 48, so its largest message fills all 4 slots but the 40 bytes kept for an extension: 4 * 48 - 32 - 40 = 120 bytes (docs/format.md §2).
  test.each([
    ['a Buffer', Buffer.alloc(121, 0x61)],
    ['a Uint8Array', new Uint8Array(121)],
    ['an ASCII string', 'x'.repeat(121)],
    ['a string of multi-byte characters', '€'.repeat(39) + 'éé'],
  ])('refuses %s one byte over the ring\'s largest message with MessageTooLargeError and leaves the ring untouched', (_what, message) => {
    const { memory, geometry } = ringMemory(4, 16);
    const ring = memberRing(memory, geometry);
    ring.trySend('kept');
    const before = Buffer.from(memory);
    let error: unknown;
    try {
      ring.trySend(message);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error).toMatchObject({ size: 121, limit: 120, exitCode: 5 });
    expect(memory.equals(before)).toBe(true);
    expect(text(ring)).toBe('kept');
  });

  test('strings go in as UTF-8 and come out byte for byte', () => {
    const ring = memoryRing(8, 32);
    const samples = ['héllo', '€uro', '日本語テキスト', '🙂🙃', 'ok\r', '\u0000nul'];
    for (const sample of samples) expect(ring.trySend(sample)).toBe(true);
    for (const sample of samples) expect(ring.tryReceive()?.data).toEqual(Buffer.from(sample, 'utf8'));
  });

  test('a multi-byte string of exactly the largest message fits, one byte more does not', () => {
    const ring = memoryRing(4, 16);
    const exact = '€'.repeat(38) + 'é🙂'; // 38 * 3 + 2 + 4 = 120 bytes
    expect(Buffer.byteLength(exact)).toBe(120);
    expect(ring.trySend(exact)).toBe(true);
    expect(text(ring)).toBe(exact);
    expect(() => ring.trySend(`${exact}a`)).toThrow(MessageTooLargeError);
    expect(() => ring.trySend('é'.repeat(61))).toThrow(MessageTooLargeError);
  });

  test('a message of one slot and a byte takes two slots; sequence numbers skip by spans', () => {
    const ring = memoryRing(8, 16); // stride 48: 16 bytes fit one slot, 17 to 64 two
    expect(ring.trySendBatch([Buffer.alloc(16, 1), Buffer.alloc(17, 2), Buffer.alloc(64, 3), 'x'])).toBe(4);
    const received = ring.tryReceiveBatch(10);
    expect(received.map((message) => [message.sequence, message.data.length, message.data[0]])).toEqual([
      [0, 16, 1],
      [1, 17, 2],
      [3, 64, 3],
      [5, 1, 0x78],
    ]);
  });

  test('a message that would cross the end of the ring goes after padding, whole and contiguous', () => {
    const ring = memoryRing(4, 16); // 4 slots of 48 bytes
    expect(ring.trySend('a')).toBe(true); // position 0
    expect(ring.trySend('b')).toBe(true); // position 1
    expect([text(ring), text(ring)]).toEqual(['a', 'b']);
    const big = Buffer.alloc(100, 7); // 3 slots: does not fit in slots 2-3, so positions 2-3 pad and it takes 4-6
    expect(ring.trySend(big)).toBe(false); // the padding is claimed; the message waits until the group passes it
    expect(ring.tryReceive()).toBeNull(); // the group passes over the padding: no message
    expect(ring.trySend(big)).toBe(true);
    const message = ring.tryReceive();
    expect(message?.sequence).toBe(4);
    expect(message?.data.equals(big)).toBe(true);
    expect(ring.tryReceive()).toBeNull();
    expect(ring.totals.sent).toBe(7);
  });

  test('a message that fills the whole ring waits for padding and an empty ring', () => {
    const ring = memoryRing(4, 16);
    expect(ring.trySend('a')).toBe(true);
    const whole = Buffer.alloc(120, 9); // the largest message: 32 + 120 bytes take all 4 slots of 48
    expect(ring.trySend(whole)).toBe(false); // pads 1-3, then no room while 'a' is unread
    expect(text(ring)).toBe('a');
    expect(ring.trySend(whole)).toBe(false); // the group has not passed the padding yet
    expect(ring.tryReceive()).toBeNull(); // it does (woken by the padding's publish, a waiting member would)
    expect(ring.trySend(whole)).toBe(true);
    expect(ring.tryReceive()?.data.equals(whole)).toBe(true);
  });

  test('trySendBatch sends what fits from a start index; tryReceiveBatch takes up to its maximum', () => {
    const ring = memoryRing(4, 8);
    const messages = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
    expect(ring.trySendBatch(messages, 1)).toBe(4);
    expect(ring.trySendBatch(messages, 5)).toBe(0);
    expect(ring.tryReceiveBatch(3).map((m) => m.data.toString())).toEqual(['m1', 'm2', 'm3']);
    expect(ring.trySendBatch(messages, 5)).toBe(1);
    expect(ring.tryReceiveBatch(10).map((m) => m.data.toString())).toEqual(['m4', 'm5']);
    expect(ring.tryReceiveBatch(10)).toEqual([]);
  });

  test('sequence numbers count messages from 0; lastSentSequence names the last send', () => {
    const ring = memoryRing(4, 8);
    const sent: number[] = [];
    const received: number[] = [];
    for (let i = 0; i < 10; i++) {
      ring.trySend(`m${i}`);
      sent.push(ring.lastSentSequence);
      received.push(ring.tryReceive()!.sequence);
    }
    expect(sent).toEqual([...Array(10).keys()]);
    expect(received).toEqual(sent);
    expect(ring.totals).toEqual({ sent: 10, received: 10 });
  });

  test('messages carry the sender pid and send time; unstamped ones carry 0', () => {
    const stamped = memoryRing(2, 8, { pid: 31337 });
    const before = Date.now();
    stamped.trySend('a');
    const message = stamped.tryReceive()!;
    expect(message.pid).toBe(31337);
    expect(message.sentAt).toBeGreaterThanOrEqual(before);
    expect(message.sentAt).toBeLessThanOrEqual(Date.now());
    const plain = memoryRing(2, 8, { stamp: false });
    plain.trySend('b');
    expect(plain.tryReceive()).toMatchObject({ pid: plain.pid, sentAt: 0 });
  });

  test('two ring objects on one memory share it as two processes would', () => {
    const { memory, geometry } = ringMemory(4, 8);
    const sender = senderRing(memory, geometry, { pid: 1 });
    const receiver = memberRing(memory, geometry, { pid: 2 });
    sender.trySend('hi');
    expect(receiver.tryReceive()).toMatchObject({ data: Buffer.from('hi'), pid: 1, sequence: 0, deliveries: 0 });
    expect([sender.participant, receiver.participant]).toEqual([0, 1]);
  });

  test('a sender-only ring object cannot receive; it counts what the slowest lossless group has not finished', () => {
    const { memory, geometry } = ringMemory(4, 8);
    const sender = senderRing(memory, geometry);
    const receiver = memberRing(memory, geometry);
    expect(sender.trySendBatch(['a', 'b', 'c'])).toBe(3);
    expect(() => sender.tryReceive()).toThrow(/opened to send only/);
    expect(receiver.tryReceive()?.data.toString()).toBe('a');
    expect([sender.occupancy, receiver.occupancy]).toEqual([2, 2]);
    expect([sender.totals, receiver.totals]).toEqual([
      { sent: 3, received: 1 },
      { sent: 3, received: 1 },
    ]);
  });

  test('wakes the other side only when it announced a sleeper', () => {
    const ring = memoryRing(2, 8);
    const woken: string[] = [];
    ring.wake = (target) => woken.push(target);
    ring.trySend('a');
    ring.tryReceive();
    expect(woken).toEqual([]);
    ring.announceSleep('receivers');
    ring.trySend('b');
    ring.trySend('c');
    expect(woken).toEqual(['receivers']);
    ring.announceSleep('senders');
    ring.tryReceive();
    ring.tryReceive();
    expect(woken).toEqual(['receivers', 'senders']);
  });
});

/** Where the default group's cursor is. */
const dispatchOf = (memory: Buffer) => memory.readBigUInt64LE(groupOffset(0) + GROUP_DISPATCH) & ((1n << 56n) - 1n);

describe('positions past the 30-bit wrap of the sequence word and past 2^32', () => {
  test.each([
    [2, 2 ** 30],
    [3, 2 ** 30],
    [7, 2 ** 30],
    [3, 2 ** 32],
  ])('%i-slot ring near %i: FIFO and sequence numbers run on across the wrap', (slots, around) => {
    const { memory, geometry } = ringMemory(slots, 8);
    const start = around - 2 * slots - 1;
    advanceEmptyRing(memory, geometry, start);
    const ring = memberRing(memory, geometry);
    const sentSequences: number[] = [];
    const received: Array<{ text: string; sequence: number }> = [];
    let next = 0;
    // Keep the ring full while crossing the wrap, then drain.
    for (let round = 0; round < 5 * slots; round++) {
      while (ring.trySend(`m${next}`)) {
        sentSequences.push(ring.lastSentSequence);
        next++;
      }
      const message = ring.tryReceive()!;
      received.push({ text: message.data.toString(), sequence: message.sequence });
    }
    for (let message = ring.tryReceive(); message; message = ring.tryReceive()) {
      received.push({ text: message.data.toString(), sequence: message.sequence });
    }
    expect(next).toBeGreaterThan(3 * slots);
    expect(start + next).toBeGreaterThan(around);
    expect(received.map((m) => m.text)).toEqual([...Array(next).keys()].map((i) => `m${i}`));
    const expected = [...Array(next).keys()].map((i) => start + i);
    expect(sentSequences).toEqual(expected);
    expect(received.map((m) => m.sequence)).toEqual(expected);
    expect(memory.readBigUInt64LE(TAIL_OFFSET)).toBe(BigInt(start + next));
    expect(dispatchOf(memory)).toBe(BigInt(start + next));
    expect(ring.totals).toEqual({ sent: start + next, received: start + next });
  });

  test('occupancy and full/empty hold when the sequence word has wrapped for the tail and not for the cursor', () => {
    const { memory, geometry } = ringMemory(4, 8);
    advanceEmptyRing(memory, geometry, 2 ** 30 - 2);
    const ring = memberRing(memory, geometry);
    expect(ring.trySendBatch(['a', 'b', 'c', 'd', 'e'])).toBe(4);
    expect(memory.readBigUInt64LE(TAIL_OFFSET)).toBe(BigInt(2 ** 30 + 2));
    expect(memory.readInt32LE(sequenceFor(geometry, 2 ** 30 + 1))).toBe(2); // (q + 1) in 30 bits
    expect(ring.occupancy).toBe(4);
    expect(ring.hasRoom).toBe(false);
    expect(ring.tryReceiveBatch(10).map((m) => [m.data.toString(), m.sequence])).toEqual([
      ['a', 2 ** 30 - 2],
      ['b', 2 ** 30 - 1],
      ['c', 2 ** 30],
      ['d', 2 ** 30 + 1],
    ]);
    expect(ring.occupancy).toBe(0);
    expect(ring.tryReceive()).toBeNull();
  });
});

describe('corruption', () => {
  test.each([
    ['past the slot size', 17],
    ['negative', -1],
  ])('a length word %s throws RingFormatError, skips that message, and the ring keeps flowing', (_what, length) => {
    const { memory, geometry } = ringMemory(4, 16);
    const ring = memberRing(memory, geometry);
    ring.trySendBatch(['bad', 'next']);
    memory.writeInt32LE(length, slotFor(geometry, 0) + SLOT_LENGTH);
    expect(() => ring.tryReceive()).toThrow(RingFormatError);
    expect(text(ring)).toBe('next');
    expect(ring.trySend('after')).toBe(true);
    expect(text(ring)).toBe('after');
    expect(ring.tryReceive()).toBeNull();
  });

  test('the corrupt length error names the position, the length and the limit', () => {
    const { memory, geometry } = ringMemory(4, 16);
    const ring = memberRing(memory, geometry);
    ring.trySend('bad');
    memory.writeInt32LE(99, slotFor(geometry, 0) + SLOT_LENGTH);
    expect(() => ring.tryReceive()).toThrow('corrupt message at position 0: its length 99 does not fit its 1 slot(s); it was skipped');
  });

  test.each([
    ['senders', 'trySend', seqValue(4), /^RingFormatError: corrupt ring: the sequence word of position 0 reads 5, which no process of this ring writes$/],
    ['members', 'tryReceive', seqValue(4), /^RingFormatError: corrupt ring: the slot for position 0 holds a sequence word no process of this ring writes$/],
    ['senders, with the word of the unclaimed position at the tail', 'trySend', seqValue(0), /^RingFormatError: corrupt ring: the sequence word of position 0 reads 1, which no process of this ring writes$/],
    ['senders, with a value outside the 30 bits', 'trySend', 0xffffffff, /^RingFormatError: corrupt ring: the sequence word of position 0 reads 4294967295/],
    ['members, with a value outside the 30 bits', 'tryReceive', 0xffffffff, /^RingFormatError: corrupt ring/],
  ])('a sequence word a lap ahead of every claim throws for %s rather than spinning or reading as full', async (_who, operation, sequence, expected) => {
    // In a worker (on the built ring), so that a ring that spins fails the test instead of hanging it.
    expect(await inWorkerWithin(5000, operation as string, 0, sequence as number)).toMatch(expected as RegExp);
  });

  /*
   * Format v2 allowed an optional busy mark (bit 31); on a fresh slot it read as "the last lap's
   * message is still being written", so a sender found the ring full for good. Format v3 has no
   * busy mark: bit 31 is never written, and a word with it is corruption, reported at once.
   */
  test('bit 31 on a fresh slot, written under an open ring, is reported as corruption, not as a full ring', async () => {
    expect(await inWorkerWithin(5000, 'trySend', 0, (seqValue(-4) | -0x80000000) >>> 0)).toMatch(/^RingFormatError: corrupt ring/);
  });

  test('a fresh slot that reads as claimed two laps ago (impossible before position 0) is corruption, not a full ring', async () => {
    expect(await inWorkerWithin(5000, 'trySend', 0, seqValue(-8))).toMatch(/^RingFormatError: corrupt ring/);
  });
});

/**
 * Writes `sequence` into the slot for `position` of a fresh 4-slot ring, runs `operation` in a
 * worker thread on the built ring (dist/), as a member of the default group, and returns what
 * it threw or returned, or 'spun' when it did not finish within `ms`.
 */
async function inWorkerWithin(ms: number, operation: string, position: number, sequence: number): Promise<string> {
  const { memory, geometry } = ringMemory(4, 16);
  const member = memberRing(memory, geometry);
  const options = {
    identity: { pid: member.pid, participant: member.participant, generation: member.generation },
    group: { index: 0, generation: 1, name: 'default' },
  };
  memory.writeUInt32LE(sequence >>> 0, sequenceFor(geometry, position));
  const ringModule = new URL('../../dist/ring/ring.js', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     import(workerData.ringModule).then(({ Ring }) => {
       const ring = new Ring(Buffer.from(workerData.shared), workerData.geometry, workerData.options);
       try { parentPort.postMessage('returned ' + String(ring[workerData.operation]('x'))); }
       catch (error) { parentPort.postMessage(error.name + ': ' + error.message); }
     });`,
    { eval: true, workerData: { ringModule, shared: memory.buffer, geometry, options, operation } },
  );
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve('spun'), ms);
      worker.once('message', (message: string) => {
        clearTimeout(timer);
        resolve(message);
      });
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}
