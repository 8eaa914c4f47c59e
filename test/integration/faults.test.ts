/**
 * Every window of the protocol, hit deterministically: a process stops itself (SIGSTOP) at a
 * named step (MMAPIPC_FAULT), other processes drive the ring meanwhile, then the stopped one is
 * resumed — nothing lost, nothing overwritten, nothing torn, no duplicate — or killed — nothing
 * lost, duplicates only from a receiver that had already written its messages out.
 */
import { LiveCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { waitStopped } from '../helpers/stopped.js';

const temp = tempDir('mmapipc-faults-');
afterAll(() => temp.remove());

const SLOTS = 4;
let ringCount = 0;

async function freshRing(): Promise<string> {
  const file = temp.file(`ring-${ringCount++}`);
  const created = await runCli(['create', '--file', file, '--slots', String(SLOTS)]);
  expect(created.code).toBe(0);
  return file;
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

function sorted(values: string[]): string[] {
  return [...values].sort();
}

describe('a sender stopped or killed inside its claim', () => {
  const steps = ['send-intent', 'send-claimed', 'send-payload', 'send-publish'] as const;
  const others = Array.from({ length: 3 * SLOTS }, (_, i) => `B:${String(i).padStart(2, '0')}-${'x'.repeat(20)}`);

  test.each(steps)('stopped at %s: waited for, named as the blocker, and its message lands once resumed', async (step) => {
    const file = await freshRing();
    const stopped = new LiveCli(['send', '--file', file, 'A:stopped-sender'], { env: { MMAPIPC_FAULT: step } });
    await waitStopped(stopped.child.pid!, `sender at ${step}`);
    const holdsClaim = step !== 'send-intent';
    // Another sender pushes three laps' worth; a receiver takes what it can.
    const sender = new LiveCli(['send', '--file', file, ...others]);
    if (holdsClaim) {
      // The stopped claim holds position 0: the receiver cannot pass it, and says who blocks it.
      const blocked = await runCli(['receive', '--file', file, '--count', '1', '--timeout', '800ms']);
      expect(blocked.code).toBe(124);
      expect(blocked.stderr).toMatch(new RegExp(`blocked by pid ${stopped.child.pid} \\(stopped\\)`));
      const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
      expect(stat.releasedSlots).toBe(0);
      expect(stat.claims).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'send', pid: stopped.child.pid, state: 'stopped', from: 0 })]));
    }
    const receiver = runCli(['receive', '--file', file, '--count', String(others.length + 1), '--timeout', '20s']);
    if (!holdsClaim) await sender.exited; // laps pass by while it is stopped
    stopped.child.kill('SIGCONT');
    const [received, sent, first] = await Promise.all([receiver, sender.exited, stopped.exited]);
    expect(first.code).toBe(0);
    expect(sent.code).toBe(0);
    expect(received.code).toBe(0);
    expect(sorted(lines(received.stdout))).toEqual(sorted(['A:stopped-sender', ...others]));
    // The other sender's order is kept.
    expect(lines(received.stdout).filter((line) => line.startsWith('B:'))).toEqual(others);
  });

  test.each(steps)('killed at %s: its claim is released, every other message arrives once', async (step) => {
    const file = await freshRing();
    const doomed = new LiveCli(['send', '--file', file, 'A:doomed'], { env: { MMAPIPC_FAULT: step } });
    await waitStopped(doomed.child.pid!, `sender at ${step}`);
    const sender = new LiveCli(['send', '--file', file, ...others]);
    const receiver = runCli(['receive', '--file', file, '--count', String(others.length), '--timeout', '20s']);
    doomed.child.kill('SIGKILL');
    const [received, sent] = await Promise.all([receiver, sender.exited]);
    expect(sent.code).toBe(0);
    expect(received.code).toBe(0);
    expect(lines(received.stdout)).toEqual(others);
    const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
    expect(stat.releasedSlots).toBe(step === 'send-intent' ? 0 : 1);
    expect(stat.claims).toEqual([]);
  });
});

describe('a receiver stopped or killed inside its run', () => {
  const steps = ['receive-intent', 'receive-claimed', 'receive-handled', 'receive-ack'] as const;
  const first = Array.from({ length: SLOTS }, (_, i) => `M:${i}`);
  const later = Array.from({ length: 2 * SLOTS }, (_, i) => `N:${i}`);

  test.each(steps)('stopped at %s: its messages are never given away; once resumed, all arrive exactly once', async (step) => {
    const file = await freshRing();
    expect((await runCli(['send', '--file', file, ...first])).code).toBe(0);
    const stopped = new LiveCli(['receive', '--file', file, '--count', String(SLOTS)], { env: { MMAPIPC_FAULT: step } });
    await waitStopped(stopped.child.pid!, `receiver at ${step}`);
    // It takes SLOTS messages once resumed; the other receiver takes the rest.
    const other = runCli(['receive', '--file', file, '--count', String(later.length), '--timeout', '20s']);
    const sender = runCli(['send', '--file', file, '--timeout', '20s', ...later]);
    if (step !== 'receive-intent') {
      // Its run holds the group's floor: senders wait for it, and say who holds them.
      const blocked = await runCli(['send', '--file', file, '--timeout', '800ms', 'probe']);
      expect(blocked.code).toBe(124);
      expect(blocked.stderr).toMatch(new RegExp(`blocked by pid ${stopped.child.pid} \\(stopped\\)`));
    }
    stopped.child.kill('SIGCONT');
    const resumedRun = await stopped.exited;
    const [otherRun, sent] = await Promise.all([other, sender]);
    expect(resumedRun.code).toBe(0);
    expect(sent.code).toBe(0);
    expect(otherRun.code).toBe(0);
    const all = [...lines(stopped.stdout), ...lines(otherRun.stdout)];
    // Every message exactly once (the probe timed out without sending anything).
    expect(sorted(all)).toEqual(sorted([...first, ...later]));
    if (step !== 'receive-intent') expect(lines(stopped.stdout)).toEqual(first);
  });

  test.each(steps)('killed at %s: another member delivers its run; duplicates only after a write-out', async (step) => {
    const file = await freshRing();
    expect((await runCli(['send', '--file', file, ...first])).code).toBe(0);
    const doomed = new LiveCli(['receive', '--file', file, '--count', String(SLOTS)], { env: { MMAPIPC_FAULT: step } });
    await waitStopped(doomed.child.pid!, `receiver at ${step}`);
    const wroteOut = step === 'receive-handled' || step === 'receive-ack';
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const sender = runCli(['send', '--file', file, '--timeout', '20s', ...later]);
    const other = await runCli(['receive', '--file', file, '--count', String(SLOTS + later.length), '--timeout', '20s', '--json']);
    expect((await sender).code).toBe(0);
    expect(other.code).toBe(0);
    const records = lines(other.stdout).map((line) => JSON.parse(line) as { message: string; deliveries: number });
    expect(records.map((r) => r.message)).toEqual([...first, ...later]);
    // Messages it had claimed come again marked as redelivered.
    const redelivered = records.filter((r) => r.deliveries > 0).map((r) => r.message);
    expect(redelivered).toEqual(step === 'receive-intent' ? [] : first);
    if (wroteOut) expect(lines(doomed.stdout)).toEqual(first);
    else expect(lines(doomed.stdout)).toEqual([]);
  });
});
