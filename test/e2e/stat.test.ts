import { readFileSync, writeFileSync } from 'node:fs';
import { FORMAT_VERSION, SLOT_LENGTH, ringGeometry, sequenceOffsetOf,
  slotOffsetOf, type RingGeometry } from '../../src/layout/ring-layout.js';
import { LiveCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

async function ok(args: string[], input?: string): Promise<string> {
  const result = await runCli(args, { input });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return result.stdout;
}

async function statJson(file: string): Promise<Record<string, any>> {
  return JSON.parse(await ok(['stat', '--json', '--file', file]));
}

test('an empty ring: geometry, no backlog, no totals, nobody attached', async () => {
  const file = dir.file('empty.ring');
  const before = Date.now();
  await ok(['create', '--file', file, '--slots', '8', '--slot-size', '32']);
  const geometry = ringGeometry(8, 32) as RingGeometry;
  const stat = await statJson(file);
  expect(stat).toMatchObject({
    file,
    fileBytes: geometry.fileLength,
    formatVersion: FORMAT_VERSION,
    slots: 8,
    slotSize: 32,
    maxMessageBytes: 8 * 64 - 32 - 40, // docs/format.md §2: N × align8(32 + S) − 32 − 40
    waiting: 0,
    free: 8,
    full: false,
    head: 0,
    tail: 0,
    sent: 0,
    received: 0,
    senders: { alive: 0, dead: 0 },
    receivers: { alive: 0, dead: 0 },
    participants: [],
    // Every ring has the default group (lossless, from 0), with no member until a receiver comes.
    groups: [
      {
        name: 'default',
        lossy: false,
        position: 0,
        floor: 0,
        lag: 0,
        inFlight: 0,
        redelivered: 0,
        missed: 0,
        gaps: 0,
        members: { alive: 0, dead: 0, pids: [] },
      },
    ],
    claims: [],
    blockedBy: null,
    lastActivity: null,
    idleMs: null,
    releasedSlots: 0,
    redelivered: 0,
    creatorAlive: false,
  });
  expect(Date.parse(stat.createdAt)).toBeGreaterThanOrEqual(before);
  expect(Date.parse(stat.createdAt)).toBeLessThanOrEqual(Date.parse(stat.time));
  expect(Object.keys(stat).sort()).toEqual(
    [
      'file', 'fileBytes', 'formatVersion', 'slots', 'slotSize', 'waiting', 'free', 'full', 'head', 'tail',
      'sent', 'received', 'delivered', 'senders', 'receivers', 'participants', 'groups', 'claims', 'blockedBy', 'lastActivity',
      'maxMessageBytes', 'idleMs',
      'releasedSlots', 'redelivered', 'creatorPid', 'creatorAlive', 'createdAt', 'time',
    ].sort(),
  );
});

test('a full ring: every slot waiting, marked full, red only when colour is on', async () => {
  const file = dir.file('full.ring');
  await ok(['send', '--file', file, '--slots', '3', 'a', 'b', 'c']);
  expect(await statJson(file)).toMatchObject({
    waiting: 3,
    free: 0,
    full: true,
    head: 0,
    tail: 3,
    sent: 3,
    received: 0,
    groups: [expect.objectContaining({ name: 'default', position: 0, lag: 3 })],
    blockedBy: 'blocked by group default, which has no members and holds 3 message(s) (receive with --group default, or mmapipc group rm default)',
  });
  const plain = await ok(['stat', '--file', file]);
  expect(plain).toMatch(/waiting\s+3 of 3\s+\[#+\] 100% full/);
  expect(plain).not.toContain('\x1b[');
  const coloured = await runCli(['stat', '--file', file], { env: { FORCE_COLOR: '1' } });
  expect(coloured.stdout).toContain('\x1b[31m###'); // red bar
});

test('a ring driven past the wrap of its slot index keeps counting positions and totals', async () => {
  const file = dir.file('wrapped.ring');
  const slots = 4;
  // Two rounds of `slots - 1` messages through the ring, then three more left waiting.
  const round = (n: number) => Array.from({ length: slots - 1 }, (_, i) => `r${n}m${i}`);
  for (const messages of [round(0), round(1)]) {
    await ok(['send', '--file', file, '--slots', String(slots), ...messages]);
    expect(await ok(['receive', '--file', file, '--count', String(messages.length)])).toBe(messages.map((m) => `${m}\n`).join(''));
  }
  await ok(['send', '--file', file, 'late0', 'late1', 'late2']);
  const stat = await statJson(file);
  const consumed = 2 * (slots - 1);
  expect(stat).toMatchObject({ head: consumed, tail: consumed + 3, waiting: 3, sent: consumed + 3, received: consumed, full: false, blockedBy: null });
  expect(stat.groups).toEqual([expect.objectContaining({ name: 'default', position: consumed, floor: consumed, lag: 3, inFlight: 0 })]);
  expect(stat.tail).toBeGreaterThan(slots);
  expect(stat.head % slots).toBe(consumed - slots); // the slot index wrapped; positions did not
});

test('a sender killed while attached shows as a dead sender', async () => {
  const file = dir.file('dead-sender.ring');
  const sender = new LiveCli(['send', '--json', '--file', file, '--slots', '2', 'one', 'two', 'three']);
  await sender.waitForLine('"message":"two"'); // the ring is full now: it waits to send "three"
  sender.child.kill('SIGKILL');
  expect(await sender.exited).toEqual({ code: null, signal: 'SIGKILL' });
  const stat = await statJson(file);
  expect(stat.participants).toEqual([{ pid: sender.child.pid, pidNamespace: 'same', role: 'sender', alive: false, state: 'dead', group: null, attachedAt: expect.any(String) }]);
  expect(stat).toMatchObject({ senders: { alive: 0, dead: 1 }, receivers: { alive: 0, dead: 0 }, waiting: 2, full: true, claims: [] });
  const human = await ok(['stat', '--file', file]);
  expect(human).toMatch(new RegExp(`senders\\s+0 alive, 1 dead`));
  expect(human).toMatch(new RegExp(`pid ${sender.child.pid}\\s+sender\\s+dead`));
});

test('a live receiver shows as alive, with its role', async () => {
  const file = dir.file('live.ring');
  await ok(['send', '--file', file, 'first']);
  const receiver = new LiveCli(['receive', '--json', '--count', '2', '--file', file]);
  await receiver.waitForLine('"message":"first"'); // attached, now waiting for a second message
  try {
    const stat = await statJson(file);
    expect(stat.participants).toEqual([
      { pid: receiver.child.pid, pidNamespace: 'same', role: 'receiver', alive: true, state: 'running', group: 'default', attachedAt: expect.any(String) },
    ]);
    expect(stat).toMatchObject({ receivers: { alive: 1, dead: 0 }, senders: { alive: 0, dead: 0 }, waiting: 0, sent: 1, received: 1 });
    expect(stat.groups).toEqual([expect.objectContaining({ name: 'default', position: 1, lag: 0, members: { alive: 1, dead: 0, pids: [receiver.child.pid] } })]);
    const human = await ok(['stat', '--file', file]);
    expect(human).toMatch(new RegExp(`pid ${receiver.child.pid}\\s+receiver\\s+alive.*group default`));
  } finally {
    receiver.child.kill('SIGINT');
  }
  expect((await receiver.exited).code).toBe(130);
});

test('--watch prints a new JSON line per second when piped, follows changes, and ends with 130 on SIGINT', async () => {
  const file = dir.file('watch.ring');
  await ok(['create', '--file', file, '--slots', '4']);
  const watch = new LiveCli(['stat', '--watch', '--json', '--file', file]);
  await watch.waitForLine('"waiting":0');
  await ok(['send', '--file', file, 'hello']);
  await watch.waitForLine('"waiting":1');
  watch.child.kill('SIGINT');
  expect(await watch.exited).toEqual({ code: 130, signal: null });
  expect(watch.lines.every((line) => typeof JSON.parse(line).time === 'string')).toBe(true);
  expect(watch.stderr).toBe('');
});

test('--watch without --json prints a new block per second when piped', async () => {
  const file = dir.file('watch-human.ring');
  await ok(['create', '--file', file]);
  const watch = new LiveCli(['stat', '--watch', '--file', file]);
  await watch.waitForLine('created');
  await ok(['send', '--file', file, 'x']);
  await watch.waitForLine(/waiting\s+1 of/);
  watch.child.kill('SIGINT');
  expect((await watch.exited).code).toBe(130);
  expect(watch.lines.filter((line) => line.startsWith(file)).length).toBeGreaterThanOrEqual(2);
  expect(watch.lines.join('\n')).not.toContain('\x1b[');
});

test('a missing file exits 1, a foreign file exits 3, each with one line naming the path', async () => {
  const missing = dir.file('missing.ring');
  const absent = await runCli(['stat', '--file', missing]);
  expect(absent.code).toBe(1);
  expect(absent.stderr).toMatch(new RegExp(`^mmapipc: ${missing}: no such ring file .*\\n$`));
  const foreign = dir.file('foreign.txt');
  writeFileSync(foreign, 'not a ring, just text that is long enough to have a magic\n');
  const bad = await runCli(['stat', '--file', foreign]);
  expect(bad.code).toBe(3);
  expect(bad.stderr).toMatch(new RegExp(`^mmapipc: ${foreign}: not a ring file .*\\n$`));
});

test('a corrupt slot is reported with exit 3, naming the slot; the file is left as it was', async () => {
  const file = dir.file('corrupt.ring');
  await ok(['send', '--file', file, '--slots', '4', '--slot-size', '16', 'a', 'b', 'c']);
  const geometry = ringGeometry(4, 16) as RingGeometry;
  const bytes = readFileSync(file);
  bytes.writeUInt32LE(0xdeadbeef, sequenceOffsetOf(geometry, 1));
  writeFileSync(file, bytes);
  const bad = await runCli(['stat', '--file', file]);
  expect(bad).toMatchObject({
    code: 3,
    stdout: '',
    stderr: `mmapipc: ${file}: corrupt ring: slot 1 has sequence word ${0xdeadbeef}, which no process of this ring writes (tail 3)\n`,
  });
  expect((await runCli(['stat', '--json', '--file', file])).code).toBe(3);
  bytes.writeUInt32LE(2, sequenceOffsetOf(geometry, 1)); // position 1 again
  bytes.writeUInt32LE(17, slotOffsetOf(geometry, 2) + SLOT_LENGTH);
  writeFileSync(file, bytes);
  expect(await runCli(['stat', '--file', file])).toMatchObject({
    code: 3,
    stderr: `mmapipc: ${file}: corrupt ring: the message at slot 2 has length 17; its 1 slot(s) hold 16 bytes of payload\n`,
  });
  expect(readFileSync(file).equals(bytes)).toBe(true);
});

test('--help documents every JSON field and gives examples', async () => {
  const help = await ok(['stat', '--help']);
  const file = dir.file('help.ring');
  await ok(['create', '--file', file]);
  const record = await statJson(file);
  const nested = [...record.groups, ...record.claims, ...record.participants].flatMap((entry: object) => Object.keys(entry));
  for (const field of new Set([...Object.keys(record), ...nested, 'kind', 'pid', 'from', 'count', 'ageMs'])) {
    expect(help).toMatch(new RegExp(`\\b${field}\\b`));
  }
  expect(help).not.toContain('positionLimit');
  expect(help).toContain('Examples:');
});
