/**
 * The wake protocol across processes (docs/format.md §8): one wake reaches every sleeper, whether
 * it blocks on the futex or awaits the bell; a timed wait ends at its bound; an idle async wait
 * costs no CPU; and ringing needs no file beside the ring.
 */
import { closeSync, mkdirSync, openSync, readSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MEMBERS_WAITING_OFFSET, SENDERS_WAITING_OFFSET } from '../../src/layout/ring-layout.js';
import { BELL_LISTENERS_DELTA, FUTEX_SLEEPERS_DELTA } from '../../src/sys/wake-words.js';
import { runPeer, runWakePeer, startWakePeer } from '../helpers/fixture.js';
import { waitStopped } from '../helpers/stopped.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

/** Longer than any test here: a sleeper that returns before it was not woken by its timeout. */
const LONG_MS = 20_000;
/** A woken process may take this long to run again on a loaded 2-core machine. */
const PROMPT_MS = 250;
/** How long to wait for sleepers to register (a bound on a state we poll for, not a synchronisation by sleeping). */
const REGISTER_MS = 10_000;
const IDLE_MS = 600;
const IDLE_CPU_MS = 40;

type Side = 'receivers' | 'senders';
const WAITING: Record<Side, number> = { receivers: MEMBERS_WAITING_OFFSET, senders: SENDERS_WAITING_OFFSET };

interface Report {
  elapsedMs: number;
  cpuMs: number;
  returnedAt: number;
  word: number;
  /** How a blocking sleep waited ('futex' or 'bell'); 'async' for the others. */
  way: string;
}

/** The two counters beside a waiting word, read from the file (the page cache is the mapping's). */
function counters(file: string, side: Side): { futex: number; bell: number } {
  const fd = openSync(file, 'r');
  try {
    const word = Buffer.alloc(4);
    const at = (delta: number) => (readSync(fd, word, 0, 4, WAITING[side] + delta), word.readInt32LE(0));
    return { futex: at(FUTEX_SLEEPERS_DELTA), bell: at(BELL_LISTENERS_DELTA) };
  } finally {
    closeSync(fd);
  }
}

async function untilCounters(file: string, side: Side, expected: { futex: number; bell: number }): Promise<void> {
  const deadline = Date.now() + REGISTER_MS;
  while (JSON.stringify(counters(file, side)) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) throw new Error(`counters ${JSON.stringify(counters(file, side))}, expected ${JSON.stringify(expected)}`);
    await sleep(5);
  }
}

/** A ring of its own in a directory of its own. */
async function freshRing(name: string): Promise<{ folder: string; file: string }> {
  const folder = dir.file(name);
  mkdirSync(folder);
  const file = `${folder}/${name}.ring`;
  await runWakePeer(['wake', file, 'receivers']); // creates it (nobody waits: nothing to wake)
  return { folder, file };
}

