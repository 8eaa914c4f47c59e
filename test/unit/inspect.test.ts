import { Worker } from 'node:worker_threads';
import {
  LAST_ACTIVITY_OFFSET,
  REDELIVERED_OFFSET,
  RELEASED_SLOTS_OFFSET,
  ROLE_RECEIVER,
  ROLE_SENDER,
  SEQUENCE_RELEASED_BIT,
  SLOT_LENGTH,
  sequenceOffsetOf,
  slotOffsetOf,
  type RingGeometry,
} from '../../src/layout/ring-layout.js';
import { describeRole, findCorruptSlot, peekMessages, readRingState, roleName } from '../../src/ring/inspect.js';
import { advanceEmptyRing, memberRing, ringMemory, senderRing, type TestRing } from '../helpers/memory-ring.js';
import { createGroup, removeGroup } from '../../src/ring/groups.js';
import { viewsOf } from '../../src/ring/views.js';

function memoryRing(slots: number, slotSize = 16): { ring: TestRing; memory: Buffer; geometry: RingGeometry } {
  const { memory, geometry } = ringMemory(slots, slotSize);
  return { ring: memberRing(memory, geometry), memory, geometry };
}

const texts = (messages: readonly { data: Buffer }[]) => messages.map((message) => message.data.toString());
const died = () => {
  throw new Error('died');
};

test('an empty ring has nothing waiting, no totals, no claims, no recorded activity, and its default group', () => {
  const { memory, geometry } = ringMemory(4, 16);
  expect(readRingState(memory, geometry)).toEqual({
    tail: 0,
    sent: 0,
    gate: 0,
    waiting: 0,
    releasedSlots: 0,
    redelivered: 0,
    lastActivity: 0,
    groups: [
      {
        index: 0,
        name: 'default',
        lossy: false,
        dispatch: 0,
        generation: 1,
        redelivered: 0,
        missed: 0,
        gaps: 0,
        createdAt: 0,
        delivered: 0,
        floor: 0,
        lag: 0,
        inFlight: 0,
        members: [],
      },
    ],
    openClaims: [],
  });
  expect(peekMessages(memory, geometry, 10)).toEqual([]);
});

test('peek copies the waiting messages oldest first, with the sequence numbers receive reports, and takes none', () => {
  const { ring, memory, geometry } = memoryRing(4);
  for (const text of ['a', 'bb', 'ccc']) ring.trySend(text);
  const peeked = peekMessages(memory, geometry, 10);
  expect(texts(peeked)).toEqual(['a', 'bb', 'ccc']);
  const state = readRingState(memory, geometry);
  expect(state).toMatchObject({ gate: 0, tail: 3, waiting: 3, sent: 3, openClaims: [] });
  expect(state.groups).toEqual([expect.objectContaining({ name: 'default', dispatch: 0, floor: 0, lag: 3, inFlight: 0, members: [ring.participant] })]);
  const received = ring.tryReceiveBatch(10);
  expect(received.map((message) => [message.sequence, message.data.toString(), message.pid, message.sentAt])).toEqual(
    peeked.map((message) => [message.sequence, message.data.toString(), message.pid, message.sentAt]),
  );
  expect(readRingState(memory, geometry)).toMatchObject({ gate: 3, tail: 3, waiting: 0 });
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
  expect(readRingState(memory, geometry)).toMatchObject({ waiting: geometry.slotCount, sent: geometry.slotCount, gate: 0 });
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
  expect(readRingState(memory, geometry)).toMatchObject({ gate: slots + 2, tail: slots + 4, waiting: 2, sent: slots + 4 });
  expect(peekMessages(memory, geometry, 10).map((message) => [message.sequence, message.data.toString()])).toEqual([
    [slots + 2, 'late0'],
    [slots + 3, 'late1'],
  ]);
});

