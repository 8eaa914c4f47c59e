/**
 * Messages of every size (format v3): every length from 0 to the ring's largest round-trips
 * between real processes, binary and UTF-8, through the library and the CLI, and one byte more
 * is refused (MessageTooLargeError, exit 5) with nothing sent; a mixed-size stream reaches three
 * groups with exact accounting — two lossless groups (one of two members in two processes) get
 * every message once, byte for byte, a lossy one that is lapped accounts for every position as
 * delivered, missed or skipped — and a replay from the earliest position gives the messages
 * still in the ring byte for byte.
 */
import { fileURLToPath } from 'node:url';
import { LiveCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { sizedMessage, sizedText, streamLengths } from '../fixtures/sized-message.mjs';
import { EXTENSION_RESERVE, SLOT_HEADER_LENGTH } from '../../src/layout/ring-layout.js';

const PEER = fileURLToPath(new URL('../fixtures/sized-peer.mjs', import.meta.url));
const temp = tempDir('mmapipc-sizes-');
afterAll(() => temp.remove());

/** 8 slots of 16 bytes: stride 48, largest message 8 x 48 - 32 - 40 = 312 bytes (docs/format.md §2). */
const SMALL = { slots: 8, slotSize: 16, stride: 48, max: 312 };

function peer(args: string[], env: NodeJS.ProcessEnv = {}): LiveCli {
  return new LiveCli(args, { script: PEER, env, stdin: 'ignore' });
}

interface Received {
  sequence: number;
  deliveries: number;
  data: Buffer;
}

function parse(lines: string[]): { messages: Received[]; gaps: Array<{ from: number; count: number }> } {
  const messages: Received[] = [];
  const gaps: Array<{ from: number; count: number }> = [];
  for (const line of lines) {
    const [a, b, c] = line.split(' ');
    if (a === 'gap') gaps.push({ from: Number(b), count: Number(c) });
    else if (a !== 'ready') messages.push({ sequence: Number(a), deliveries: Number(b), data: Buffer.from(c ?? '', 'base64') });
  }
  return { messages, gaps };
}

/**
 * Where each message of a one-sender stream lands (docs/format.md §6.1): span = ceil((32 + L) /
 * stride), and a message that would cross the end of the ring starts at the next lap's slot 0
 * after padding. Returns each message's sequence and span, and the padding positions.
 */
function layoutOf(lengths: number[], slots: number, stride: number) {
  let tail = 0;
  const placed: Array<{ sequence: number; span: number }> = [];
  const padding = new Set<number>();
  for (const length of lengths) {
    const span = Math.max(1, Math.ceil((SLOT_HEADER_LENGTH + length) / stride));
    if ((tail % slots) + span > slots) {
      while (tail % slots !== 0) padding.add(tail++);
    }
    placed.push({ sequence: tail, span });
    tail += span;
  }
  return { placed, padding, tail };
}

describe('every size from 0 to the largest message', () => {
  const lengths = Array.from({ length: SMALL.max + 1 }, (_, length) => length);

  test('round-trips between two processes through the library, binary and UTF-8; one byte more is MessageTooLargeError with nothing sent', async () => {
    const file = temp.file('sizes-lib');
    const env = { RING_SLOTS: String(SMALL.slots), RING_SLOT_SIZE: String(SMALL.slotSize) };
    expect((await runCli(['create', '--file', file, '--slots', String(SMALL.slots), '--slot-size', String(SMALL.slotSize)])).code).toBe(0);
    const receiver = peer(['receive', file, 'default'], env);
    await receiver.waitForLine('ready');
    const sender = peer(['sizes', file, String(SMALL.max)], env);
    expect(await sender.exited).toEqual({ code: 0, signal: null });
    expect(sender.lines).toEqual([`too-large MessageTooLargeError 5 ${SMALL.max}`, `sent ${2 * lengths.length}`]);
    expect((await runCli(['send', '--file', file, 'END'])).code).toBe(0);
    expect(await receiver.exited).toEqual({ code: 0, signal: null });
    const { messages } = parse(receiver.lines);
    const expected = lengths.flatMap((length) => [sizedMessage('b', length), Buffer.from(sizedText(length), 'utf8')]);
    expect(messages.map((m) => m.data.length)).toEqual(expected.map((data) => data.length));
    const wrong = messages.filter((m, i) => !m.data.equals(expected[i]!)).map((m) => m.sequence);
    expect(wrong).toEqual([]);
    const { placed } = layoutOf(expected.map((data) => data.length), SMALL.slots, SMALL.stride);
    expect(messages.map((m) => m.sequence)).toEqual(placed.map((p) => p.sequence));
    // Nothing of the refused message reached the ring: every message counted was one of ours (and END).
    const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
    expect(stat.sent).toBe(expected.length + 1);
  }, 60_000);

  test('round-trips through the CLI with --framing length; one byte more exits 5 and sends nothing', async () => {
    const file = temp.file('sizes-cli');
    expect((await runCli(['create', '--file', file, '--slots', String(SMALL.slots), '--slot-size', String(SMALL.slotSize)])).code).toBe(0);
    const frame = (data: Buffer) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(data.length);
      return Buffer.concat([length, data]);
    };
    const messages = lengths.flatMap((length) => [sizedMessage('c', length), Buffer.from(sizedText(length), 'utf8')]);
    const input = Buffer.concat(messages.map(frame));
    const receiver = runCli(['receive', '--file', file, '--framing', 'length', '--count', String(messages.length), '--timeout', '30s']);
    const sent = await runCli(['send', '--file', file, '--framing', 'length', '--quiet', '--timeout', '30s'], { input });
    expect(sent.code).toBe(0);
    const received = await receiver;
    expect(received.code).toBe(0);
    expect(received.stdoutBytes.length).toBe(input.length);
    expect(received.stdoutBytes.equals(input)).toBe(true);

    const tooLarge = await runCli(['send', '--file', file, '--framing', 'length'], { input: frame(sizedMessage('c', SMALL.max + 1)) });
    expect(tooLarge.code).toBe(5);
    expect(tooLarge.stderr).toContain(`largest message this ring takes (${SMALL.max} bytes)`);
    const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
    expect({ sent: stat.sent, waiting: stat.waiting }).toEqual({ sent: messages.length, waiting: 0 });
  }, 60_000);
});

