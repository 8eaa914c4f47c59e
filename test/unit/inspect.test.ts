import { Worker } from 'node:worker_threads';
import { publishHeader, writeHeader } from '../../src/layout/header.js';
import {
  HEAD_OFFSET,
  LAST_ACTIVITY_OFFSET,
  REDELIVERED_OFFSET,
  RELEASED_SLOTS_OFFSET,
  ROLE_RECEIVER,
  ROLE_SENDER,
  SEQUENCE_RELEASED_BIT,
  SLOT_SEQUENCE,
  TAIL_OFFSET,
  ringGeometry,
  slotOffsetOf,
  type RingGeometry,
} from '../../src/layout/ring-layout.js';
import { describeRole, peekMessages, readRingState, roleName } from '../../src/ring/inspect.js';
import { Ring } from '../../src/ring/ring.js';

function memoryRing(slots: number, slotSize = 16): { ring: Ring; memory: Buffer; geometry: RingGeometry } {
  const geometry = ringGeometry(slots, slotSize) as RingGeometry;
  const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
  writeHeader(memory, geometry, { pid: 1, startTicks: 0, createdAt: 0 });
  publishHeader(memory);
  return { ring: new Ring(memory, geometry), memory, geometry };
}

/** Moves an empty ring's head and tail to `position`, with every slot free for its next lap. */
function emptyAt(memory: Buffer, geometry: RingGeometry, position: number): void {
  memory.writeUInt32LE(position, HEAD_OFFSET);
  memory.writeUInt32LE(position, TAIL_OFFSET);
  for (let i = 0; i < geometry.slotCount; i++) {
    const p = (position + i) % geometry.positionLimit;
    memory.writeUInt32LE(p, slotOffsetOf(geometry, p % geometry.slotCount) + SLOT_SEQUENCE);
  }
}

const texts = (messages: { data: Buffer }[]) => messages.map((message) => message.data.toString());

test('an empty ring has nothing waiting, no totals and no recorded activity', () => {
  const { memory, geometry } = memoryRing(4);
  expect(readRingState(memory, geometry)).toEqual({
    head: 0,
    tail: 0,
    waiting: 0,
    sent: 0,
    received: 0,
    releasedSlots: 0,
    redelivered: 0,
    lastActivity: 0,
  });
  expect(peekMessages(memory, geometry, 10)).toEqual([]);
});

test('peek copies the waiting messages oldest first, with the sequence numbers receive reports, and takes none', () => {
  const { ring, memory, geometry } = memoryRing(4);
  for (const text of ['a', 'bb', 'ccc']) ring.trySend(text);
  const peeked = peekMessages(memory, geometry, 10);
  expect(texts(peeked)).toEqual(['a', 'bb', 'ccc']);
  expect(readRingState(memory, geometry)).toMatchObject({ head: 0, tail: 3, waiting: 3, sent: 3, received: 0 });
  const received = ring.tryReceiveBatch(10);
  expect(received.map((message) => [message.sequence, message.data.toString(), message.pid, message.sentAt])).toEqual(
    peeked.map((message) => [message.sequence, message.data.toString(), message.pid, message.sentAt]),
  );
});

test('peek stops at max', () => {
  const { ring, memory, geometry } = memoryRing(4);
  for (const text of ['a', 'b', 'c', 'd']) ring.trySend(text);
  expect(texts(peekMessages(memory, geometry, 2))).toEqual(['a', 'b']);
  expect(readRingState(memory, geometry)).toMatchObject({ waiting: 4 });
});

test('a full ring reports every slot waiting', () => {
  const { ring, memory, geometry } = memoryRing(3);
  while (ring.trySend('x'));
  expect(readRingState(memory, geometry)).toMatchObject({ waiting: geometry.slotCount, sent: geometry.slotCount, received: 0 });
  expect(peekMessages(memory, geometry, 10)).toHaveLength(geometry.slotCount);
});

test('past the wrap of the slot index, positions and sequence numbers keep counting', () => {
  const { ring, memory, geometry } = memoryRing(4);
  const slots = geometry.slotCount;
  for (let i = 0; i < slots + 2; i++) {
    ring.trySend(`m${i}`);
    ring.tryReceive();
  }
  ring.trySend('late0');
  ring.trySend('late1');
  expect(readRingState(memory, geometry)).toMatchObject({ head: slots + 2, tail: slots + 4, waiting: 2, sent: slots + 4, received: slots + 2 });
  expect(peekMessages(memory, geometry, 10).map((message) => [message.sequence, message.data.toString()])).toEqual([
    [slots + 2, 'late0'],
    [slots + 3, 'late1'],
  ]);
});

