/**
 * The kill loop: 4 senders and 2 receivers stream through one ring while, round after round, a
 * random one of them is killed with SIGKILL at a random moment and replaced. At the end every
 * message a sender reported as sent must have been received, none torn, duplicates only where a
 * receiver was killed holding its batch, each sender's messages in its order, and every position
 * of the ring either delivered or counted as released.
 *
 * MMAPIPC_KILL_SEED=<n> replays the choices of a run (the moments still depend on timing).
 * By default it runs as many of 200 rounds as fit in 25 s (a round takes 0.2-0.7 s on 2 busy
 * cores: mostly the start-up of the replacement); MMAPIPC_KILL_ROUNDS=200 runs exactly 200.
 */
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { collect, runCli } from '../helpers/cli.js';
import { PeerProcess } from '../helpers/peer-process.js';
import { tempDir } from '../helpers/temp.js';
import { random } from '../helpers/random.js';

const SENDER = fileURLToPath(new URL('../fixtures/kill-sender.mjs', import.meta.url));
const RECEIVER = fileURLToPath(new URL('../fixtures/kill-receiver.mjs', import.meta.url));
const VERIFY = fileURLToPath(new URL('../fixtures/kill-verify.mjs', import.meta.url));
const SEED = Number(process.env.MMAPIPC_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Exactly this many rounds when MMAPIPC_KILL_ROUNDS is set; else up to 200 within ROUNDS_BUDGET_MS. */
const ROUNDS = Number(process.env.MMAPIPC_KILL_ROUNDS ?? 200);
const ROUNDS_BUDGET_MS = process.env.MMAPIPC_KILL_ROUNDS === undefined ? 25_000 : Infinity;
const SENDERS = 4;
const RECEIVERS = 2;
/** Slots of the ring: small, so that senders wrap it often and meet held slots. */
const SLOTS = 64;
/** A progress line every this many messages: the events the kill moments are chosen from. */
const PROGRESS_EVERY = 40;
/** No progress for this long is a wedge (recovery acts within ~1 s of a death; there is no stall timeout). */
const WEDGE_MS = 20_000;

const dir = tempDir('mmapipc-kill-');
/** The logs of a failed run are kept for a look. */
let keepLogs = false;
afterAll(() => {
  if (!keepLogs) dir.remove();
});


type Role = 'sender' | 'receiver';
interface Peer {
  readonly role: Role;
  readonly name: string;
  readonly log: string;
  readonly process: PeerProcess;
  killed: boolean;
}

const ring = dir.file('kill.ring');
const env = { RING_SLOTS: String(SLOTS), SENDER_PAUSE_MS: '1' };
const progress = (line: string) => line.startsWith('sent ') || line.startsWith('got ');
let names = 0;

/**
 * Processes are started ahead of time as spares (loaded, waiting on stdin), so that a
 * replacement joins within milliseconds of the kill instead of after a node start-up.
 */
function spawnSpare(role: Role, rng: () => number): Peer {
  const name = `${role === 'sender' ? 's' : 'r'}${names++}`;
  const log = dir.file(`${name}.log`);
  const spareEnv = { ...env, STANDBY: '1' };
  const process =
    role === 'sender'
      ? new PeerProcess(SENDER, [ring, name, log, String(PROGRESS_EVERY)], spareEnv, 'pipe')
      : new PeerProcess(RECEIVER, [ring, log, String(PROGRESS_EVERY), rng() < 0.5 ? 'batch' : 'single'], spareEnv, 'pipe');
  return { role, name, log, process, killed: false };
}

const spares = new Map<Role, Peer>();

/** Puts the spare of `role` to work (and starts the next spare). */
async function start(role: Role, rng: () => number): Promise<Peer> {
  const peer = spares.get(role) ?? spawnSpare(role, rng);
  spares.set(role, spawnSpare(role, rng));
  await peer.process.waitForLine(/^standby$/, WEDGE_MS, `${peer.name} loading`);
  peer.process.tell('go');
  await peer.process.waitForLine(/^ready$/, WEDGE_MS, `${peer.name} starting`);
  return peer;
}

/** Runs kill-verify.mjs over the logs of `all` (see there for what it checks). */
async function verify(all: Peer[]): Promise<{ problems: string[]; figures: Record<string, number> }> {
  const manifest = dir.file('manifest.json');
  const peers = all.map(({ role, name, log, killed }) => ({ role, name, log, killed }));
  writeFileSync(manifest, JSON.stringify({ ring, peers }));
  const result = await collect(spawn(process.execPath, [VERIFY, manifest], { stdio: 'pipe' }));
  if (result.code !== 0) throw new Error(`kill-verify.mjs failed (${result.code ?? result.signal}): ${result.stderr}`);
  return JSON.parse(result.stdout) as { problems: string[]; figures: Record<string, number> };
}

test(
  `a 4-sender, 2-receiver stream survives up to ${ROUNDS} rounds of SIGKILL: nothing reported sent is lost, nothing torn, duplicates only from killed receivers`,
  async () => {
    const rng = random(SEED);
    const started = performance.now();
    const all: Peer[] = [];
    const live: Record<Role, Peer[]> = { sender: [], receiver: [] };
    for (let i = 0; i < RECEIVERS; i++) live.receiver.push(await start('receiver', rng));
    for (let i = 0; i < SENDERS; i++) live.sender.push(await start('sender', rng));
    all.push(...live.receiver, ...live.sender);
    const history: string[] = [];
    const context = () => `seed ${SEED} (MMAPIPC_KILL_SEED=${SEED} MMAPIPC_KILL_ROUNDS=${ROUNDS}); last rounds: ${history.slice(-5).join('; ')}`;

    try {
      let rounds = 0;
      for (let round = 0; round < ROUNDS && performance.now() - started < ROUNDS_BUDGET_MS; round++) {
        rounds++;
        const role: Role = rng() < 0.5 ? 'sender' : 'receiver';
        const index = Math.floor(rng() * live[role].length);
        const victim = live[role][index]!;
        // The moment: after 0-3 more progress lines of the victim, then 0-2 ms more.
        const lines = Math.floor(rng() * 4);
        const delayMs = Math.floor(rng() * 3);
        history.push(`round ${round}: ${victim.name} (pid ${victim.process.pid}) after ${lines} lines + ${delayMs} ms`);
        await victim.process.waitForCount(progress, victim.process.count(progress) + lines, WEDGE_MS, `round ${round}, ${victim.name}`);
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        victim.killed = true;
        victim.process.kill('SIGKILL');
        const exit = await victim.process.exited;
        if (exit.signal !== 'SIGKILL') throw new Error(`${victim.name} ended by ${exit.code ?? exit.signal} before the kill: ${victim.process.stderr}`);
        const killedAt = performance.now();
        const replacement = await start(role, rng);
        if (process.env.MMAPIPC_KILL_TRACE) console.log(`${history.at(-1)}: killed at ${Math.round(killedAt - started)} ms, replaced in ${Math.round(performance.now() - killedAt)} ms`);
        live[role][index] = replacement;
        all.push(replacement);
      }
      const roundsMs = performance.now() - started;

      // Stop the senders, then end the receivers one at a time with one END each.
      for (const peer of live.sender) peer.process.kill('SIGTERM');
      const senderExits = await Promise.all(live.sender.map((peer) => peer.process.exited));
      expect(senderExits).toEqual(live.sender.map(() => ({ code: 0, signal: null })));
      if (process.env.MMAPIPC_KILL_TRACE) console.log(`senders stopped at ${Math.round(performance.now() - started)} ms`);
      const running = new Set(live.receiver);
      while (running.size > 0) {
        const sent = await runCli(['send', '--file', ring, 'END']);
        expect(sent.code).toBe(0);
        const ended = await Promise.race(
          [...running].map((peer) =>
            peer.process.waitForLine(/^end /, WEDGE_MS, `${peer.name} draining`).then(() => peer),
          ),
        );
        expect(await ended.process.exited).toEqual({ code: 0, signal: null });
        running.delete(ended);
      }

      if (process.env.MMAPIPC_KILL_TRACE) console.log(`drained at ${Math.round(performance.now() - started)} ms`);
      const { problems, figures } = await verify(all);
      if (process.env.MMAPIPC_KILL_TRACE) console.log(`verified at ${Math.round(performance.now() - started)} ms`);
      const stderr = all.filter((peer) => !peer.killed && peer.process.stderr !== '').map((peer) => `${peer.name}: ${peer.process.stderr}`);
      console.log(
        `kill loop: ${JSON.stringify({ seed: SEED, rounds, roundsMs: Math.round(roundsMs), totalMs: Math.round(performance.now() - started), processes: all.length, ...figures })}`,
      );
      expect({ problems, stderr, context: problems.length > 0 ? context() : '' }).toEqual({ problems: [], stderr: [], context: '' });
      expect(figures.sent).toBeGreaterThan(0);
      expect(rounds).toBeGreaterThanOrEqual(Math.min(ROUNDS, 10));
    } catch (error) {
      keepLogs = true;
      throw new Error(`${(error as Error).message}\n${context()}\nlogs kept in ${dir.path}: ${readdirSync(dir.path).length} files`);
    } finally {
      for (const peer of [...live.sender, ...live.receiver, ...spares.values()]) if (!peer.process.exit) peer.process.kill('SIGKILL');
    }
  },
  180_000,
);
