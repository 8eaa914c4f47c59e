/**
 * The stop loop: senders and members of two lossless groups stream through a small ring while,
 * again and again, one or two of them at random are stopped (SIGSTOP) for a random while — often
 * longer than any timeout — and resumed. A stopped process is alive: nothing of its may be
 * released or taken over. At the end every group has every message exactly once, each sender's
 * order kept per member, no duplicate, nothing torn.
 *
 * MMAPIPC_STOP_SEED replays the choices; MMAPIPC_STOP_MS sets how long the stops go on (default 8 s).
 */
import { LiveCli, runCli } from '../helpers/cli.js';
import { until } from '../helpers/proc.js';
import { tempDir } from '../helpers/temp.js';
import { random } from '../helpers/random.js';

const SEED = Number(process.env.MMAPIPC_STOP_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STOPS_MS = Number(process.env.MMAPIPC_STOP_MS ?? 8_000);
const SENDERS = 3;
const PER_SENDER = 2000;
const SLOTS = 8;
/**
 * Mixed sizes (format v3): every fifth message is long, up to 600 bytes — up to 7 of the ring's
 * 8 slots of 64 bytes (stride 96) — so stops land inside multi-slot claims and runs too.
 */
const line = (s: number, i: number) => `s${s}:${i}${i % 5 === 4 ? `:${'x'.repeat((i * 37 + s) % 600)}` : ''}`;

const temp = tempDir('mmapipc-stop-');
afterAll(() => temp.remove());


const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test(`random SIGSTOP/SIGCONT of senders and members: every message exactly once in every group (seed ${SEED})`, async () => {
  const next = random(SEED);
  const file = temp.file('ring');
  expect((await runCli(['create', '--file', file, '--slots', String(SLOTS)])).code).toBe(0);
  expect((await runCli(['group', 'create', 'audit', '--file', file])).code).toBe(0);
  const total = SENDERS * PER_SENDER;
  const members = {
    default: [new LiveCli(['receive', '--file', file, '--follow']), new LiveCli(['receive', '--file', file, '--follow'])],
    audit: [new LiveCli(['receive', '--file', file, '--group', 'audit', '--follow'])],
  };
  const senders = Array.from({ length: SENDERS }, (_, s) => {
    // Paced (2 ms a message), so the stops land while messages still flow, however fast the machine.
    const sender = new LiveCli(['send', '--file', file, '--interval', '2ms']);
    sender.child.stdin!.end(Array.from({ length: PER_SENDER }, (_, i) => `${line(s, i)}\n`).join(''));
    return sender;
  });
  const everyone = [...senders, ...members.default, ...members.audit];
  const sendersDone = Promise.all(senders.map((sender) => sender.exited));
  let finished = false;
  void sendersDone.then(() => (finished = true));

  // The stops: one or two processes at a time, held 20 ms to 1.5 s, until the time is up.
  let stops = 0;
  const end = performance.now() + STOPS_MS;
  while (!finished && performance.now() < end) {
    const victims = new Set([everyone[Math.floor(next() * everyone.length)]!]);
    if (next() < 0.3) victims.add(everyone[Math.floor(next() * everyone.length)]!);
    for (const victim of victims) victim.child.kill('SIGSTOP');
    await pause(20 + next() * (next() < 0.2 ? 1500 : 200));
    for (const victim of victims) victim.child.kill('SIGCONT');
    stops += victims.size;
    await pause(next() * 100);
  }
  for (const process of everyone) process.child.kill('SIGCONT');
  const sent = await sendersDone;
  for (const result of sent) expect(result.code).toBe(0);

  const count = (list: LiveCli[]) => list.reduce((sum, member) => sum + member.lines.length, 0);
  await until(() => count(members.default) >= total && count(members.audit) >= total, 'both groups have everything', 60_000);
  const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
  for (const member of [...members.default, ...members.audit]) member.child.kill('SIGTERM');
  await Promise.all([...members.default, ...members.audit].map((member) => member.exited));

  const expected = new Set(Array.from({ length: SENDERS }, (_, s) => Array.from({ length: PER_SENDER }, (_, i) => line(s, i))).flat());
  for (const [name, list] of Object.entries(members)) {
    const got = list.flatMap((member) => member.lines);
    expect({ group: name, count: got.length }).toEqual({ group: name, count: total });
    expect(new Set(got)).toEqual(expected);
    for (const member of list) {
      const last = new Map<string, number>();
      for (const received of member.lines) {
        const [sender, index] = received.split(':');
        expect(Number(index)).toBeGreaterThan(last.get(sender!) ?? -1);
        last.set(sender!, Number(index));
      }
    }
  }
  // Nothing was released or taken over: everyone stopped was alive.
  expect(stat.releasedSlots).toBe(0);
  expect(stat.redelivered).toBe(0);
  console.info(`stop loop: ${stops} stops of senders and members, ${total} messages, every one exactly once in both groups, one in five of up to 7 slots (seed ${SEED})`);
  expect(stops).toBeGreaterThan(3);
}, 180_000);
