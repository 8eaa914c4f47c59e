/**
 * The pure core of format v2 on plain shared memory: groups and their floors, the gate epoch, the
 * claim records that make every claim's owner findable, and recovery that touches only the dead.
 * Liveness is a set of pids the test declares dead.
 */
import { GroupError } from '../../src/errors.js';
import { publishHeader, writeHeader } from '../../src/layout/header.js';
import { RUN_PENDING_BIT, participantOffset, PARTICIPANT_RUN_COUNT, ringGeometry, type RingGeometry } from '../../src/layout/ring-layout.js';
import { computeGate, createGroup, findGroup, removeGroup, resetGroup } from '../../src/ring/groups.js';
import { readParticipant, registerParticipant, setParticipantGroup } from '../../src/ring/participants.js';
import { readRingState } from '../../src/ring/inspect.js';
import { recoverClaims } from '../../src/ring/recovery.js';
import { Ring, type Gap } from '../../src/ring/ring.js';
import { viewsOf, type RingViews } from '../../src/ring/views.js';
import type { FaultStep } from '../../src/ring/fault.js';
import { pidLocks, selfRecord } from '../helpers/memory-ring.js';

interface TestRing {
  memory: Buffer;
  geometry: RingGeometry;
  views: RingViews;
  dead: Set<number>;
  isAlive: (pid: number) => boolean;
}

function ring(slots: number, slotSize = 16): TestRing {
  const geometry = ringGeometry(slots, slotSize);
  if (typeof geometry === 'string') throw new Error(geometry);
  const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
  writeHeader(memory, geometry, { pid: 1, startTicks: 1, createdAt: 0 });
  publishHeader(memory);
  const dead = new Set<number>();
  return { memory, geometry, views: viewsOf(memory, geometry), dead, isAlive: (pid) => !dead.has(pid) };
}

let nextPid = 100;

/** A process on the ring: a participant entry, and a Ring that sends and (with a group) receives. */
function join(t: TestRing, group?: string, options: { lossy?: boolean; from?: 'earliest' | 'latest' | number; fault?: (step: FaultStep) => void } = {}) {
  const pid = nextPid++;
  const entry = registerParticipant(t.views, selfRecord(pid, group ? 2 : 1), pidLocks(t.views, (p) => t.isAlive(p)));
  let joined: { index: number; generation: number; name: string } | undefined;
  if (group) {
    const info = createGroup(t.views, t.geometry, group, { lossy: options.lossy, from: options.from });
    joined = { index: info.index, generation: info.generation, name: info.name };
    setParticipantGroup(t.views, entry.index, info.index, info.generation);
  }
  const r = new Ring(t.memory, t.geometry, { identity: { pid, participant: entry.index, generation: entry.generation }, group: joined, fault: options.fault });
  return { pid, entry: entry.index, ring: r, recover: () => r.recover(pidLocks(t.views, (p) => t.isAlive(p))) };
}

const text = (m: { data: Buffer } | null) => (m ? m.data.toString() : null);

test('every group sees every message; members of one group share them', () => {
  const t = ring(8);
  const a1 = join(t, 'a');
  const a2 = join(t, 'a');
  const b = join(t, 'b');
  const sender = join(t);
  expect(sender.ring.trySendBatch(['m0', 'm1', 'm2', 'm3'])).toBe(4);
  expect([text(a1.ring.tryReceive()), text(a2.ring.tryReceive()), text(a1.ring.tryReceive()), text(a2.ring.tryReceive())]).toEqual(['m0', 'm1', 'm2', 'm3']);
  expect(b.ring.tryReceiveBatch(10).map((m) => m.data.toString())).toEqual(['m0', 'm1', 'm2', 'm3']);
  expect(a1.ring.tryReceive()).toBeNull();
});

test('the slowest lossless group holds senders back; a lossy one never does and counts what it missed', () => {
  const t = ring(4);
  removeGroup(t.views, t.geometry, 'default');
  const fast = join(t, 'fast');
  const slow = join(t, 'slow', { lossy: true });
  const gaps: Gap[] = [];
  slow.ring.onGap = (gap) => gaps.push(gap);
  const sender = join(t);
  const sent: string[] = [];
  for (let i = 0; i < 10; i++) {
    expect(sender.ring.trySend(`m${i}`)).toBe(true);
    sent.push(`m${i}`);
    expect(text(fast.ring.tryReceive())).toBe(`m${i}`);
  }
  // fast is caught up, so the lossless gate allows a full ring more; slow (lossy) holds nothing back.
  expect(sender.ring.trySendBatch(['x0', 'x1', 'x2', 'x3', 'x4'])).toBe(4);
  const got = slow.ring.tryReceiveBatch(100).map((m) => m.data.toString());
  expect(got).toEqual(['x0', 'x1', 'x2', 'x3']);
  expect(gaps).toEqual([{ group: 'slow', from: 0, count: 10 }]);
  expect(findGroup(t.views, t.geometry, 'slow')).toMatchObject({ missed: 10, gaps: 1 });
});