test('across the wrap of the position limit, totals count the laps', () => {
  const { ring, memory, geometry } = memoryRing(4);
  const limit = geometry.positionLimit;
  emptyAt(memory, geometry, limit - 2);
  for (const text of ['a', 'b', 'c', 'd']) expect(ring.trySend(text)).toBe(true);
  expect(readRingState(memory, geometry)).toMatchObject({ head: limit - 2, tail: 2, waiting: 4, sent: limit + 2, received: limit - 2 });
  const peeked = peekMessages(memory, geometry, 10);
  expect(peeked.map((message) => message.sequence)).toEqual([limit - 2, limit - 1, limit, limit + 1]);
  expect(ring.tryReceiveBatch(10).map((message) => message.sequence)).toEqual(peeked.map((message) => message.sequence));
  expect(readRingState(memory, geometry)).toMatchObject({ head: 2, tail: 2, waiting: 0, sent: limit + 2, received: limit + 2 });
});

test('peek skips a message that recovery released, as receivers do', () => {
  const { ring, memory, geometry } = memoryRing(4);
  for (const text of ['a', 'b', 'c']) ring.trySend(text);
  const second = slotOffsetOf(geometry, 1) + SLOT_SEQUENCE;
  memory.writeUInt32LE((memory.readUInt32LE(second) | SEQUENCE_RELEASED_BIT) >>> 0, second);
  expect(texts(peekMessages(memory, geometry, 10))).toEqual(['a', 'c']);
  expect(texts(ring.tryReceiveBatch(10))).toEqual(['a', 'c']);
});

test('peek stops at a claimed slot whose message is still being written', () => {
  const { ring, memory, geometry } = memoryRing(4);
  ring.trySend('a');
  ring.trySend('b');
  // A sender that claimed position 2 but has not committed: the tail moved, the slot reads 2.
  memory.writeUInt32LE(3, TAIL_OFFSET);
  memory.writeUInt32LE(1, slotOffsetOf(geometry, 1) + SLOT_SEQUENCE); // and position 1 uncommitted too
  expect(texts(peekMessages(memory, geometry, 10))).toEqual(['a']);
  expect(readRingState(memory, geometry).waiting).toBe(3);
});

test('peek racing a sender and a receiver on another thread only ever returns consistent messages', async () => {
  const { memory, geometry } = memoryRing(8);
  const control = new Int32Array(new SharedArrayBuffer(8)); // [0]: stop flag, [1]: messages sent
  const ringModule = new URL('../../dist/ring/ring.js', import.meta.url).href;
  // The worker sends m<i> as message i and receives as it goes, until told to stop.
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     import(workerData.ringModule).then(({ Ring }) => {
       parentPort.postMessage('ready');
       const memory = Buffer.from(workerData.shared);
       const ring = new Ring(memory, workerData.geometry);
       const control = new Int32Array(workerData.control);
       let next = 0;
       while (Atomics.load(control, 0) === 0) {
         while (ring.trySend('m' + next)) next++;
         Atomics.store(control, 1, next);
         for (let i = 0; i < 3; i++) ring.tryReceive();
       }
     });`,
    { eval: true, workerData: { ringModule, shared: memory.buffer, geometry, control: control.buffer } },
  );
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let nonEmpty = 0;
  const inconsistent: string[] = [];
  try {
    // Until enough peeks saw messages while the worker sent many laps' worth (or 200k peeks).
    for (let i = 0; i < 200_000 && (nonEmpty < 1_000 || Atomics.load(control, 1) < 10_000); i++) {
      const peeked = peekMessages(memory, geometry, geometry.slotCount);
      if (peeked.length > 0) nonEmpty++;
      peeked.forEach((message, index) => {
        const text = message.data.toString();
        if (text !== `m${message.sequence}` || message.sequence !== peeked[0]!.sequence + index) {
          inconsistent.push(`#${message.sequence} at ${index}: ${text}`);
        }
      });
    }
  } finally {
    Atomics.store(control, 0, 1);
    await exited;
  }
  expect(inconsistent.slice(0, 5)).toEqual([]);
  expect(nonEmpty).toBeGreaterThan(0);
  expect(Atomics.load(control, 1)).toBeGreaterThan(geometry.slotCount);
});

test('the statistics words and the last activity are reported as written', () => {
  const { ring, memory, geometry } = memoryRing(4);
  memory.writeUInt32LE(3, RELEASED_SLOTS_OFFSET);
  memory.writeUInt32LE(5, REDELIVERED_OFFSET);
  ring.touch(1_700_000_000_000);
  expect(memory.readDoubleLE(LAST_ACTIVITY_OFFSET)).toBe(1_700_000_000_000);
  expect(readRingState(memory, geometry)).toMatchObject({ releasedSlots: 3, redelivered: 5, lastActivity: 1_700_000_000_000 });
});

test('role bits are named', () => {
  expect([0, ROLE_SENDER, ROLE_RECEIVER, ROLE_SENDER | ROLE_RECEIVER].map(roleName)).toEqual(['observer', 'sender', 'receiver', 'both']);
  expect(describeRole(ROLE_SENDER | ROLE_RECEIVER)).toBe('sender and receiver');
});
