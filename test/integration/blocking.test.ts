/**
 * Waiting costs no CPU and ends promptly: a receiver blocked on an empty ring and a sender
 * blocked on a full one sleep in the kernel, and wake when the other side acts; timeouts bound
 * every wait.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { closeSync, openSync, readSync } from 'node:fs';
import { MEMBERS_WAITING_OFFSET } from '../../src/layout/ring-layout.js';
import { BELL_LISTENERS_DELTA, FUTEX_SLEEPERS_DELTA } from '../../src/sys/wake-words.js';
import { BELL_AFTER_SLEEPS } from '../../src/sys/bell-sleeper.js';
import { runCli } from '../helpers/cli.js';
import { runPeer, startPeer } from '../helpers/fixture.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

/**
 * How long the test leaves a process blocked before waking it. This is a measurement window,
 * not a synchronisation: the processes' states are known from their output before and after.
 */
const IDLE_MS = 600;
/** A woken process may take this long to run again on a loaded 2-core machine; a missed wake costs ~1000 ms. */
const PROMPT_MS = 250;
/** Blocked for IDLE_MS, a process may use a few ms of CPU (the brief spin, the wake); polling would use far more. */
const IDLE_CPU_MS = 40;

interface Report {
  blockedMs: number;
  cpuMs: number;
  sleeps: number;
}

/**
 * A waiter may re-check once per second (the safety net of blocking.ts) plus a few sleeps of its
 * own; a poller sleeps once per poll (a 100 ms poll would show twice as many in IDLE_MS).
 */
function expectNoPolling(report: Report): void {
  expect(report.blockedMs).toBeGreaterThanOrEqual(IDLE_MS);
  expect(report.cpuMs).toBeLessThan(IDLE_CPU_MS);
  expect(report.sleeps).toBeLessThanOrEqual(Math.ceil(report.blockedMs / 1000) + 4);
}

