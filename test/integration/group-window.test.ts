/**
 * Admin commands under a member that holds a run (issue 16, item 2): `group rm`, `group set
 * --lossy`, a lossy spell that laps the ring then `--lossless` (from a lossless group, and from a
 * lossy one), `group reset --to earliest|latest`, while a member is stopped (SIGSTOP, resumed after
 * the command and the lap) or dies (SIGKILL) at each receive step of src/ring/fault.ts. The member delivers exactly the bytes of the positions it
 * took, each under its own sequence number, or reports a gap for them — never another message
 * under an old sequence number. A removed group's member exits 7 naming the group and the ring;
 * a dead member's run is handed on by recovery, or dropped when its group is gone.
 *
 * Every case: a 16-slot ring whose only group is `victim` (lossless), holding old-0 … old-7 at
 * positions 0-7; the member runs `receive --group victim --json --batch --count 10`; new-0 …
 * new-39 are sent at positions 8-47 (as many as fit while the member is stopped or dead, the rest
 * afterwards). Expected outputs come from docs/format.md §5.3 and §7, worked out by hand below.
 */
import { FAULT_STEPS } from '../../src/ring/fault.js';
import { RingObserver } from '../../src/ring-file/observe.js';
import { RingFile } from '../../src/ring-file/ring-file.js';
import { LiveCli, runCli } from '../helpers/cli.js';
import { until } from '../helpers/proc.js';
import { waitStopped } from '../helpers/stopped.js';
import { tempDir } from '../helpers/temp.js';

const temp = tempDir('mmapipc-group-window-');
afterAll(() => temp.remove());

const SLOTS = 16;
const OLD = 8;
const NEW = 40;
/** What was sent at each position: old-i at i, new-j at 8 + j (each message one slot). */
const messageAt = (sequence: number) => (sequence < OLD ? `old-${sequence}` : `new-${sequence - OLD}`);

