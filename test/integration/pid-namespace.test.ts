/**
 * A ring shared with processes in another PID namespace (a container sharing the file through
 * /dev/shm or a bind mount): liveness comes from the participant entries' locks, which every
 * sharer sees, never from /proc. Members and one-shot senders on both sides get every message
 * exactly once with its own bytes; a process inside that is stopped keeps its claims; one that
 * is killed is recovered from outside; stat names both sides' pids, marking the other side's.
 */
import { LiveCli, runCli, type CliResult } from '../helpers/cli.js';
import { PidNamespace, describeWithNamespaces, type InsideProcess } from '../helpers/pid-namespace.js';
import { until } from '../helpers/proc.js';
import { waitStopped } from '../helpers/stopped.js';
import { tempDir } from '../helpers/temp.js';

const temp = tempDir('mmapipc-pidns-');
afterAll(() => temp.remove());

let ringCount = 0;
async function freshRing(slots: number, ...groups: string[]): Promise<string> {
  const file = temp.file(`ring-${ringCount++}`);
  expect((await runCli(['create', '--file', file, '--slots', String(slots)])).code).toBe(0);
  if (groups.length > 0) {
    expect((await runCli(['group', 'rm', 'default', '--file', file])).code).toBe(0);
    for (const group of groups) expect((await runCli(['group', 'create', group, '--file', file])).code).toBe(0);
  }
  return file;
}

async function statJson(file: string, where?: PidNamespace): Promise<Record<string, any>> {
  const result = await (where ? where.run(['stat', '--file', file, '--json']) : runCli(['stat', '--file', file, '--json']));
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout);
}

interface Received {
  readonly sequence: number;
  readonly message: string;
  readonly deliveries: number;
}
const parse = (lines: readonly string[]): Received[] => lines.map((line) => JSON.parse(line) as Received);
const texts = (result: CliResult) => result.stdout.split('\n').filter((line) => line !== '');

/** Message j of sender i: its own bytes, so that a torn or misplaced copy is seen. */
function message(sender: number, j: number): string {
  const tag = `s${String(sender).padStart(2, '0')}-${String(j).padStart(2, '0')}-`;
  return tag + String.fromCharCode(97 + ((sender * 7 + j) % 26)).repeat(40);
}

