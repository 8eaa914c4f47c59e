/**
 * The bridge kill loop: 20 rounds per direction and engine, each starting a bridge and
 * SIGKILLing it at a random moment (after a random number of its commits, plus a random few
 * milliseconds) while the far side keeps producing. Afterwards:
 * - export: the stream holds every message the senders sent exactly once, in ring order (ring
 *   sequences one after the other, each sender's messages in its order);
 * - import: the ring got every message of the stream, each with its origin, duplicates only
 *   from the one commit a killed bridge had not recorded (a rewind of at most one --batch).
 *
 * MMAPIPC_BRIDGE_KILL_SEED=<n> replays a run's choices (the moments still depend on timing);
 * BRIDGE_KILL_DEBUG=1 prints the notes of each killed bridge.
 */
import { runCli } from '../helpers/cli.js';
import {
  EVENT_DEADLINE_MS,
  events,
  finished,
  killStragglers,
  peerReport,
  startBridge,
  startPeer,
  type ExportCheck,
  type ImportReport,
} from '../helpers/bridge.js';
import type { PeerProcess } from '../helpers/peer-process.js';
import { describeWith, NatsServer, RedisServer } from '../helpers/servers.js';
import { tempDir } from '../helpers/temp.js';
import { random } from '../helpers/random.js';