test('a mixed-size stream through three groups: lossless ones get every message once byte for byte, a lapped lossy one accounts for every position; replay from earliest is byte for byte', async () => {
  const SLOTS = 64;
  const SLOT_SIZE = 64;
  const STRIDE = 96;
  const MAX = SLOTS * STRIDE - SLOT_HEADER_LENGTH - EXTENSION_RESERVE; // 6072
  const COUNT = 1500;
  const SEED = 1818;
  const env = { RING_SLOTS: String(SLOTS), RING_SLOT_SIZE: String(SLOT_SIZE) };
  const file = temp.file('mixed');
  expect((await runCli(['create', '--file', file, '--slots', String(SLOTS), '--slot-size', String(SLOT_SIZE)])).code).toBe(0);
  const stat0 = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
  expect(stat0.slots).toBe(SLOTS);

  const members = {
    default: [peer(['receive', file, 'default'], env), peer(['receive', file, 'default'], env)],
    audit: [peer(['receive', file, 'audit'], env)],
    metrics: [peer(['receive', file, 'metrics', 'lossy', 'pause'], env)],
  };
  const all = Object.values(members).flat();
  await Promise.all(all.map((member) => member.waitForLine('ready')));
  const lengths = streamLengths(COUNT, SEED, MAX);
  const sender = peer(['stream', file, String(COUNT), String(SEED), String(MAX), '2'], env);
  expect(await sender.exited).toEqual({ code: 0, signal: null });
  expect(sender.stderr).toBe('');
  // Two ENDs: one for each member of default; audit and metrics stop at the first.
  for (const member of all) expect(await member.exited).toEqual({ code: 0, signal: null });

  const { placed, padding, tail } = layoutOf([...lengths, 3, 3], SLOTS, STRIDE);
  const expected = lengths.map((length, n) => ({ sequence: placed[n]!.sequence, span: placed[n]!.span, data: sizedMessage(`s${n}`, length) }));
  const bySequence = new Map(expected.map((m) => [m.sequence, m]));

  for (const group of ['default', 'audit'] as const) {
    const got = members[group].flatMap((member) => parse(member.lines).messages).sort((a, b) => a.sequence - b.sequence);
    expect({ group, count: got.length, gaps: members[group].flatMap((member) => parse(member.lines).gaps) }).toEqual({ group, count: COUNT, gaps: [] });
    expect(got.map((m) => m.sequence)).toEqual(expected.map((m) => m.sequence));
    expect(got.filter((m) => !m.data.equals(bySequence.get(m.sequence)!.data)).map((m) => m.sequence)).toEqual([]);
    expect(got.every((m) => m.deliveries === 0)).toBe(true);
  }
  // Both members of default took part, each in ring order.
  for (const member of members.default) {
    const sequences = parse(member.lines).messages.map((m) => m.sequence);
    expect(sequences.length).toBeGreaterThan(0);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  }

  // The lossy group: every position up to the first END is a delivered message's, in a gap, or a
  // skip record (padding, or a later slot of a message the jump landed in) — and no two overlap.
  const lossy = parse(members.metrics[0]!.lines);
  const owner = new Array<string>(placed[COUNT]!.sequence).fill('');
  const claim = (from: number, count: number, what: string) => {
    for (let q = from; q < from + count; q++) {
      if (owner[q] !== '') throw new Error(`position ${q} is both ${owner[q]} and ${what}`);
      owner[q] = what;
    }
  };
  for (const message of lossy.messages) {
    const sent = bySequence.get(message.sequence);
    expect({ sequence: message.sequence, whole: sent !== undefined && message.data.equals(sent.data) }).toEqual({ sequence: message.sequence, whole: true });
    claim(message.sequence, sent!.span, `message ${message.sequence}`);
  }
  for (const gap of lossy.gaps) claim(gap.from, gap.count, `gap ${gap.from}+${gap.count}`);
  const unaccounted = owner.flatMap((what, q) => (what === '' && !padding.has(q) && bySequence.has(q) ? [q] : []));
  expect(unaccounted).toEqual([]);
  const missed = lossy.gaps.reduce((sum, gap) => sum + gap.count, 0);
  const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
  const metrics = stat.groups.find((g: { name: string }) => g.name === 'metrics');
  expect({ missed: metrics.missed, gaps: metrics.gaps }).toEqual({ missed, gaps: lossy.gaps.length });
  expect(stat.tail).toBe(tail);
  console.info(
    `mixed sizes: ${COUNT} messages (${lengths.reduce((a, b) => a + b, 0)} bytes, ${tail} positions, ${padding.size} padding) to 3 groups; ` +
      `default split ${members.default.map((m) => parse(m.lines).messages.length).join('+')}; lossy metrics delivered ${lossy.messages.length}, ` +
      `${lossy.gaps.length} gaps of ${missed} positions`,
  );

  // Replay: the default group back to the earliest position still in the ring.
  expect((await runCli(['group', 'reset', 'default', '--file', file, '--to', 'earliest'])).code).toBe(0);
  const kept = expected.filter((m) => m.sequence >= tail - SLOTS);
  const replay = await runCli(['receive', '--file', file, '--framing', 'length', '--count', String(kept.length + 2), '--timeout', '5s']);
  expect(replay.code).toBe(0);
  const frames: Buffer[] = [];
  for (let at = 0; at < replay.stdoutBytes.length; ) {
    const length = replay.stdoutBytes.readUInt32LE(at);
    frames.push(replay.stdoutBytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  expect(frames.map((f) => f.toString('latin1')).slice(-2)).toEqual(['END', 'END']);
  expect(frames.length).toBe(kept.length + 2);
  expect(frames.slice(0, -2).every((frame, i) => frame.equals(kept[i]!.data))).toBe(true);
  expect(kept.length).toBeGreaterThan(0);
}, 120_000);