describeWithNamespaces('a ring shared with another PID namespace', () => {
  let inside: PidNamespace;
  beforeAll(async () => {
    inside = await PidNamespace.start();
  });
  afterAll(async () => {
    await inside?.stop();
  });

  test('members inside and outside, one-shot senders on both sides: every message exactly once per group, with its own bytes; stat names both sides', async () => {
    const SENDERS = 40;
    const PER_SENDER = 60;
    const file = await freshRing(16, 'in', 'out', 'shared');
    const memberIn = await inside.start(['receive', '--file', file, '--follow', '--json', '--group', 'in']);
    const memberOut = new LiveCli(['receive', '--file', file, '--follow', '--json', '--group', 'out']);
    const sharedIn = await inside.start(['receive', '--file', file, '--follow', '--json', '--group', 'shared']);
    const sharedOut = new LiveCli(['receive', '--file', file, '--follow', '--json', '--group', 'shared']);
    // Attached: four receivers in the table, seen from outside (stat is the event we wait for).
    const deadline = performance.now() + 20_000;
    let attached = await statJson(file);
    while (attached.participants.length < 4) {
      if (performance.now() > deadline) throw new Error(`receivers did not attach: ${JSON.stringify(attached.participants)}`);
      attached = await statJson(file);
    }
    const outsidePids = [memberOut.child.pid, sharedOut.child.pid];
    const seenFromOutside = attached.participants.map((p: any) => ({ pid: p.pid, ns: p.pidNamespace, alive: p.alive, group: p.group }));
    expect(seenFromOutside.filter((p: any) => p.ns === 'same').map((p: any) => p.pid).sort()).toEqual([...outsidePids].sort());
    const others = seenFromOutside.filter((p: any) => p.ns === 'other');
    expect(others.map((p: any) => p.group).sort()).toEqual(['in', 'shared']);
    expect(others.every((p: any) => p.alive && !outsidePids.includes(p.pid) && p.pid !== memberIn.outerPid && p.pid !== sharedIn.outerPid)).toBe(true);
    const human = await runCli(['stat', '--file', file]);
    expect(human.stdout.match(/\(another pid namespace\)/g)).toHaveLength(2);
    // From inside, it is the other way round.
    const seenFromInside = await statJson(file, inside);
    expect(seenFromInside.participants.filter((p: any) => p.pidNamespace === 'other').map((p: any) => p.pid).sort()).toEqual([...outsidePids].sort());

    // 40 one-shot senders, every other one inside, four at a time.
    const all: string[] = [];
    for (let i = 0; i < SENDERS; i++) for (let j = 0; j < PER_SENDER; j++) all.push(message(i, j));
    for (let batch = 0; batch < SENDERS; batch += 4) {
      const runs: Promise<CliResult>[] = [];
      for (let i = batch; i < batch + 4; i++) {
        const args = ['send', '--file', file, '--quiet', ...all.slice(i * PER_SENDER, (i + 1) * PER_SENDER)];
        runs.push(i % 2 === 0 ? inside.run(args) : runCli(args));
      }
      for (const result of await Promise.all(runs)) expect(result).toMatchObject({ code: 0, stderr: '' });
    }
    const total = SENDERS * PER_SENDER;
    await until(() => memberIn.cli.lines.length >= total && memberOut.lines.length >= total, 'both members have every message', 60_000);
    await until(() => sharedIn.cli.lines.length + sharedOut.lines.length >= total, 'the shared group has every message', 60_000);
    const after = await statJson(file);
    for (const member of [memberIn, sharedIn]) member.signal('SIGINT');
    memberOut.child.kill('SIGINT');
    sharedOut.child.kill('SIGINT');
    await Promise.all([memberIn.cli.exited, memberOut.exited, sharedIn.cli.exited, sharedOut.exited]);

    const groups = {
      in: parse(memberIn.cli.lines),
      out: parse(memberOut.lines),
      shared: [...parse(sharedIn.cli.lines), ...parse(sharedOut.lines)],
    };
    const bySequence = new Map<number, string>();
    const figures: Record<string, { received: number; distinct: number; torn: number; conflicting: number; redelivered: number }> = {};
    for (const [name, received] of Object.entries(groups)) {
      let torn = 0;
      let conflicting = 0;
      for (const { sequence, message: text } of received) {
        if (!/^s(\d\d)-(\d\d)-([a-z])\3{39}$/.test(text) || message(Number(text.slice(1, 3)), Number(text.slice(4, 6))) !== text) torn++;
        const known = bySequence.get(sequence);
        if (known !== undefined && known !== text) conflicting++;
        bySequence.set(sequence, text);
      }
      figures[name] = {
        received: received.length,
        distinct: new Set(received.map((r) => r.message)).size,
        torn,
        conflicting,
        redelivered: received.filter((r) => r.deliveries > 0).length,
      };
    }
    process.stderr.write(`pid-namespace exactly-once: ${total} messages, ${SENDERS} senders; per group ${JSON.stringify(figures)}\n`);
    for (const name of Object.keys(groups)) {
      expect(figures[name]).toEqual({ received: total, distinct: total, torn: 0, conflicting: 0, redelivered: 0 });
      expect(groups[name as keyof typeof groups].map((r) => r.message).sort()).toEqual([...all].sort());
    }
    // Both members of the shared group took part.
    expect(sharedIn.cli.lines.length).toBeGreaterThan(0);
    expect(sharedOut.lines.length).toBeGreaterThan(0);
    expect(after).toMatchObject({ releasedSlots: 0, redelivered: 0, sent: total });
  }, 180_000);

  const steps = ['send-intent', 'send-claimed', 'send-payload', 'send-publish'] as const;
  const SLOTS = 4;
  const laps = Array.from({ length: 3 * SLOTS }, (_, i) => `B:${String(i).padStart(2, '0')}-${'x'.repeat(20)}`);

  test.each(steps)('a sender inside stopped at %s keeps its claim while senders outside lap the ring; resumed, nothing is lost, doubled or torn', async (step) => {
    const file = await freshRing(SLOTS);
    const stopped = await inside.start(['send', '--file', file, 'A:stopped-inside'], { MMAPIPC_FAULT: step });
    await waitStopped(stopped.outerPid, `sender inside at ${step}`);
    const sender = new LiveCli(['send', '--file', file, ...laps]);
    const holdsClaim = step !== 'send-intent';
    if (holdsClaim) {
      // Its claim holds position 0, through many recovery rounds (every 50 ms while stuck).
      const blocked = await runCli(['receive', '--file', file, '--count', '1', '--timeout', '800ms']);
      expect(blocked.code).toBe(124);
      expect(blocked.stderr).toMatch(/blocked by pid \d+ \(another pid namespace, alive\)/);
      const stat = await statJson(file);
      expect(stat.releasedSlots).toBe(0);
      expect(stat.claims).toEqual(
        expect.arrayContaining([expect.objectContaining({ kind: 'send', pidNamespace: 'other', state: 'alive', from: 0 })]),
      );
      expect(stat.blockedBy).toMatch(/^blocked by pid \d+ \(another pid namespace, alive\).*, a sender that has not finished writing position 0$/);
    }
    const receiver = runCli(['receive', '--file', file, '--count', String(laps.length + 1), '--timeout', '20s']);
    if (!holdsClaim) await sender.exited;
    stopped.signal('SIGCONT');
    const [received, sent, first] = await Promise.all([receiver, sender.exited, stopped.cli.exited]);
    expect(first.code).toBe(0);
    expect(sent.code).toBe(0);
    expect(received.code).toBe(0);
    expect(texts(received).sort()).toEqual(['A:stopped-inside', ...laps].sort());
    expect(texts(received).filter((line) => line.startsWith('B:'))).toEqual(laps);
    expect(await statJson(file)).toMatchObject({ releasedSlots: 0, redelivered: 0 });
  }, 60_000);

  test.each(['receive-intent', 'receive-claimed', 'receive-handled', 'receive-ack'])('a member inside stopped at %s is not redelivered from outside; resumed, it finishes its own', async (step) => {
    const file = await freshRing(8, 'g');
    const first = ['m0', 'm1', 'm2', 'm3'];
    expect((await runCli(['send', '--file', file, ...first])).code).toBe(0);
    const member = await inside.start(['receive', '--file', file, '--group', 'g', '--count', '4'], { MMAPIPC_FAULT: step });
    await waitStopped(member.outerPid, `member inside at ${step}`);
    const handed = [...member.cli.lines];
    if (step === 'receive-handled' || step === 'receive-ack') expect(handed.length).toBeGreaterThan(0);
    const second = ['n0', 'n1', 'n2', 'n3'];
    expect((await runCli(['send', '--file', file, ...second])).code).toBe(0);
    // An outside member of the same group runs recovery while it waits; the stopped one is alive.
    const outside = await runCli(['receive', '--file', file, '--group', 'g', '--count', '4', '--timeout', '10s']);
    expect(outside.code).toBe(0);
    expect(texts(outside).filter((line) => handed.includes(line))).toEqual([]);
    member.signal('SIGCONT');
    expect((await member.cli.exited).code).toBe(0);
    const insideLines = member.cli.lines;
    process.stderr.write(`pid-namespace member stopped at ${step}: inside handed ${handed.length} before stopping, ${insideLines.length} in all; outside took ${texts(outside).length}\n`);
    expect([...insideLines, ...texts(outside)].sort()).toEqual([...first, ...second].sort());
    expect(await statJson(file)).toMatchObject({ releasedSlots: 0, redelivered: 0 });
  }, 60_000);

  test('a sender inside killed inside its claim is recovered from outside: its position released, the rest delivered', async () => {
    const file = await freshRing(SLOTS);
    const killed: InsideProcess = await inside.start(['send', '--file', file, 'A:killed-inside'], { MMAPIPC_FAULT: 'send-payload' });
    await waitStopped(killed.outerPid, 'sender inside at send-payload');
    killed.signal('SIGKILL');
    expect((await killed.cli.exited).code).not.toBe(0);
    const sender = runCli(['send', '--file', file, ...laps]);
    const received = await runCli(['receive', '--file', file, '--count', String(laps.length), '--timeout', '20s']);
    expect((await sender).code).toBe(0);
    expect(received.code).toBe(0);
    expect(texts(received)).toEqual(laps);
    const stat = await statJson(file);
    expect(stat).toMatchObject({ releasedSlots: 1, claims: [] });
  }, 60_000);

  test('a member inside killed after writing its messages out: a member outside takes its run over, marked redelivered', async () => {
    const file = await freshRing(8, 'g');
    expect((await runCli(['send', '--file', file, 'm0', 'm1', 'm2', 'm3'])).code).toBe(0);
    const member = await inside.start(['receive', '--file', file, '--group', 'g', '--count', '4'], { MMAPIPC_FAULT: 'receive-handled' });
    await waitStopped(member.outerPid, 'member inside at receive-handled');
    const handed = [...member.cli.lines];
    member.signal('SIGKILL');
    await member.cli.exited;
    const outside = await runCli(['receive', '--file', file, '--group', 'g', '--count', '4', '--json', '--timeout', '10s']);
    expect(outside.code).toBe(0);
    const taken = parse(texts(outside));
    expect(taken.map((r) => r.message).sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    // What the killed member had written out comes again, marked; the rest for the first time.
    expect(taken.filter((r) => r.deliveries > 0).map((r) => r.message).sort()).toEqual([...handed].sort());
    expect((await statJson(file)).redelivered).toBe(handed.length);
  }, 60_000);
});
