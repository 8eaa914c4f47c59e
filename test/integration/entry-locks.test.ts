/**
 * The liveness test of docs/format.md §5.2 on real files and processes: an entry is alive while
 * someone holds the open-file-description lock on its first byte. A holder in another process
 * is alive, stopped or not; killed, the kernel drops its lock and its claims are recovered; the
 * lock test works on a read-only descriptor; two ring handles in one process see each other.
 */
import { participantOffset } from '../../src/layout/ring-layout.js';
import { listParticipants, type EntryLocks } from '../../src/ring/participants.js';
import { recoverClaims } from '../../src/ring/recovery.js';
import { viewsOf } from '../../src/ring/views.js';
import { RingObserver } from '../../src/ring-file/observe.js';
import { RingFile } from '../../src/ring-file/ring-file.js';
import { O_NOFOLLOW, O_RDONLY, closeFile, openFile } from '../../src/sys/libc.js';
import { testByte, tryLockByte } from '../../src/sys/ofd-lock.js';
import { LiveCli, runCli } from '../helpers/cli.js';
import { waitStopped } from '../helpers/stopped.js';
import { tempDir } from '../helpers/temp.js';

const temp = tempDir('mmapipc-locks-');
afterAll(() => temp.remove());

async function statJson(file: string): Promise<Record<string, any>> {
  const result = await runCli(['stat', '--file', file, '--json']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout);
}

/** The entry index of `pid`, read from the file as an observer. */
function entryOf(file: string, pid: number): number {
  const observer = RingObserver.open(file);
  try {
    const entry = listParticipants(viewsOf(observer.memory, observer.header)).find((p) => p.pid === pid);
    if (!entry) throw new Error(`no entry for pid ${pid}`);
    return entry.index;
  } finally {
    observer.close();
  }
}

/** Lock states of `index`'s byte, seen through a read-only descriptor of our own. */
function readOnlyLook(file: string, index: number): { test: string; tryLock: string } {
  const fd = openFile(file, O_RDONLY | O_NOFOLLOW);
  try {
    return { test: testByte(fd, participantOffset(index)), tryLock: tryLockByte(fd, participantOffset(index)).kind };
  } finally {
    closeFile(fd);
  }
}

test('a holder in another process is alive, running or stopped; killed, its lock is gone and its run goes to another member', async () => {
  const file = temp.file('holder.ring');
  expect((await runCli(['send', '--file', file, '--slots', '8', 'm0', 'm1', 'm2'])).code).toBe(0);
  // A member that stops itself after writing its run out: it holds a claim.
  const holder = new LiveCli(['receive', '--file', file, '--count', '3'], { env: { MMAPIPC_FAULT: 'receive-handled' } });
  const pid = holder.child.pid!;
  await waitStopped(pid, 'member at receive-handled');
  const index = entryOf(file, pid);
  // A read-only descriptor can test the lock (F_OFD_GETLK) but not take it (EBADF: unknown).
  expect(readOnlyLook(file, index)).toEqual({ test: 'locked', tryLock: 'unknown' });
  const stopped = await statJson(file);
  expect(stopped.participants).toEqual([expect.objectContaining({ pid, pidNamespace: 'same', alive: true, state: 'stopped' })]);
  expect(stopped.claims).toEqual([expect.objectContaining({ kind: 'receive', pid, state: 'stopped', count: 3 })]);

  holder.child.kill('SIGKILL');
  expect(await holder.exited).toEqual({ code: null, signal: 'SIGKILL' });
  expect(readOnlyLook(file, index).test).toBe('unlocked');
  const dead = await statJson(file);
  expect(dead.participants).toEqual([expect.objectContaining({ pid, alive: false, state: 'dead' })]);
  // Recovered as before: the next member of the group receives the run again, marked.
  const next = await runCli(['receive', '--file', file, '--count', '3', '--json', '--timeout', '10s']);
  expect(next.code).toBe(0);
  expect(next.stdout.split('\n').filter(Boolean).map((line) => [JSON.parse(line).message, JSON.parse(line).deliveries])).toEqual([
    ['m0', 1],
    ['m1', 1],
    ['m2', 1],
  ]);
  expect(await statJson(file)).toMatchObject({ participants: [], redelivered: 3 });
}, 60_000);

test('a running holder is alive; the lock is dropped by a clean close, which frees the entry', async () => {
  const file = temp.file('running.ring');
  expect((await runCli(['create', '--file', file, '--slots', '8'])).code).toBe(0);
  const receiver = new LiveCli(['receive', '--file', file, '--count', '1']);
  let stat = await statJson(file);
  while (stat.participants.length === 0) stat = await statJson(file);
  expect(stat.participants).toEqual([expect.objectContaining({ pid: receiver.child.pid, alive: true, state: 'running' })]);
  const index = entryOf(file, receiver.child.pid!);
  expect(readOnlyLook(file, index).test).toBe('locked');
  expect((await runCli(['send', '--file', file, 'one'])).code).toBe(0);
  expect(await receiver.exited).toEqual({ code: 0, signal: null });
  expect(readOnlyLook(file, index).test).toBe('unlocked');
  expect((await statJson(file)).participants).toEqual([]);
}, 60_000);

test('two ring handles in one process hold separate locks and see each other alive', () => {
  const file = temp.file('two-handles.ring');
  const a = RingFile.open(file, { role: 'sender', slots: 8 });
  const b = RingFile.open(file, { role: 'receiver' });
  try {
    a.recover();
    b.recover();
    const observer = RingObserver.open(file);
    try {
      expect(observer.snapshot().participants.map((p) => [p.pid, p.liveness, p.state])).toEqual([
        [process.pid, 'alive', 'running'],
        [process.pid, 'alive', 'running'],
      ]);
    } finally {
      observer.close();
    }
    expect(a.trySend('x')).toBe(true);
    expect(b.tryReceive()?.data.toString()).toBe('x');
  } finally {
    b.close();
  }
  const observer = RingObserver.open(file);
  try {
    expect(observer.snapshot().participants.map((p) => p.liveness)).toEqual(['alive']);
  } finally {
    observer.close();
    a.close();
  }
});

test('recovery that cannot test an owner\'s lock releases nothing and says it is stuck', () => {
  const file = temp.file('untestable.ring');
  const claimer = RingFile.open(file, { role: 'sender', slots: 8 });
  try {
    const views = viewsOf(claimer.ring.memory, claimer.header);
    const unknown: EntryLocks = { tryLock: () => 'unknown', unlock: () => {} };
    expect(claimer.trySend('m')).toBe(true);
    // The entry is not freed, whatever it holds: its owner may be alive.
    expect(recoverClaims(views, claimer.header, { locks: unknown, self: -1 })).toEqual({ released: 0, adopted: 0, freed: 0, stuck: true, untestable: 1 });
    expect(listParticipants(views)).toHaveLength(1);
  } finally {
    claimer.close();
  }
});