test('across the 30-bit wrap of the sequence word and past 2^32, positions keep counting', () => {
  const { memory, geometry } = ringMemory(4, 16);
  const start = 2 ** 32 - 2; // also 2^30 - 2 modulo 2^30: the sequence word wraps at 2^32 - 1
  advanceEmptyRing(memory, geometry, start);
  const ring = memberRing(memory, geometry);
  for (const text of ['a', 'b', 'c', 'd']) expect(ring.trySend(text)).toBe(true);
  expect(readRingState(memory, geometry)).toMatchObject({ gate: start, tail: start + 4, waiting: 4, sent: 4 });
  const peeked = peekMessages(memory, geometry, 10);
  expect(peeked.map((message) => [message.sequence, message.data.toString()])).toEqual([
    [start, 'a'],
    [start + 1, 'b'],
    [start + 2, 'c'],
    [start + 3, 'd'],
  ]);
  expect(ring.tryReceiveBatch(10).map((message) => message.sequence)).toEqual(peeked.map((message) => message.sequence));
  expect(readRingState(memory, geometry)).toMatchObject({ gate: start + 4, tail: start + 4, waiting: 0, sent: 4 });
  expect(findCorruptSlot(memory, geometry)).toBeUndefined();
});

test('peek skips a message that recovery released, as members do', () => {
  const { ring, memory, geometry } = memoryRing(4);
  for (const text of ['a', 'b', 'c']) ring.trySend(text);
  const second = sequenceOffsetOf(geometry, 1);
  memory.writeInt32LE(memory.readInt32LE(second) | SEQUENCE_RELEASED_BIT, second);
  expect(texts(peekMessages(memory, geometry, 10))).toEqual(['a', 'c']);
  expect(texts(ring.tryReceiveBatch(10))).toEqual(['a', 'c']);
});

test('peek stops at a claim whose message is still being written; the open claims name their owner', () => {
  const { ring, memory, geometry } = memoryRing(4);
  ring.trySend('a');
  // One sender stops half-way through its payload (position 1), another right after its claim (position 2).
  const writing = senderRing(memory, geometry, { fault: (step) => step === 'send-payload' && died() });
  expect(() => writing.trySend(Buffer.from('half'))).toThrow('died');
  const claimed = senderRing(memory, geometry, { fault: (step) => step === 'send-claimed' && died() });
  expect(() => claimed.trySend('never')).toThrow('died');
  ring.trySend('d'); // published at 3, behind both
  expect(texts(peekMessages(memory, geometry, 10))).toEqual(['a']);
  const state = readRingState(memory, geometry);
  expect(state).toMatchObject({ tail: 4, waiting: 4 });
  expect(state.openClaims).toEqual([
    { position: 1, owners: [writing.participant], since: expect.any(Number) },
    { position: 2, owners: [claimed.participant], since: expect.any(Number) },
  ]);
  expect(state.openClaims[0]!.since).toBeGreaterThan(0);
  expect(texts(ring.tryReceiveBatch(10))).toEqual(['a']); // members stop there too
});

test('peek never shows a message whose slot a sender is rewriting', () => {
  const { memory, geometry } = ringMemory(4, 16);
  const views = viewsOf(memory, geometry);
  removeGroup(views, geometry, 'default');
  createGroup(views, geometry, 'watch', { lossy: true });
  const messages = ['AAAA0000', 'AAAA1111', 'AAAA2222', 'AAAA3333', 'BBBB4444'].map((m) => Buffer.from(m));
  let peeked: string[] | undefined;
  const sender = senderRing(memory, geometry, {
    // Half of position 4's payload is in slot 0, whose sequence word still says position 0.
    fault: (step) => {
      if (step === 'send-payload' && peeked === undefined && sender.lastSentSequence === 3) peeked = texts(peekMessages(memory, geometry, 10, 'watch'));
    },
  });
  for (const message of messages) expect(sender.trySend(message)).toBe(true);
  expect(peeked).toEqual(['AAAA1111', 'AAAA2222', 'AAAA3333']);
  expect(texts(peekMessages(memory, geometry, 10, 'watch'))).toEqual(['AAAA1111', 'AAAA2222', 'AAAA3333', 'BBBB4444']);
});

