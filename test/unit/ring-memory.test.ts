/** The ring algorithm over plain memory: FIFO, full and empty, sizes, the wrap, corruption. */
import { Worker } from 'node:worker_threads';
import { MessageTooLargeError, RingFormatError } from '../../src/errors.js';
import { GROUP_DISPATCH, SEQUENCE_BUSY_BIT, SLOT_LENGTH, SLOT_SEQUENCE, TAIL_OFFSET, groupOffset, seqValue } from '../../src/layout/ring-layout.js';
import type { Ring } from '../../src/ring/ring.js';
import { advanceEmptyRing, memberRing, memoryRing, ringMemory, senderRing, slotFor } from '../helpers/memory-ring.js';

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

  test.each([
    ['a Buffer', Buffer.alloc(17, 0x61)],
    ['a Uint8Array', new Uint8Array(17)],
    ['an ASCII string', 'x'.repeat(17)],
    ['a string of multi-byte characters', '€'.repeat(6)],
  ])('refuses %s one byte over the slot with MessageTooLargeError and leaves the ring untouched', (_what, message) => {
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
    expect(error).toMatchObject({ size: Buffer.byteLength(message as string | Buffer), limit: 16, exitCode: 5 });
    expect(memory.equals(before)).toBe(true);
    expect(text(ring)).toBe('kept');
  });

  test('strings go in as UTF-8 and come out byte for byte', () => {
    const ring = memoryRing(8, 32);
    const samples = ['héllo', '€uro', '日本語テキスト', '🙂🙃', 'ok\r', '\u0000nul'];
    for (const sample of samples) expect(ring.trySend(sample)).toBe(true);
    for (const sample of samples) expect(ring.tryReceive()?.data).toEqual(Buffer.from(sample, 'utf8'));
  });

  test('a multi-byte string of exactly the slot size fits, one byte more does not', () => {
    const ring = memoryRing(4, 16);
    const exact = '€€€€🙂'; // 4 * 3 + 4 = 16 bytes
    expect(Buffer.byteLength(exact)).toBe(16);
    expect(ring.trySend(exact)).toBe(true);
    expect(() => ring.trySend(`${exact}a`)).toThrow(MessageTooLargeError);
    expect(() => ring.trySend('é'.repeat(9))).toThrow(MessageTooLargeError);
    expect(text(ring)).toBe(exact);
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
    expect(memory.readInt32LE(slotFor(geometry, 2 ** 30 + 1) + SLOT_SEQUENCE)).toBe(2); // (q + 1) in 30 bits
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
    expect(() => ring.tryReceive()).toThrow('corrupt slot at position 0: length 99 exceeds the 16-byte slot; the message was skipped');
  });

  test.each([
    ['senders', 'trySend', seqValue(4), /^RingFormatError: corrupt ring: the slot for position 0 has sequence word 5, which no process of this ring writes$/],
    ['members', 'tryReceive', seqValue(4), /^RingFormatError: corrupt ring: the slot for position 0 holds a sequence word no process of this ring writes$/],
    ['senders, with the word of the unclaimed position at the tail', 'trySend', seqValue(0), /^RingFormatError: corrupt ring: the slot for position 0 has sequence word 1, which no process of this ring writes$/],
    ['senders, with a value outside the 30 bits', 'trySend', 0xffffffff, /^RingFormatError: corrupt ring: the slot for position 0 has sequence word 4294967295/],
    ['members, with a value outside the 30 bits', 'tryReceive', 0xffffffff, /^RingFormatError: corrupt ring/],
  ])('a sequence word a lap ahead of every claim throws for %s rather than spinning or reading as full', async (_who, operation, sequence, expected) => {
    // In a worker (on the built ring), so that a ring that spins fails the test instead of hanging it.
    expect(await inWorkerWithin(5000, operation as string, 0, sequence as number)).toMatch(expected as RegExp);
  });

  /*
   * A busy mark for a position before 0 cannot come from a sender (positions start at 0); on a
   * fresh slot it reads as "the last lap's message is still being written", so a sender finds the
   * ring full for good (trySend returns false, send sleeps forever), and no recovery can release a
   * claim that no one made. The opener's slot check refuses such a file (check-slots.test.ts);
   * a ring that is open when the word is written is not checked again, so the sender itself must
   * tell a fresh slot's impossible busy mark from a full ring.
   */
  test('a busy mark on a fresh slot, written under an open ring, is reported as corruption, not as a full ring', async () => {
    expect(await inWorkerWithin(5000, 'trySend', 0, (seqValue(-4) | SEQUENCE_BUSY_BIT) >>> 0)).toMatch(/^RingFormatError: corrupt ring/);
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
  memory.writeUInt32LE(sequence >>> 0, slotFor(geometry, position) + SLOT_SEQUENCE);
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