// ---- expected outputs: "sequence/deliveries" per delivered message, "gap from+count" per gap ----
const d = (from: number, to: number, deliveries = 0) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}/${deliveries}`);
const g = (from: number, count: number) => [`gap ${from}+${count}`];
/** One gap per position: a run whose slots were all reused under it. */
const each = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `gap ${from + i}+1`);

type Step = (typeof FAULT_STEPS)[number];
const STEPS = FAULT_STEPS.filter((step) => step.startsWith('receive-'));
/** Steps at which the member already holds a claimed run; at receive-intent its claim is not made yet. */
const claimedAt = (step: Step) => step !== 'receive-intent';
/** Steps at which the member has already written its run out. */
const writtenAt = (step: Step) => step === 'receive-handled' || step === 'receive-ack';

interface Outcome {
  readonly stdout: string[];
  readonly gaps: string[];
}

interface Case {
  readonly name: string;
  /** The group is lossy from the start (else lossless). */
  readonly lossy?: boolean;
  /** Runs the admin command(s); `lap` sends as many new messages as fit now. */
  readonly command: (file: string, lap: () => void) => Promise<void>;
  /** How many of the 40 new messages fit while the member is stopped or dead. */
  readonly fit: number;
  /** The stopped member, once resumed. */
  readonly stopped: (step: Step) => Outcome & { readonly code: number };
  /** After the member died: a new member's output (undefined: the group is gone). */
  readonly killed?: (step: Step) => Outcome;
}

async function cli(...args: string[]): Promise<void> {
  const result = await runCli(args);
  expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
}

const CASES: Case[] = [
  {
    name: 'group rm',
    command: async (file, lap) => {
      await cli('group', 'rm', 'victim', '--file', file);
      lap();
    },
    fit: NEW, // a removed group holds nobody back
    // Its run's slots were all reused: one gap each, then exit 7. Written out already: those stay.
    stopped: (step) => ({ stdout: writtenAt(step) ? d(0, 7) : [], gaps: writtenAt(step) ? [] : each(0, 7), code: 7 }),
  },
  {
    name: 'group set --lossy',
    command: async (file, lap) => {
      await cli('group', 'set', 'victim', '--lossy', '--file', file);
      lap();
    },
    fit: NEW,
    // The cursor at 8 was lapped too: it jumps to the oldest kept (48 - 16 = 32).
    stopped: (step) =>
      writtenAt(step) ? { stdout: [...d(0, 7), ...d(32, 33)], gaps: g(8, 24), code: 0 } : { stdout: d(32, 41), gaps: [...each(0, 7), ...g(8, 24)], code: 0 },
    // The new member jumps from the cursor (0 when the claim was never made, else 8), then takes
    // over the dead one's run when idle: its slots were reused, so one gap each.
    killed: (step) => (claimedAt(step) ? { stdout: d(32, 47), gaps: [...g(8, 24), ...each(0, 7)] } : { stdout: d(32, 47), gaps: g(0, 32) }),
  },
  {
    name: 'group set --lossy, a lap, group set --lossless',
    command: async (file, lap) => {
      await cli('group', 'set', 'victim', '--lossy', '--file', file);
      lap();
      await cli('group', 'set', 'victim', '--lossless', '--file', file);
    },
    fit: NEW,
    // The lossy bit is clear again, but the flags word counted two changes: the run is checked.
    // --lossless moved the cursor to the oldest kept (32); a claim not yet made starts there.
    stopped: (step) =>
      writtenAt(step)
        ? { stdout: [...d(0, 7), ...d(32, 33)], gaps: [], code: 0 }
        : { stdout: d(32, 41), gaps: claimedAt(step) ? each(0, 7) : [], code: 0 },
    killed: (step) => ({ stdout: d(32, 47), gaps: claimedAt(step) ? each(0, 7) : [] }),
  },
  {
    // A lossy group's runs are never guarded, whatever the flags word says after.
    name: 'a lossy group: a lap, group set --lossless',
    lossy: true,
    command: async (file, lap) => {
      lap();
      await cli('group', 'set', 'victim', '--lossless', '--file', file);
    },
    fit: NEW,
    stopped: (step) =>
      writtenAt(step)
        ? { stdout: [...d(0, 7), ...d(32, 33)], gaps: [], code: 0 }
        : { stdout: d(32, 41), gaps: claimedAt(step) ? each(0, 7) : [], code: 0 },
    killed: (step) => ({ stdout: d(32, 47), gaps: claimedAt(step) ? each(0, 7) : [] }),
  },
  {
    name: 'group reset --to earliest',
    command: async (file, lap) => {
      await cli('group', 'reset', 'victim', '--to', 'earliest', '--file', file);
      lap();
    },
    fit: OLD, // the held run (or the dead member's) keeps the floor at 0: no lap
    // Replay: the run's own bytes, then the group starts over at 0 (a claim not yet made was
    // made from 0 anyway, then goes on with new-0).
    stopped: (step) => ({ stdout: claimedAt(step) ? [...d(0, 7), ...d(0, 1)] : [...d(0, 7), ...d(8, 9)], gaps: [], code: 0 }),
    // The new member replays 0-15, takes over the dead member's run (deliveries 1), then the rest.
    killed: (step) => ({ stdout: claimedAt(step) ? [...d(0, 15), ...d(0, 7, 1), ...d(16, 47)] : d(0, 47), gaps: [] }),
  },
  {
    name: 'group reset --to latest',
    command: async (file, lap) => {
      await cli('group', 'reset', 'victim', '--to', 'latest', '--file', file);
      lap();
    },
    fit: OLD,
    stopped: (step) => ({ stdout: claimedAt(step) ? [...d(0, 7), ...d(8, 9)] : d(8, 17), gaps: [], code: 0 }),
    killed: (step) => ({ stdout: claimedAt(step) ? [...d(8, 15), ...d(0, 7, 1), ...d(16, 47)] : d(8, 47), gaps: [] }),
  },
];

let rings = 0;

/** A ring whose only group is `victim`, holding old-0 … old-7. */
function setUp(lossy = false): string {
  const file = temp.file(`ring-${rings++}`);
  const ring = RingFile.open(file, { slots: SLOTS, role: 'sender' });
  try {
    ring.removeGroup('default');
    ring.createGroup('victim', { lossy });
    for (let i = 0; i < OLD; i++) expect(ring.trySend(messageAt(i))).toBe(true);
  } finally {
    ring.close();
  }
  return file;
}

/** Sends new messages from `next` in order, as many as fit now; returns the next unsent. */
function sendWhatFits(file: string, next: number): number {
  const ring = RingFile.open(file, { create: false, role: 'sender' });
  try {
    while (next < NEW && ring.trySend(messageAt(OLD + next))) next++;
  } finally {
    ring.close();
  }
  return next;
}

/** Sends the rest, waiting for room (woken by the members' finishes), until all are sent or `done()`. */
async function sendRest(file: string, next: number, done: () => boolean): Promise<void> {
  const ring = RingFile.open(file, { create: false, role: 'sender' });
  try {
    while (next < NEW && !done()) {
      if (ring.trySend(messageAt(OLD + next))) next++;
      else await ring.waitForRoom({ timeoutMs: 100 });
    }
  } finally {
    ring.close();
  }
}

/** The member's (or the new member's) output as "sequence/deliveries" and "gap from+count" lines; every message checked against what was sent at its sequence. */
function outcome(stdout: string[], stderr: string): Outcome & { other: string[] } {
  const records = stdout.map((line) => JSON.parse(line) as { sequence: number; deliveries: number; message: string; group: string });
  for (const record of records) expect({ sequence: record.sequence, message: record.message, group: record.group }).toEqual({ sequence: record.sequence, message: messageAt(record.sequence), group: 'victim' });
  const errors = stderr.split('\n').filter((line) => line !== '');
  const gapLines = errors.filter((line) => line.startsWith('{'));
  return {
    stdout: records.map((record) => `${record.sequence}/${record.deliveries}`),
    gaps: gapLines.map((line) => JSON.parse(line) as { gap: boolean; group: string; from: number; count: number }).map((gap) => `gap ${gap.from}+${gap.count}`),
    other: errors.filter((line) => !line.startsWith('{')),
  };
}

function startMember(file: string, step: Step, action: 'stop' | 'kill'): LiveCli {
  return new LiveCli(['receive', '--group', 'victim', '--json', '--batch', '--count', '10', '--file', file], { env: { MMAPIPC_FAULT: `${step}:${action}` } });
}

const table = CASES.flatMap((c) => STEPS.map((step) => [c.name, step, c] as const));

describe.each(['stopped', 'killed'] as const)('a member %s under an admin command', (mode) => {
  test.concurrent.each(table)(`%s, member ${mode} at %s`, async (_name, step, c) => {
    const file = setUp(c.lossy);
    const member = startMember(file, step, mode === 'stopped' ? 'stop' : 'kill');
    const faultLine = `mmapipc: fault: pid ${member.child.pid} ${mode === 'stopped' ? 'stops' : 'dies'} at ${step}`;
    await member.waitForErrorLine(faultLine);
    if (mode === 'stopped') await waitStopped(member.child.pid!, `member at ${step}`);
    else expect(await member.exited).toEqual({ code: null, signal: 'SIGKILL' });

    let next = 0;
    await c.command(file, () => (next = sendWhatFits(file, next)));
    expect(next).toBe(c.fit);

    if (mode === 'stopped') {
      member.child.kill('SIGCONT');
      let exited = false;
      const exit = member.exited.then((result) => ((exited = true), result));
      await sendRest(file, next, () => exited);
      const { code, signal } = await exit;
      const got = outcome(member.lines, member.stderr);
      const expected = c.stopped(step);
      const errorLines = [faultLine, ...(expected.code === 7 ? [`mmapipc: ${file}: group victim was removed (mmapipc group rm); join it again to go on`] : [])];
      expect({ code, signal, stdout: got.stdout, gaps: got.gaps, other: got.other }).toEqual({ ...expected, signal: null, other: errorLines });
      return;
    }

    // Killed: what it wrote out before dying stays written.
    expect(outcome(member.lines, '').stdout).toEqual(writtenAt(step) ? d(0, 7) : []);
    if (!c.killed) {
      // The group is gone: recovery drops the dead member's run and frees its entry.
      const ring = RingFile.open(file, { create: false, role: 'sender' });
      ring.recover();
      ring.close();
    } else {
      const expected = c.killed(step);
      const successor = new LiveCli(['receive', '--group', 'victim', '--json', '--follow', '--file', file]);
      const sending = sendRest(file, next, () => false);
      await until(
        () => successor.lines.length >= expected.stdout.length && outcome([], successor.stderr).gaps.length >= expected.gaps.length,
        `the new member printed ${expected.stdout.length} message(s) and ${expected.gaps.length} gap(s)`,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; it printed ${JSON.stringify(outcome(successor.lines, successor.stderr))}`);
      });
      await sending;
      // A run the dead member had only recorded (killed at receive-intent) prints nothing: wait
      // for the new member's recovery (it looks before it sleeps) to drop it and free the entry.
      await until(() => resolvedFor(file, member.child.pid!), "the dead member's entry resolved by the new member's recovery");
      successor.child.kill('SIGTERM');
      expect(await successor.exited).toEqual({ code: 143, signal: null });
      const got = outcome(successor.lines, successor.stderr);
      expect({ stdout: got.stdout, gaps: got.gaps, other: got.other }).toEqual({ ...expected, other: [] });
    }
    const observer = RingObserver.open(file);
    try {
      const snapshot = observer.snapshot();
      expect(snapshot.holders).toEqual([]);
      expect(snapshot.participants.map((entry) => entry.pid)).not.toContain(member.child.pid);
    } finally {
      observer.close();
    }
  });
});