test('a lossy member never takes a message whose slot a sender is rewriting: it counts a gap instead', () => {
  const t = ring(4);
  removeGroup(t.views, t.geometry, 'default');
  const watcher = join(t, 'watch', { lossy: true });
  const gaps: Gap[] = [];
  watcher.ring.onGap = (gap) => gaps.push(gap);
  const seen: (string | null)[] = [];
  const sender = join(t, undefined, {
    // Half of position 4's payload is in slot 0; position 0's sequence word is still published.
    fault: (step) => {
      if (step === 'send-payload' && seen.length === 0) seen.push(text(watcher.ring.tryReceive()));
    },
  });
  const messages = ['AAAA0000', 'AAAA1111', 'AAAA2222', 'AAAA3333', 'BBBB4444'].map((m) => Buffer.from(m));
  for (const message of messages.slice(0, 4)) expect(sender.ring.trySend(message)).toBe(true);
  seen.length = 0;
  expect(sender.ring.trySend(messages[4]!)).toBe(true);
  // Inside the write, position 0 reads half new and half old: never handed on; position 1 is whole.
  expect(seen).toEqual(['AAAA1111']);
  expect(gaps).toEqual([{ group: 'watch', from: 0, count: 1 }]);
  expect(watcher.ring.tryReceiveBatch(10).map((m) => m.data.toString())).toEqual(['AAAA2222', 'AAAA3333', 'BBBB4444']);
  expect(findGroup(t.views, t.geometry, 'watch')).toMatchObject({ missed: 1, gaps: 1 });
});

test('a memberless lossless group keeps its messages until it is removed', () => {
  const t = ring(4);
  const sender = join(t);
  expect(sender.ring.trySendBatch(['a', 'b', 'c', 'd', 'e'])).toBe(4);
  expect(sender.ring.trySend('e')).toBe(false);
  removeGroup(t.views, t.geometry, 'default');
  expect(sender.ring.trySend('e')).toBe(true);
});

test('reset to earliest replays, and the gate epoch stops a sender that decided on the old gate', () => {
  const t = ring(4);
  const member = join(t, 'default');
  const sender = join(t);
  expect(sender.ring.trySendBatch(['a', 'b', 'c', 'd'])).toBe(4);
  expect(member.ring.tryReceiveBatch(4).map((m) => m.data.toString())).toEqual(['a', 'b', 'c', 'd']);
  // The sender's cached gate now allows 4 more; rewinding the group must take that back.
  expect(sender.ring.trySend('e')).toBe(true); // caches the gate (4): room for 3 more
  expect(resetGroup(t.views, t.geometry, 'default', 'earliest')).toBe(1);
  expect(sender.ring.trySend('f')).toBe(false); // would overwrite position 1, which the group replays
  expect(member.ring.tryReceiveBatch(10).map((m) => m.data.toString())).toEqual(['b', 'c', 'd', 'e']);
  expect(sender.ring.trySend('f')).toBe(true);
  expect(() => resetGroup(t.views, t.geometry, 'default', 0)).toThrow(/sequence 0 was overwritten; the oldest still in the ring is 2/);
});

test('a sender stopped inside its claim is never released; dead, its claim becomes a skip record', () => {
  const t = ring(4);
  const member = join(t, 'default');
  let stopHere = true;
  const stuck = join(t, undefined, {
    fault: (step) => {
      if (step === 'send-claimed' && stopHere) {
        stopHere = false;
        throw new Error('stopped here');
      }
    },
  });
  const other = join(t);
  expect(() => stuck.ring.trySend('lost')).toThrow('stopped here'); // position 0 claimed, never written
  expect(other.ring.trySendBatch(['b', 'c', 'd'])).toBe(3);
  for (let i = 0; i < 3; i++) expect(member.recover().released).toBe(0); // alive: waited for
  expect(member.ring.tryReceive()).toBeNull(); // position 0 blocks the group
  t.dead.add(stuck.pid);
  expect(member.recover().released).toBe(1);
  expect(member.ring.tryReceiveBatch(10).map((m) => m.data.toString())).toEqual(['b', 'c', 'd']);
  expect(readParticipant(t.views, stuck.entry)).toBeUndefined(); // entry freed once resolved
});

