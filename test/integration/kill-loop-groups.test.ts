/**
 * The kill loop with consumer groups: senders and the members of two lossless groups stream
 * through a small ring while, round after round, a random one is killed with SIGKILL and replaced.
 * At the end every message a sender reported as sent is in every group's logs, none torn, each
 * group's duplicates only second deliveries of a dead member's batch (logged with deliveries > 0).
 * MMAPIPC_KILL_SEED replays the choices; rounds run for MMAPIPC_KILL_GROUPS_MS (default 15 s).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { PeerProcess } from '../helpers/peer-process.js';
import { tempDir } from '../helpers/temp.js';
import { parseMessage } from '../fixtures/kill-message.mjs';
import { random } from '../helpers/random.js';

const SENDER = fileURLToPath(new URL('../fixtures/kill-sender.mjs', import.meta.url));
const MEMBER = fileURLToPath(new URL('../fixtures/group-member.mjs', import.meta.url));
const SEED = Number(process.env.MMAPIPC_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BUDGET_MS = Number(process.env.MMAPIPC_KILL_GROUPS_MS ?? 15_000);
const GROUPS = ['default', 'audit'];

const dir = tempDir('mmapipc-killg-');
afterAll(() => dir.remove());


interface Peer {
  kind: 'sender' | 'member';
  group?: string;
  process: PeerProcess;
}

test(`SIGKILL of senders and members of two lossless groups: nothing missing in any group (seed ${SEED})`, async () => {
  const next = random(SEED);
  const ring = dir.file('ring');
  expect((await runCli(['create', '--file', ring, '--slots', '32'])).code).toBe(0);
  expect((await runCli(['group', 'create', 'audit', '--file', ring])).code).toBe(0);
  let serial = 0;
  const start = (kind: 'sender' | 'member', group?: string): Peer => {
    const id = String(1000 + serial++);
    const process =
      kind === 'sender'
        ? new PeerProcess(SENDER, [ring, id, dir.file(`sent-${id}.log`), '50'], { RING_SLOTS: '32', SENDER_PAUSE_MS: '1' })
        : new PeerProcess(MEMBER, [ring, group!, dir.file(`got-${group}-${id}.log`)]);
    return { kind, group, process };
  };
  const peers: Peer[] = [start('sender'), start('sender'), ...GROUPS.flatMap((g) => [start('member', g), start('member', g)])];
  await Promise.all(peers.map((peer) => peer.process.waitUntil(() => peer.process.lines.includes('ready'), 20_000, 'ready')));

  let rounds = 0;
  const end = performance.now() + BUDGET_MS;
  while (performance.now() < end) {
    const index = Math.floor(next() * peers.length);
    const victim = peers[index]!;
    const seen = victim.process.lines.length;
    // Kill it after it has made some progress since it started (a random number of lines).
    const wanted = seen + 1 + Math.floor(next() * 3);
    await victim.process.waitUntil(() => victim.process.lines.length >= wanted, 20_000, `progress of ${victim.kind}`);
    victim.process.child.kill('SIGKILL');
    await victim.process.exited;
    const replacement = start(victim.kind, victim.group);
    peers[index] = replacement;
    await replacement.process.waitUntil(() => replacement.process.lines.includes('ready'), 20_000, 'ready');
    rounds++;
  }

  // Stop the senders; then every group must end up with everything they logged as sent.
  const senders = peers.filter((peer) => peer.kind === 'sender');
  for (const sender of senders) sender.process.child.kill('SIGTERM');
  await Promise.all(senders.map((sender) => sender.process.exited));
  const sent = new Set<string>();
  for (const name of readdirSync(dir.path).filter((n) => n.startsWith('sent-'))) {
    const id = name.slice(5, -4);
    for (const seq of readFileSync(dir.file(name), 'utf8').split('\n').filter(Boolean)) sent.add(`${id}:${seq}`);
  }
  const logsOf = (group: string) =>
    readdirSync(dir.path)
      .filter((n) => n.startsWith(`got-${group}-`))
      .flatMap((n) => readFileSync(dir.file(n), 'latin1').split('\n').filter(Boolean));
  const received = (group: string) => new Set(logsOf(group).map((line) => {
    const parsed = parseMessage(line.split(' ').slice(2).join(' ')) as { sender: string; seq: number } | null;
    return parsed ? `${parsed.sender}:${parsed.seq}` : 'torn';
  }));
  const deadline = performance.now() + 60_000;
  const complete = () => GROUPS.every((g) => {
    const got = received(g);
    return [...sent].every((m) => got.has(m));
  });
  while (!complete()) {
    if (performance.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const peer of peers) peer.process.child.kill('SIGTERM');
  await Promise.all(peers.map((peer) => peer.process.exited));

  for (const group of GROUPS) {
    const lines = logsOf(group);
    const got = received(group);
    expect({ group, torn: got.has('torn') }).toEqual({ group, torn: false });
    const missing = [...sent].filter((m) => !got.has(m));
    expect({ group, missing: missing.slice(0, 5), count: missing.length }).toEqual({ group, missing: [], count: 0 });
    // A message logged twice: one of its deliveries is a redelivery of a dead member's batch.
    const bySequence = new Map<string, number[]>();
    for (const line of lines) {
      const [deliveries, sequence] = line.split(' ');
      bySequence.set(sequence!, [...(bySequence.get(sequence!) ?? []), Number(deliveries)]);
    }
    const badDuplicates = [...bySequence.entries()].filter(([, list]) => list.length > 1 && list.every((d) => d === 0));
    expect({ group, badDuplicates }).toEqual({ group, badDuplicates: [] });
  }
  const duplicates = GROUPS.map((group) => logsOf(group).filter((line) => !line.startsWith('0 ')).length);
  console.info(`kill loop with groups: ${rounds} kills, ${sent.size} messages reported sent, redelivered lines per group ${duplicates.join(' / ')} (seed ${SEED})`);
  expect(rounds).toBeGreaterThan(5);
  expect(sent.size).toBeGreaterThan(1000);
}, 180_000);