test('a receiver blocked on an empty ring uses almost no CPU and wakes promptly when a message arrives', async () => {
  const file = dir.file('idle-receiver.ring');
  const receiver = startPeer(['block-receive', file]);
  await receiver.waitForLine('waiting');
  await sleep(IDLE_MS);
  await runPeer(['send-words', file, 'wake-up']);
  const report = JSON.parse(await receiver.waitForLine(/^\{/)) as Report & { latencyMs: number; message: string };
  expect(await receiver.exited).toEqual({ code: 0, signal: null });
  expect(report.message).toBe('wake-up');
  expectNoPolling(report);
  expect(report.latencyMs).toBeLessThan(PROMPT_MS);
});

test('a sender blocked on a full ring uses almost no CPU and wakes promptly when a slot frees', async () => {
  const file = dir.file('idle-sender.ring');
  const slots = 8;
  const sender = startPeer(['block-send', file], { MMAPIPC_SLOTS: String(slots) });
  expect(await sender.waitForLine(/^full/)).toBe(`full ${slots}`);
  await sleep(IDLE_MS);
  const taken = JSON.parse((await runPeer(['take-one', file]))[0]!) as { takenAt: number; message: string };
  const report = JSON.parse(await sender.waitForLine(/^\{/)) as Report & { result: boolean; wokeAt: number };
  expect(await sender.exited).toEqual({ code: 0, signal: null });
  expect(taken.message).toBe('fill 0');
  expect(report.result).toBe(true);
  expectNoPolling(report);
  expect(report.wokeAt - taken.takenAt).toBeLessThan(PROMPT_MS);
  // The late message went in behind the others.
  const rest = await runCli(['receive', '--file', file, '--count', String(slots)]);
  expect(rest.stdout.split('\n').slice(-2, -1)).toEqual(['late']);
});

describe('timeouts bound every wait', () => {
  const TIMEOUT_MS = 300;

  test('library receive and send return after their timeout', async () => {
    const file = dir.file('timeouts.ring');
    const received = JSON.parse((await runPeer(['receive-within', file, String(TIMEOUT_MS)]))[0]!) as { result: unknown; elapsedMs: number };
    expect(received.result).toBeNull();
    expect(received.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(received.elapsedMs).toBeLessThan(TIMEOUT_MS + PROMPT_MS);
    const sent = JSON.parse((await runPeer(['send-within', file, String(TIMEOUT_MS)]))[0]!) as { result: boolean; elapsedMs: number };
    expect(sent.result).toBe(false);
    expect(sent.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(sent.elapsedMs).toBeLessThan(TIMEOUT_MS + PROMPT_MS);
  });

  test('receive --timeout exits 124 when no message comes, send --timeout when the ring stays full', async () => {
    const file = dir.file('cli-timeouts.ring');
    await runCli(['send', '--file', file, '--slots', '2', 'a', 'b']);
    const started = performance.now();
    const send = await runCli(['send', '--file', file, '--timeout', `${TIMEOUT_MS}ms`, 'c']);
    const sendElapsed = performance.now() - started;
    expect(send.code).toBe(124);
    // The default group (lossless, from 0) holds both messages and has no member: it is named as the blocker.
    expect(send.stderr).toBe(
      `mmapipc: ${file}: ring stayed full (2/2) for ${TIMEOUT_MS} ms; message 1 was not sent (0 were); ` +
        'blocked by group default, which has no members and holds 2 message(s) (receive with --group default, or mmapipc group rm default)\n',
    );
    expect(sendElapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);

    const drained = await runCli(['receive', '--file', file, '--count', '2']);
    expect(drained.stdout).toBe('a\nb\n');
    const waitStarted = performance.now();
    const receive = await runCli(['receive', '--file', file, '--timeout', '0.3s']);
    expect(receive.code).toBe(124);
    expect(receive.stdout).toBe('');
    expect(receive.stderr).toBe(`mmapipc: ${file}: no message arrived within ${TIMEOUT_MS} ms (0 received)\n`);
    expect(performance.now() - waitStarted).toBeGreaterThanOrEqual(TIMEOUT_MS);
  });

  test('receive --timeout also bounds the wait for a ring that never appears', async () => {
    const file = dir.file('never.ring');
    const receive = await runCli(['receive', '--file', file, '--timeout', `${TIMEOUT_MS}ms`]);
    expect(receive).toMatchObject({ code: 124, stdout: '', stderr: `mmapipc: ${file}: no ring appeared within ${TIMEOUT_MS} ms\n` });
  });
});

/** The members' two sleeper counters, read from the file. */
function sleepers(file: string): { futex: number; bell: number } {
  const fd = openSync(file, 'r');
  try {
    const word = Buffer.alloc(4);
    const at = (delta: number) => (readSync(fd, word, 0, 4, MEMBERS_WAITING_OFFSET + delta), word.readInt32LE(0));
    return { futex: at(FUTEX_SLEEPERS_DELTA), bell: at(BELL_LISTENERS_DELTA) };
  } finally {
    closeSync(fd);
  }
}

/** Resolves once `test` holds for the counters (a state we poll for, bounded). */
async function untilSleepers(file: string, test: (counts: { futex: number; bell: number }) => boolean): Promise<{ futex: number; bell: number }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const counts = sleepers(file);
    if (test(counts)) return counts;
    if (Date.now() > deadline) throw new Error(`sleeper counters stayed ${JSON.stringify(counts)}`);
    await sleep(2);
  }
}

test('a receiver that sleeps often moves its blocking sleeps to the bell, and every sender in another process still wakes it', async () => {
  const file = dir.file('often.ring');
  await runPeer(['send-words', file, 'first']);
  const count = BELL_AFTER_SLEEPS + 4;
  const receiver = startPeer(['receive-each', file, String(count)]);
  const ways: string[] = [];
  let finished = false;
  try {
    for (let i = 1; i <= count; i++) {
      await receiver.waitForLine(`waiting ${i}`);
      const word = i === 1 ? 'first' : `m${i}`;
      if (i > 1) {
        // Asleep (on one or the other) before the message is sent: every message is a wake.
        const counts = await untilSleepers(file, (c) => c.futex + c.bell === 1);
        ways.push(counts.bell === 1 ? 'bell' : 'futex');
        await runPeer(['send-words', file, word]);
      }
      await receiver.waitForLine(new RegExp(`^got ${word}$`));
    }
    finished = true;
  } finally {
    if (!finished) receiver.child.kill(); // a failed wait must not leave it blocked
  }
  expect(await receiver.exited).toEqual({ code: 0, signal: null });
  const words = Array.from({ length: count }, (_, i) => (i === 0 ? 'first' : `m${i + 1}`));
  expect(receiver.lines.filter((line) => line.startsWith('got '))).toEqual(words.map((word) => `got ${word}`));
  // The first sleep is on the futex; once set up (after BELL_AFTER_SLEEPS sleeps, fewer messages
  // if a wait outlived the 1 s cap), the bell: the last message woke a receiver asleep on it.
  expect(ways[0]).toBe('futex');
  expect(ways[ways.length - 1]).toBe('bell');
  expect(sleepers(file)).toEqual({ futex: 0, bell: 0 });
});