test('an unpublished position with no findable owner is never released', () => {
  const t = ring(4);
  const member = join(t, 'default');
  const sender = join(t);
  expect(() =>
    new Ring(t.memory, t.geometry, { identity: { pid: 999, participant: -1 }, fault: (step) => { if (step === 'send-claimed') throw new Error('x'); } }).trySend('?'),
  ).toThrow('x');
  expect(sender.ring.trySend('after')).toBe(true);
  const report = member.recover();
  expect(report).toMatchObject({ released: 0 });
  expect(member.ring.tryReceive()).toBeNull();
  // An observer names it: an open claim whose owner cannot be named.
  expect(readRingState(t.memory, t.geometry).openClaims).toEqual([{ position: 0, owners: 'unknown', since: 0 }]);
});

test('a member killed between recording its run and claiming it causes no duplicate; killed after, its run goes to another member', () => {
  for (const step of ['receive-intent', 'receive-claimed'] as const) {
    const t = ring(8);
    const sender = join(t);
    expect(sender.ring.trySendBatch(['a', 'b', 'c'])).toBe(3);
    const doomed = join(t, 'default', { fault: (s) => { if (s === step) throw new Error('died'); } });
    expect(() => doomed.ring.tryReceiveBatch(3)).toThrow('died');
    const entry = readParticipant(t.views, doomed.entry)!;
    expect(entry.run).toMatchObject({ start: 0, count: 3, pending: true });
    const heir = join(t, 'default');
    t.dead.add(doomed.pid);
    const report = heir.recover();
    const got = heir.ring.tryReceiveBatch(10);
    expect(got.map((m) => m.data.toString())).toEqual(['a', 'b', 'c']);
    if (step === 'receive-intent') {
      expect(report.adopted).toBe(0);
      expect(got.every((m) => m.deliveries === 0)).toBe(true);
    } else {
      expect(report.adopted).toBe(3);
      expect(got.every((m) => m.deliveries === 1)).toBe(true);
      expect(findGroup(t.views, t.geometry, 'default')!.redelivered).toBe(3);
    }
    expect(heir.ring.tryReceive()).toBeNull();
  }
});

test('whoever moves a dispatch word past a pending run confirms it first', () => {
  const t = ring(8);
  const sender = join(t);
  expect(sender.ring.trySendBatch(['a', 'b', 'c', 'd'])).toBe(4);
  const first = join(t, 'default', { fault: (s) => { if (s === 'receive-claimed') throw new Error('stopped'); } });
  expect(() => first.ring.tryReceiveBatch(2)).toThrow('stopped');
  const countWord = (participantOffset(first.entry) + PARTICIPANT_RUN_COUNT) >> 2;
  expect(Atomics.load(t.views.words, countWord) & RUN_PENDING_BIT).not.toBe(0);
  const second = join(t, 'default');
  expect(second.ring.tryReceiveBatch(10).map((m) => m.data.toString())).toEqual(['c', 'd']);
  expect(Atomics.load(t.views.words, countWord)).toBe(2); // confirmed by the second member's claim
  expect(computeGate(t.views, t.geometry)).toBe(0); // the first member's run still holds the floor
});

test('group names and the group table: one-line errors', () => {
  const t = ring(4);
  expect(() => createGroup(t.views, t.geometry, '')).toThrow(GroupError);
  expect(() => createGroup(t.views, t.geometry, 'x'.repeat(49))).toThrow(/longer than 48 bytes/);
  expect(() => createGroup(t.views, t.geometry, 'a b')).toThrow(/may hold only letters/);
  expect(() => removeGroup(t.views, t.geometry, 'nope')).toThrow(/no group named nope \(groups: default\)/);
  for (let i = 1; i < t.geometry.groupCapacity; i++) createGroup(t.views, t.geometry, `g${i}`);
  expect(() => createGroup(t.views, t.geometry, 'one-more')).toThrow(/all 8 group entries are in use/);
  expect(createGroup(t.views, t.geometry, 'g1').name).toBe('g1'); // an existing name is no error
});

test('recovery does not look at its caller\'s own claims, and frees dead entries that hold nothing', () => {
  const t = ring(4);
  const member = join(t, 'default');
  const gone = join(t);
  t.dead.add(gone.pid);
  expect(member.recover().freed).toBe(1);
  expect(readParticipant(t.views, gone.entry)).toBeUndefined();
  expect(recoverClaims(t.views, t.geometry, { locks: pidLocks(t.views, () => true), self: member.entry })).toMatchObject({ released: 0, freed: 0 });
});