test('each group has its own cursor, floor, lag, in-flight run and members; the gate is the slowest lossless floor', () => {
  const { ring, memory, geometry } = memoryRing(8);
  const audit = memberRing(memory, geometry, { group: 'audit', from: 'earliest' });
  const metrics = memberRing(memory, geometry, { group: 'metrics', lossy: true, from: 'earliest' });
  for (const text of ['a', 'b', 'c', 'd', 'e']) ring.trySend(text);
  expect(texts(ring.tryReceiveBatch(4))).toEqual(['a', 'b', 'c', 'd']);
  const held = audit.hold(2)!; // audit's member holds positions 0 and 1 unfinished
  expect(texts(held.messages)).toEqual(['a', 'b']);
  const state = readRingState(memory, geometry);
  expect(state).toMatchObject({ tail: 5, gate: 0, waiting: 5 });
  expect(state.groups.map(({ name, lossy, dispatch, floor, lag, inFlight, members }) => ({ name, lossy, dispatch, floor, lag, inFlight, members }))).toEqual([
    { name: 'default', lossy: false, dispatch: 4, floor: 4, lag: 1, inFlight: 0, members: [ring.participant] },
    { name: 'audit', lossy: false, dispatch: 2, floor: 0, lag: 3, inFlight: 2, members: [audit.participant] },
    { name: 'metrics', lossy: true, dispatch: 0, floor: 0, lag: 5, inFlight: 0, members: [metrics.participant] },
  ]);
  // peek shows what each group would take next; a held run is not shown again.
  expect(texts(peekMessages(memory, geometry, 10))).toEqual(['e']);
  expect(texts(peekMessages(memory, geometry, 10, 'audit'))).toEqual(['c', 'd', 'e']);
  expect(texts(peekMessages(memory, geometry, 10, 'metrics'))).toEqual(['a', 'b', 'c', 'd', 'e']);
  held.ack();
  expect(readRingState(memory, geometry)).toMatchObject({ gate: 2, waiting: 3 });
});

test('findCorruptSlot names a slot no process could have written, and passes every state the protocol leaves', () => {
  const { ring, memory, geometry } = memoryRing(4);
  for (const text of ['a', 'b', 'c']) ring.trySend(text);
  ring.tryReceive();
  const writing = senderRing(memory, geometry, { fault: (step) => step === 'send-payload' && died() });
  expect(() => writing.trySend(Buffer.from('half'))).toThrow('died');
  expect(findCorruptSlot(memory, geometry)).toBeUndefined();
  const sequence = sequenceOffsetOf(geometry, 1);
  const good = memory.readInt32LE(sequence);
  memory.writeInt32LE(12345, sequence);
  expect(findCorruptSlot(memory, geometry)).toBe('slot 1 has sequence word 12345, which no process of this ring writes (tail 4)');
  memory.writeInt32LE(good, sequence);
  memory.writeInt32LE(17, slotOffsetOf(geometry, 2) + SLOT_LENGTH);
  expect(findCorruptSlot(memory, geometry)).toBe('the message at slot 2 has length 17; its 1 slot(s) hold 16 bytes of payload');
});

test('peek racing a sender and a member on another thread only ever returns consistent messages', async () => {
  const { memory, geometry } = ringMemory(8, 16);
  // The worker's ring object uses the participant entry and group membership made here.
  const member = memberRing(memory, geometry);
  const [group] = readRingState(memory, geometry).groups;
  const options = {
    identity: { pid: member.pid, participant: member.participant, generation: member.generation },
    group: { index: group!.index, generation: group!.generation, name: group!.name },
  };
  const control = new Int32Array(new SharedArrayBuffer(8)); // [0]: stop flag, [1]: messages sent
  const ringModule = new URL('../../dist/ring/ring.js', import.meta.url).href;
  // The worker sends m<i> as message i and receives as it goes, until told to stop.
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     import(workerData.ringModule).then(({ Ring }) => {
       parentPort.postMessage('ready');
       const memory = Buffer.from(workerData.shared);
       const ring = new Ring(memory, workerData.geometry, workerData.options);
       const control = new Int32Array(workerData.control);
       let next = 0;
       while (Atomics.load(control, 0) === 0) {
         while (ring.trySend('m' + next)) next++;
         Atomics.store(control, 1, next);
         for (let i = 0; i < 3; i++) ring.tryReceive();
       }
     });`,
    { eval: true, workerData: { ringModule, shared: memory.buffer, geometry, options, control: control.buffer } },
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
