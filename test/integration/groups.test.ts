/**
 * Consumer groups with real processes: every lossless group receives every message exactly once
 * (shared among its members, each sender's order kept per member), a lossy group with a slow
 * member receives an ordered subset plus gap reports that account exactly for what it missed,
 * and a group reset replays the ring byte for byte.
 */
import { LiveCli, runCli } from '../helpers/cli.js';
import { until } from '../helpers/proc.js';
import { tempDir } from '../helpers/temp.js';

const temp = tempDir('mmapipc-groups-');
afterAll(() => temp.remove());

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

interface Stat {
  tail: number;
  groups: Array<{ name: string; position: number; missed: number; gaps: number; lossy: boolean }>;
}

async function stat(file: string): Promise<Stat> {
  const result = await runCli(['stat', '--file', file, '--json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Stat;
}

/** Checks that each sender's messages appear in increasing order. */
function expectSenderOrder(received: string[]): void {
  const last = new Map<string, number>();
  for (const line of received) {
    const [sender, index] = line.split(':');
    const n = Number(index);
    expect(n).toBeGreaterThan(last.get(sender!) ?? -1);
    last.set(sender!, n);
  }
}

test('4 senders, 3 groups: lossless groups get everything exactly once, the lossy one a subset and exact gap counts', async () => {
  const file = temp.file('fanout');
  expect((await runCli(['create', '--file', file, '--slots', '64'])).code).toBe(0);
  for (const group of ['alpha', 'beta']) expect((await runCli(['group', 'create', group, '--file', file])).code).toBe(0);
  expect((await runCli(['group', 'rm', 'default', '--file', file])).code).toBe(0);
  expect((await runCli(['group', 'create', 'slow', '--lossy', '--file', file])).code).toBe(0);
  const perSender = 2500;
  const senders = ['S0', 'S1', 'S2', 'S3'];
  const total = senders.length * perSender;
  // alpha: one member; beta: two members sharing its messages; slow: lossy, 1 ms per message.
  const alpha = runCli(['receive', '--file', file, '--group', 'alpha', '--count', String(total), '--timeout', '60s']);
  const beta = [
    new LiveCli(['receive', '--file', file, '--group', 'beta', '--follow']),
    new LiveCli(['receive', '--file', file, '--group', 'beta', '--follow']),
  ];
  const slow = new LiveCli(['receive', '--file', file, '--group', 'slow', '--follow', '--interval', '1ms', '--json']);
  const sent = await Promise.all(
    senders.map((name) =>
      runCli(['send', '--file', file, '--timeout', '60s'], { input: Array.from({ length: perSender }, (_, i) => `${name}:${i}\n`).join('') }),
    ),
  );
  for (const result of sent) expect(result.code).toBe(0);
  const alphaRun = await alpha;
  expect(alphaRun.code).toBe(0);
  const alphaLines = lines(alphaRun.stdout);
  expect(alphaLines.length).toBe(total);
  expect(new Set(alphaLines).size).toBe(total);
  expectSenderOrder(alphaLines);

  await until(() => beta[0]!.lines.length + beta[1]!.lines.length >= total, 'beta received everything', 60_000);
  const betaLines = [...beta[0]!.lines, ...beta[1]!.lines];
  expect(betaLines.length).toBe(total);
  expect(new Set(betaLines)).toEqual(new Set(alphaLines));
  for (const member of beta) expectSenderOrder(member.lines);

  // The lossy member catches up with the tail once senders have stopped; then stop it.
  let final = await stat(file);
  const deadline = performance.now() + 60_000;
  while (final.groups.find((g) => g.name === 'slow')!.position !== final.tail) {
    if (performance.now() > deadline) throw new Error('the lossy member never caught up with the tail');
    final = await stat(file);
  }
  for (const member of [...beta, slow]) member.child.kill('SIGTERM');
  await Promise.all([...beta, slow].map((member) => member.exited));
  const slowGroup = final.groups.find((g) => g.name === 'slow')!;
  const records = slow.lines.map((line) => JSON.parse(line) as { message: string; sequence: number });
  const gaps = lines(slow.stderr)
    .map((line) => JSON.parse(line) as { gap?: boolean; count: number; from: number })
    .filter((record) => record.gap);
  const missed = gaps.reduce((sum, gap) => sum + gap.count, 0);
  expect(records.length).toBeLessThan(total); // it was lapped
  expect(records.length + missed).toBe(total);
  expect(slowGroup.missed).toBe(missed);
  expect(slowGroup.gaps).toBe(gaps.length);
  // In order, no duplicates, and never a sequence inside a reported gap.
  const sequences = records.map((record) => record.sequence);
  expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  expect(new Set(sequences).size).toBe(sequences.length);
  for (const gap of gaps) expect(sequences.some((s) => s >= gap.from && s < gap.from + gap.count)).toBe(false);
  expectSenderOrder(records.map((record) => record.message));
});

test('reset to earliest replays the same messages byte for byte', async () => {
  const file = temp.file('replay');
  const messages = ['plain', 'ünïcödé ✓', '', 'tab\there', 'x'.repeat(64)];
  expect((await runCli(['send', '--file', file, ...messages])).code).toBe(0);
  const first = await runCli(['receive', '--file', file, '--count', String(messages.length), '--json']);
  expect(first.code).toBe(0);
  const reset = await runCli(['group', 'reset', 'default', '--to', 'earliest', '--file', file, '--json']);
  expect(reset.code).toBe(0);
  expect(JSON.parse(reset.stdout)).toMatchObject({ name: 'default', position: 0 });
  const again = await runCli(['receive', '--file', file, '--count', String(messages.length), '--json']);
  expect(again.code).toBe(0);
  const strip = (text: string) => lines(text).map((line) => {
    const { message, sequence, bytes } = JSON.parse(line) as Record<string, unknown>;
    return { message, sequence, bytes };
  });
  expect(strip(again.stdout)).toEqual(strip(first.stdout));
  expect(strip(first.stdout).map((r) => r.message)).toEqual(messages);
});

test('a new group can start at the earliest message still kept, at latest, or at a sequence number', async () => {
  const file = temp.file('starts');
  expect((await runCli(['create', '--file', file, '--slots', '4'])).code).toBe(0);
  expect((await runCli(['group', 'set', 'default', '--lossy', '--file', file])).code).toBe(0);
  expect((await runCli(['send', '--file', file, 'm0', 'm1', 'm2', 'm3', 'm4', 'm5'])).code).toBe(0);
  const earliest = await runCli(['receive', '--file', file, '--group', 'e', '--from', 'earliest', '--count', '4']);
  expect(lines(earliest.stdout)).toEqual(['m2', 'm3', 'm4', 'm5']);
  const fromSeq = await runCli(['receive', '--file', file, '--group', 's', '--from', '4', '--count', '2']);
  expect(lines(fromSeq.stdout)).toEqual(['m4', 'm5']);
  const gone = await runCli(['receive', '--file', file, '--group', 'old', '--from', '1', '--count', '1']);
  expect(gone.code).toBe(7);
  expect(gone.stderr).toMatch(/sequence 1 was overwritten; the oldest still in the ring is 2/);
  const latest = await runCli(['receive', '--file', file, '--group', 'l', '--count', '1', '--timeout', '200ms']);
  expect(latest.code).toBe(124);
});