describe.each<Side>(['receivers', 'senders'])('on the %s waiting word', (side) => {
  test('one wake reaches every sleeper: three blocked on the futex and three awaiting the bell, in six processes', async () => {
    const { folder, file } = await freshRing(`all-${side}`);
    const hows = ['sync', 'sync', 'sync', 'async', 'async', 'async'];
    const sleepers = hows.map((how) => startWakePeer(['sleep', file, how, side, String(LONG_MS)]));
    await Promise.all(sleepers.map((sleeper) => sleeper.waitForLine('sleeping')));
    await untilCounters(file, side, { futex: 3, bell: 3 });

    const { wokeAt } = JSON.parse((await runWakePeer(['wake', file, side]))[0]!) as { wokeAt: number };
    const reports = await Promise.all(sleepers.map(async (sleeper) => JSON.parse(await sleeper.waitForLine(/^\{/)) as Report));
    for (const report of reports) {
      expect(report.word).toBe(0);
      expect(report.returnedAt - wokeAt).toBeLessThan(PROMPT_MS);
    }
    for (const sleeper of sleepers) expect(await sleeper.exited).toEqual({ code: 0, signal: null });
    expect(counters(file, side)).toEqual({ futex: 0, bell: 0 });
    // The bell is the ring file itself: waking made no file beside it.
    expect(readdirSync(folder)).toEqual([`all-${side}.ring`]);
  });
});

describe.each<Side>(['receivers', 'senders'])('blocking sleeps on the bell, on the %s waiting word', (side) => {
  test('one wake reaches sleepers blocked on the futex, blocked on the bell and awaiting the bell, in six processes', async () => {
    const { folder, file } = await freshRing(`bell-${side}`);
    const hows = ['sync', 'sync', 'sync-bell', 'sync-bell', 'async', 'async'];
    const sleepers = hows.map((how) => startWakePeer(['sleep', file, how, side, String(LONG_MS)]));
    await Promise.all(sleepers.map((sleeper) => sleeper.waitForLine('sleeping')));
    // A blocking sleeper on the bell counts where an async one does.
    await untilCounters(file, side, { futex: 2, bell: 4 });

    const { wokeAt } = JSON.parse((await runWakePeer(['wake', file, side]))[0]!) as { wokeAt: number };
    const reports = await Promise.all(sleepers.map(async (sleeper) => JSON.parse(await sleeper.waitForLine(/^\{/)) as Report));
    expect(reports.map((report) => report.way)).toEqual(['futex', 'futex', 'bell', 'bell', 'async', 'async']);
    for (const report of reports) {
      expect(report.word).toBe(0);
      expect(report.returnedAt - wokeAt).toBeLessThan(PROMPT_MS);
    }
    for (const sleeper of sleepers) expect(await sleeper.exited).toEqual({ code: 0, signal: null });
    expect(counters(file, side)).toEqual({ futex: 0, bell: 0 });
    // The alarm file of the blocking bell has no name: nothing beside the ring.
    expect(readdirSync(folder)).toEqual([`bell-${side}.ring`]);
  });
});

describe.each(['sync-bell', 'async'])('no lost wake-up on the bell (%s)', (how) => {
  test('a sleeper stopped between its check of the word and its wait, woken then, returns at once when resumed', async () => {
    const { file } = await freshRing(`window-${how}`);
    const sleeper = startWakePeer(['sleep', file, how, 'receivers', String(LONG_MS)], { MMAPIPC_FAULT: 'sleep-checked' });
    await sleeper.waitForLine('sleeping');
    await waitStopped(sleeper.child.pid!, `${how} sleeper at sleep-checked`);
    // Counted, and the word checked unchanged: the waker must ring, and the ring must not be lost.
    expect(counters(file, 'receivers')).toEqual({ futex: 0, bell: 1 });
    await runWakePeer(['wake', file, 'receivers']);
    const resumedAt = Date.now();
    sleeper.child.kill('SIGCONT');
    const report = JSON.parse(await sleeper.waitForLine(/^\{/)) as Report;
    expect(report.way).toBe(how === 'async' ? 'async' : 'bell');
    expect(report.word).toBe(0);
    expect(report.returnedAt - resumedAt).toBeLessThan(PROMPT_MS);
    expect(await sleeper.exited).toEqual({ code: 0, signal: null });
    expect(counters(file, 'receivers')).toEqual({ futex: 0, bell: 0 });
  });
});

test('where the bell cannot be watched, an async wait sleeps on the futex in a thread and is still woken', async () => {
  const { file } = await freshRing('fallback');
  const sleeper = startWakePeer(['sleep', file, 'async-thread', 'receivers', String(LONG_MS)]);
  await sleeper.waitForLine('sleeping');
  await untilCounters(file, 'receivers', { futex: 1, bell: 0 });
  const { wokeAt } = JSON.parse((await runWakePeer(['wake', file, 'receivers']))[0]!) as { wokeAt: number };
  const report = JSON.parse(await sleeper.waitForLine(/^\{/)) as Report;
  expect(report.returnedAt - wokeAt).toBeLessThan(PROMPT_MS);
  expect(await sleeper.exited).toEqual({ code: 0, signal: null });
});

describe('a timed wait that nobody wakes', () => {
  const TIMEOUT_MS = 300;

  test.each(['sync', 'sync-bell', 'async', 'async-thread'])('returns at its bound (%s) and leaves no count behind', async (how) => {
    const { file } = await freshRing(`timed-${how}`);
    const [, line] = await runWakePeer(['sleep', file, how, 'receivers', String(TIMEOUT_MS)]);
    const report = JSON.parse(line!) as Report;
    expect(report.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(report.elapsedMs).toBeLessThan(TIMEOUT_MS + PROMPT_MS);
    expect(report.word).toBe(1);
    expect(counters(file, 'receivers')).toEqual({ futex: 0, bell: 0 });
  });
});

test('on the bell, a sleep ended early leaves its alarm set, and the next, shorter sleeps still end at their own bounds', async () => {
  // The alarm thread waits for the last deadline armed even after its sleep ended (so that short
  // sleeps in a row do not wake it); a sleep with an earlier deadline must still be rung on time.
  const { file } = await freshRing('deadlines');
  const [line] = await runWakePeer(['deadlines', file]);
  const report = JSON.parse(line!) as { earlyMs: number; shortMs: number; repeatedMs: number[]; way: string };
  expect(report.way).toBe('bell');
  expect(report.earlyMs).toBeLessThan(PROMPT_MS);
  expect(report.shortMs).toBeGreaterThanOrEqual(100 - 1);
  expect(report.shortMs).toBeLessThan(100 + PROMPT_MS);
  expect(report.repeatedMs).toHaveLength(10);
  for (const ms of report.repeatedMs) {
    expect(ms).toBeGreaterThanOrEqual(30 - 1);
    expect(ms).toBeLessThan(30 + PROMPT_MS);
  }
  expect(counters(file, 'receivers')).toEqual({ futex: 0, bell: 0 });
});

test('a receiver awaiting receiveAsync() on an empty ring uses almost no CPU and wakes promptly', async () => {
  const { file } = await freshRing('idle-async');
  const receiver = startWakePeer(['receive-async', file]);
  await receiver.waitForLine('waiting');
  await sleep(IDLE_MS); // a measurement window: the receiver's state is known from its output
  await runPeer(['send-words', file, 'wake-up']);
  const report = JSON.parse(await receiver.waitForLine(/^\{/)) as { blockedMs: number; cpuMs: number; message: string };
  expect(await receiver.exited).toEqual({ code: 0, signal: null });
  expect(report.message).toBe('wake-up');
  expect(report.blockedMs).toBeGreaterThanOrEqual(IDLE_MS);
  expect(report.cpuMs).toBeLessThan(IDLE_CPU_MS);
});
