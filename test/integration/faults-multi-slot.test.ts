/**
 * Fault injection at every step of a multi-slot claim (format v3): a sender of a 200-byte
 * message — five slots of a ring of 8 slots of 16 bytes (stride 48) — stops or dies at each step,
 * including half-way through copying the payload (send-payload) and after the skip words of the
 * message's later slots are written but before its first word is (send-publish). Another sender
 * pushes mixed sizes through three laps meanwhile. Stopped: the claim is waited for and the
 * message arrives whole once resumed. Killed: recovery releases its unpublished positions
 * (skip records, counted in releasedSlots), nothing of it is ever delivered, and everything else flows.
 */
import { LiveCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { waitStopped } from '../helpers/stopped.js';

const temp = tempDir('mmapipc-faults-multi-');
afterAll(() => temp.remove());

const SLOTS = 8;
const SLOT_SIZE = 16;
/** 200 bytes: ceil((32 + 200) / 48) = 5 slots (docs/format.md §2). */
const LARGE = `A${'a'.repeat(198)}!`;
const LARGE_SPAN = 5;
const OTHER_LENGTHS = [5, 40, 100, 16, 70, 150, 3, 64, 17, 120, 8, 90];
const others = OTHER_LENGTHS.map((length, i) => `B:${String(i).padStart(2, '0')}-`.padEnd(length, String.fromCharCode(97 + i)));

let rings = 0;
async function freshRing(): Promise<string> {
  const file = temp.file(`ring-${rings++}`);
  expect((await runCli(['create', '--file', file, '--slots', String(SLOTS), '--slot-size', String(SLOT_SIZE)])).code).toBe(0);
  return file;
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');
const steps = ['send-intent', 'send-claimed', 'send-payload', 'send-publish'] as const;
/**
 * Positions recovery releases after a death at each step (docs/format.md §6.2, §9): none before
 * the claim; all five while nothing is published; at send-publish the skip words of the four
 * later slots are already written (they are published skip records), so only the first is.
 */
const RELEASED: Record<(typeof steps)[number], number> = { 'send-intent': 0, 'send-claimed': LARGE_SPAN, 'send-payload': LARGE_SPAN, 'send-publish': 1 };

test.each(steps)('a sender of a five-slot message stopped at %s: waited for, then delivered whole', async (step) => {
  const file = await freshRing();
  const stopped = new LiveCli(['send', '--file', file, LARGE], { env: { MMAPIPC_FAULT: step } });
  await waitStopped(stopped.child.pid!, `sender at ${step}`);
  const sender = new LiveCli(['send', '--file', file, '--timeout', '20s', ...others]);
  const receiver = runCli(['receive', '--file', file, '--count', String(others.length + 1), '--timeout', '20s']);
  if (step === 'send-intent') await sender.exited; // no claim yet: laps pass by while it is stopped
  else {
    // Its claim holds positions 0-4: the other sender fills what is left of the lap and waits.
    const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
    expect(stat.claims).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'send', pid: stopped.child.pid, state: 'stopped', from: 0 })]));
    expect(stat.releasedSlots).toBe(0);
  }
  stopped.child.kill('SIGCONT');
  const [received, sent, resumed] = await Promise.all([receiver, sender.exited, stopped.exited]);
  expect([resumed.code, sent.code, received.code]).toEqual([0, 0, 0]);
  const got = lines(received.stdout);
  expect([...got].sort()).toEqual([LARGE, ...others].sort());
  expect(got.filter((line) => line.startsWith('B:'))).toEqual(others);
  const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
  expect({ released: stat.releasedSlots, sent: stat.sent }).toEqual({ released: 0, sent: others.length + 1 });
});

test.each(steps)('a sender of a five-slot message killed at %s: its space is released, nothing torn is delivered, later messages flow', async (step) => {
  const file = await freshRing();
  const doomed = new LiveCli(['send', '--file', file, LARGE], { env: { MMAPIPC_FAULT: step } });
  await waitStopped(doomed.child.pid!, `sender at ${step}`);
  doomed.child.kill('SIGKILL');
  await doomed.exited;
  const sender = new LiveCli(['send', '--file', file, '--timeout', '20s', ...others]);
  const received = await runCli(['receive', '--file', file, '--count', String(others.length), '--timeout', '20s']);
  expect((await sender.exited).code).toBe(0);
  expect(received.code).toBe(0);
  expect(lines(received.stdout)).toEqual(others);
  // Nothing more: the half-written message never comes.
  const more = await runCli(['receive', '--file', file, '--timeout', '0']);
  expect(more.code).toBe(124);
  expect(more.stdout).toBe('');
  const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
  expect({ released: stat.releasedSlots, claims: stat.claims, sent: stat.sent }).toEqual({
    released: RELEASED[step],
    claims: [],
    sent: others.length,
  });
});