/**
 * Into a pipe (a FIFO: `| cat`) without --batch a member takes one message at a time, held until
 * the reader has read it: its run is position 0 alone. The same window through that path.
 */
describe('a member taking one message at a time, stopped under an admin command', () => {
  const oneAtATime: Array<readonly [string, Step, (file: string) => Promise<void>, Outcome & { code: number }]> = STEPS.flatMap((step) => [
    ['group rm', step, (file: string) => cli('group', 'rm', 'victim', '--file', file), writtenAt(step) ? { stdout: d(0, 0), gaps: [], code: 7 } : { stdout: [], gaps: g(0, 1), code: 7 }] as const,
    [
      'group set --lossy',
      step,
      (file: string) => cli('group', 'set', 'victim', '--lossy', '--file', file),
      // After its own position, the cursor at 1 was lapped: it jumps to 32.
      writtenAt(step) ? { stdout: [...d(0, 0), ...d(32, 40)], gaps: g(1, 31), code: 0 } : { stdout: d(32, 41), gaps: [...g(0, 1), ...g(1, 31)], code: 0 },
    ] as const,
  ]);
  test.concurrent.each(oneAtATime)('%s, member stopped at %s', async (_name, step, command, expected) => {
    const file = setUp();
    // bash's pipefail: the pipeline exits with the member's code.
    const member = new LiveCli(['receive', '--group', 'victim', '--json', '--count', '10', '--file', file], {
      env: { MMAPIPC_FAULT: `${step}:stop` },
      through: ['bash', '-c', 'set -o pipefail; "$@" | cat', 'member'],
    });
    const faultLine = await member.waitForErrorLine(new RegExp(`^mmapipc: fault: pid \\d+ stops at ${step}$`));
    const pid = Number(/pid (\d+)/.exec(faultLine)![1]);
    await waitStopped(pid, `member at ${step}`);
    await command(file);
    expect(sendWhatFits(file, 0)).toBe(NEW);
    process.kill(pid, 'SIGCONT');
    const { code, signal } = await member.exited;
    const got = outcome(member.lines, member.stderr);
    const errorLines = [faultLine, ...(expected.code === 7 ? [`mmapipc: ${file}: group victim was removed (mmapipc group rm); join it again to go on`] : [])];
    expect({ code, signal, stdout: got.stdout, gaps: got.gaps, other: got.other }).toEqual({ ...expected, signal: null, other: errorLines });
  });
});