const ROUNDS = Number(process.env.MMAPIPC_BRIDGE_KILL_ROUNDS ?? 20);
const SEED = Number(process.env.MMAPIPC_BRIDGE_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SENDERS = 2;
/** Messages per 2 ms tick of each producer. */
const PER_TICK = 10;
const MAX_BATCH = 200;

const dir = tempDir('mmapipc-bridge-kill-');


async function createRing(path: string): Promise<void> {
  expect((await runCli(['create', '--file', path, '--slots', '1024', '--slot-size', '256'])).stderr).toBe('');
}

/** Starts a bridge, waits for 1-2 of its commits and a few random ms more, then SIGKILLs it. */
async function killAtRandom(args: string[], next: () => number, round: number): Promise<number> {
  const began = performance.now();
  const batch = 20 + Math.floor(next() * (MAX_BATCH - 20));
  const bridge = startBridge([...args, '--batch', String(batch)]);
  const commits = 1 + Math.floor(next() * 2);
  await bridge.waitUntil(() => events(bridge, 'commit').length >= commits, EVENT_DEADLINE_MS, `round ${round}: ${commits} commits (seed ${SEED})`);
  const jitterMs = next() * 5;
  if (jitterMs >= 1) await new Promise((resolve) => setTimeout(resolve, jitterMs)); // the random moment itself, not a synchronisation
  bridge.kill('SIGKILL');
  if (process.env.BRIDGE_KILL_DEBUG) for (const note of events(bridge, 'note')) process.stderr.write(`round ${round}: ${JSON.stringify(note)} after ${Math.round(performance.now() - began)} ms\n`);
  const exit = await bridge.exited;
  expect(exit.signal).toBe('SIGKILL');
  return performance.now() - began;
}

/** The rounds, one after the other; returns the longest round in ms. */
async function rounds(args: string[], next: () => number): Promise<number> {
  let longest = 0;
  for (let round = 1; round <= ROUNDS; round++) longest = Math.max(longest, await killAtRandom(args, next, round));
  return Math.round(longest);
}

async function stopAll(producers: PeerProcess[]): Promise<number> {
  for (const producer of producers) producer.tell('stop');
  let total = 0;
  for (const producer of producers) total += Number((await finished(producer, 'producer')).split(' ')[1]);
  return total;
}

type Engine = 'nats' | 'redis';

function engineArgs(engine: Engine, server: NatsServer | RedisServer, name: string): string[] {
  return engine === 'nats' ? ['--nats', server.url, '--stream', name] : ['--redis', server.url, '--key', name];
}

async function exportKillLoop(engine: Engine, server: NatsServer | RedisServer): Promise<void> {
  const next = random(SEED ^ (engine === 'nats' ? 1 : 2));
  const ring = dir.file(`export-${engine}.ring`);
  const name = `KILL_EXPORT_${engine}`;
  await createRing(ring);
  // The ring feeds the export alone, from its first message: the export's group exists before
  // the senders start (a bridge replaces `default` only when nothing waits for it).
  expect((await runCli(['group', 'create', `bridge-export-${engine}-${name}`, '--from', 'earliest', '--file', ring])).code).toBe(0);
  expect((await runCli(['group', 'rm', 'default', '--file', ring])).code).toBe(0);
  const senders = Array.from({ length: SENDERS }, (_, sender) => startPeer(['send-loop', ring, String(sender), String(PER_TICK)], 'pipe'));
  const args = ['export', '--file', ring, ...engineArgs(engine, server, name), '--create-stream'];
  const started = performance.now();
  const longestMs = await rounds(args, next);
  const loopMs = Math.round(performance.now() - started);
  const sent = await stopAll(senders);
  await finished(startBridge([...args, '--once']), 'the last export');
  const check = await peerReport<ExportCheck>([engine === 'nats' ? 'check-nats' : 'check-redis', engine === 'nats' ? server.url : (server as RedisServer).socket, name, 'senders']);
  expect({ ...check, sent }).toMatchObject({ count: sent, firstRingSeq: 0, lastRingSeq: sent - 1, gaps: 0, repeats: 0, mismatches: 0, firstProblem: null });
  process.stderr.write(`bridge kill loop, export to ${engine}: ${ROUNDS} SIGKILLs in ${loopMs} ms (longest round ${longestMs} ms), ${sent} messages, each stored once in ring order (seed ${SEED})\n`);
}

async function importKillLoop(engine: Engine, server: NatsServer | RedisServer): Promise<void> {
  const next = random(SEED ^ (engine === 'nats' ? 3 : 4));
  const ring = dir.file(`import-${engine}.ring`);
  const name = `KILL_IMPORT_${engine}`;
  await createRing(ring);
  if (engine === 'nats') {
    expect(await finished(startPeer(['nats-stream', server.url, 'add', JSON.stringify({ name, subjects: [name] })]), 'stream')).toBe('ok');
  }
  const publisher =
    engine === 'nats'
      ? startPeer(['publish-loop-nats', server.url, name, name, String(PER_TICK)], 'pipe')
      : startPeer(['publish-loop-redis', (server as RedisServer).socket, name, String(PER_TICK)], 'pipe');
  // Redis has no stream until the first XADD: the first import must not start before it.
  await publisher.waitForLine(/^publishing$/, 30_000, `${engine} publisher's first batch`);
  const receiver = startPeer(['receive-ring', ring, '0'], 'pipe');
  const args = ['import', '--file', ring, ...engineArgs(engine, server, name)];
  const started = performance.now();
  const longestMs = await rounds(args, next);
  const loopMs = Math.round(performance.now() - started);
  const published = await stopAll([publisher]);
  const last = startBridge(args);
  receiver.tell(`expect ${published}`);
  const report = JSON.parse(await finished(receiver, 'receiver')) as ImportReport;
  last.kill('SIGTERM');
  await finished(last, 'the last import');
  expect(report).toMatchObject({ distinct: published, unframed: 0, outOfOrder: 0, mismatches: 0 });
  // A killed import repeats at most the one commit it had not recorded: a rewind of at most one batch.
  expect(report.maxRewind).toBeLessThanOrEqual(MAX_BATCH);
  expect(report.duplicates).toBeLessThanOrEqual(ROUNDS * MAX_BATCH);
  process.stderr.write(
    `bridge kill loop, import from ${engine}: ${ROUNDS} SIGKILLs in ${loopMs} ms (longest round ${longestMs} ms), ${published} messages, all delivered, ${report.duplicates} repeated in ${report.rewinds} rewinds (longest ${report.maxRewind}) (seed ${SEED})\n`,
  );
}

// The two engines' loops run side by side: each round is mostly the start-up of a process.
describeWith('nats-server', 'bridge kill loop', () => {
  describeWith('redis-server', 'with NATS JetStream and Redis Streams', () => {
    let nats: NatsServer;
    let redis: RedisServer;
    beforeAll(async () => {
      [nats, redis] = await Promise.all([NatsServer.start(), RedisServer.start()]);
    });
    afterEach(killStragglers);
    afterAll(async () => {
      await Promise.all([nats?.dispose(), redis?.dispose()]);
      dir.remove();
    });

    test(`export: ${ROUNDS} SIGKILLs at random moments per engine lose nothing and store nothing twice`, async () => {
      await Promise.all([exportKillLoop('nats', nats), exportKillLoop('redis', redis)]);
    }, 120_000);
    test(`import: ${ROUNDS} SIGKILLs at random moments per engine lose nothing; repeats only the unrecorded commit`, async () => {
      await Promise.all([importKillLoop('nats', nats), importKillLoop('redis', redis)]);
    }, 120_000);
  });
});
