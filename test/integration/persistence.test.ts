/**
 * Persistence: a ring in a file keeps its unread messages when every process that used it has
 * exited, byte for byte; `send --sync` leaves each message in the file at its slot (and calls
 * msync once per message, seen with strace where strace is installed). See docs/persistence.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  ringGeometry,
  sequenceOffsetOf,
  slotOffsetOf,
  type RingGeometry,
} from '../../src/layout/ring-layout.js';
import { BIN, cliEnv, runCli } from '../helpers/cli.js';
import { PeerProcess } from '../helpers/peer-process.js';
import { tempDir } from '../helpers/temp.js';
import { requireTool } from '../helpers/tools.js';

const PERSIST_PEER = fileURLToPath(new URL('../fixtures/persist-peer.mjs', import.meta.url));
const dir = tempDir('mmapipc-persist-');
afterAll(() => dir.remove());

async function step(...args: string[]): Promise<string[]> {
  const peer = new PeerProcess(PERSIST_PEER, args);
  const exit = await peer.exited;
  expect({ exit, stderr: peer.stderr }).toEqual({ exit: { code: 0, signal: null }, stderr: '' });
  return peer.lines;
}

function geometry(slots: number, slotSize: number): RingGeometry {
  const result = ringGeometry(slots, slotSize);
  if (typeof result === 'string') throw new Error(result);
  return result;
}

/** What the file holds at the slot of `position`: its sequence word, length and payload. */
function slotInFile(bytes: Buffer, ring: RingGeometry, position: number) {
  const slot = slotOffsetOf(ring, position % ring.slotCount);
  const length = bytes.readUInt32LE(slot + SLOT_LENGTH);
  return {
    sequence: bytes.readUInt32LE(sequenceOffsetOf(ring, position % ring.slotCount)),
    payload: bytes.subarray(slot + SLOT_HEADER_LENGTH, slot + SLOT_HEADER_LENGTH + length).toString('utf8'),
  };
}

test('unread messages outlive the processes: sent by one, taken by the next ones, byte for byte', async () => {
  const ring = dir.file('restart.ring');
  const messages = [
    Buffer.alloc(0),
    Buffer.from([0x00, 0x0a, 0xff, 0x0d, 0x00]),
    Buffer.from('héllo, wörld ✓'),
    Buffer.alloc(64, 0xa5), // the largest message: a whole slot
    Buffer.from('last'),
  ].map((message) => message.toString('hex'));
  expect(await step('send', ring, ...messages)).toEqual([]);
  expect(await step('take', ring, '2')).toEqual([...messages.slice(0, 2), `left ${messages.length - 2}`]);
  expect(await step('take', ring, String(messages.length))).toEqual([...messages.slice(2), 'left 0']);
  expect(await step('take', ring, '1')).toEqual(['left 0']);
});

test('the CLI: what `send` left in a file is what a later `receive` prints', async () => {
  const ring = dir.file('cli-restart.ring');
  const sent = await runCli(['send', '--file', ring, 'one', 'two words', 'três']);
  expect({ code: sent.code, stderr: sent.stderr }).toEqual({ code: 0, stderr: '' });
  const received = await runCli(['receive', '--file', ring, '--count', '3', '--timeout', '5s']);
  expect({ code: received.code, stderr: received.stderr }).toEqual({ code: 0, stderr: '' });
  expect(received.stdoutBytes.equals(Buffer.from('one\ntwo words\ntrês\n'))).toBe(true);
});

test('`send --sync` exits 0 with every message committed in the file at its slot', async () => {
  const ring = dir.file('sync.ring');
  const slots = 4;
  const slotSize = 32;
  const messages = ['alpha', 'beta', 'gamma'];
  const sent = await runCli(['send', '--sync', '--file', ring, '--slots', String(slots), '--slot-size', String(slotSize), ...messages]);
  expect({ code: sent.code, stderr: sent.stderr }).toEqual({ code: 0, stderr: '' });

  const bytes = readFileSync(ring);
  const layout = geometry(slots, slotSize);
  expect(bytes.length).toBe(layout.fileLength);
  // Committed: the slot of position p reads p + 1, and holds the message.
  expect(messages.map((_, position) => slotInFile(bytes, layout, position))).toEqual(
    messages.map((payload, position) => ({ sequence: position + 1, payload })),
  );
});

const strace = requireTool('strace', 'the checks that `send --sync` msyncs per message') !== undefined;
(strace ? test : test.skip)('`send --sync` calls msync once per message, plain `send` never (strace)', () => {
  const count = (args: string[]) => {
    const ring = dir.file(`strace-${args.length}.ring`);
    const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=msync', process.execPath, BIN, 'send', '--file', ring, ...args], {
      env: cliEnv(),
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    return result.stderr.split('\n').filter((line) => /\bmsync\(/.test(line) && /= 0$/.test(line)).length;
  };
  expect(count(['--sync', 'a', 'b', 'c'])).toBe(3);
  expect(count(['a', 'b', 'c'])).toBe(0);
});

/*
 * Known gap: piped lines are sent in batches (one claim per run of free slots), and --sync then
 * flushes once per batch: 2000 piped lines gave one msync. `--sync` promises "after each
 * message, so it is on disk before the next" (its help, README, docs/persistence.md); either
 * --sync sends piped lines one at a time, or the promise becomes "after each batch".
 */
(strace ? test : test.skip)('`send --sync` with piped lines also calls msync once per message (strace)', () => {
  const ring = dir.file('strace-piped.ring');
  const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=msync', process.execPath, BIN, 'send', '--sync', '--file', ring, '--slots', '100'], {
    env: cliEnv(),
    encoding: 'utf8',
    input: `${lines.join('\n')}\n`,
  });
  expect(result.status).toBe(0);
  expect(result.stderr.split('\n').filter((line) => /\bmsync\(/.test(line) && /= 0$/.test(line)).length).toBe(lines.length);
});