test('a member waiting on an empty ring learns within 2 s that its group was removed: exit 7, one line naming the group and the ring', async () => {
  const file = temp.file(`ring-${rings++}`);
  RingFile.open(file, { slots: SLOTS, role: 'observer' }).close();
  await cli('group', 'create', 'victim', '--file', file);
  // --verbose: after a second of waiting it says so, which tells the test it is asleep in the wait.
  const member = new LiveCli(['receive', '--group', 'victim', '--follow', '--verbose', '--file', file]);
  const waiting = `mmapipc: ${file}: waiting for a message for group victim (0 received so far)`;
  await member.waitForErrorLine(waiting);
  await cli('group', 'rm', 'victim', '--file', file);
  const removedAt = performance.now();
  // Bounded, so a member that never learns fails the test instead of outliving it.
  const bound = setTimeout(() => member.child.kill('SIGKILL'), 5000);
  const { code, signal } = await member.exited;
  clearTimeout(bound);
  const took = performance.now() - removedAt;
  expect({ code, signal, stdout: member.stdout }).toEqual({ code: 7, signal: null, stdout: '' });
  const errors = member.stderr.split('\n').filter((line) => line !== '');
  expect(errors.at(-1)).toBe(`mmapipc: ${file}: group victim was removed (mmapipc group rm); join it again to go on`);
  expect(errors.slice(0, -1).every((line) => line.startsWith(waiting))).toBe(true);
  expect(took).toBeLessThan(2000);
});

/** True when no claim is held in the ring at `file` and `pid` has no entry there any more. */
function resolvedFor(file: string, pid: number): boolean {
  const observer = RingObserver.open(file);
  try {
    const snapshot = observer.snapshot();
    return snapshot.holders.length === 0 && !snapshot.participants.some((entry) => entry.pid === pid);
  } finally {
    observer.close();
  }
}
