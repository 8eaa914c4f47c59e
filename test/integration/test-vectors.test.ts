/**
 * docs/test-vectors: (a) scripts/make-test-vectors.ts regenerates every file byte for byte, and
 * (b) the project's own reader gets from each ring file exactly what its JSON says — the header,
 * the sequence words, the groups, what an observer peeks, what a member of each group receives
 * (on a copy, after recovery), and for the corrupt and old files the refusal. Every expected
 * value comes from the JSON, none is recomputed here.
 */
import { chmodSync, copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { POSITION_MASK, RELEASED_SLOTS_OFFSET, TAIL_OFFSET, MAGIC_OFFSET, MAGIC_LENGTH, sequenceOffsetOf } from '../../src/layout/ring-layout.js';
import { checkHeader } from '../../src/layout/header.js';
import { listGroups } from '../../src/ring/groups.js';
import { peekMessages, readRingState } from '../../src/ring/inspect.js';
import { viewsOf } from '../../src/ring/views.js';
import { RingFile } from '../../src/ring-file/ring-file.js';
import type { Gap } from '../../src/ring/member.js';
import { writeTestVectors } from '../../scripts/make-test-vectors.js';
import { runCli } from '../helpers/cli.js';
import { sentTotal } from '../helpers/memory-ring.js';
import { tempDir } from '../helpers/temp.js';

const VECTORS = fileURLToPath(new URL('../../docs/test-vectors/', import.meta.url));
const temp = tempDir('mmapipc-vectors-');
afterAll(() => temp.remove());

interface MessageJson {
  sequence: number;
  span: number;
  length: number;
  pid: number;
  sentAt: number;
  utf8?: string;
  base64: string;
  /** Imported messages (kind 3, format.md §9b): the extension's bytes and the origin they hold. */
  kind?: number;
  extension?: string;
  origin?: { engine: string; stream: string; position: string };
}
interface VectorJson {
  description: string;
  file: string;
  header?: Record<string, number | string>;
  tail?: number;
  tailEpoch?: number;
  messagesSent?: number;
  releasedSlots?: number;
  sequenceWords?: number[];
  positions?: Array<{ position: number; kind: string; span?: number }>;
  groups?: Array<{ name: string; lossy: boolean; dispatch: number; missed: number; gaps: number }>;
  readers?: Record<string, { messages: MessageJson[]; gaps: Gap[]; peek: number[] }>;
  openClaims?: Array<{ position: number; count: number; ownerPid: number; ownerEntry: number }>;
  afterRecovery?: { releasedSlots: number; positions: number[] };
  refusal?: { exitCode: number; error: string; reason: string; messageIncludes: string };
}

const jsonFiles = readdirSync(VECTORS).filter((name) => name.endsWith('.json')).sort();
const vectors: VectorJson[] = jsonFiles.map((name) => JSON.parse(readFileSync(VECTORS + name, 'utf8')) as VectorJson);
const readable = vectors.filter((vector) => vector.refusal === undefined);
const refused = vectors.filter((vector) => vector.refusal !== undefined);

let copies = 0;
/** A private copy of a vector's ring file (mode 0600, as the opener insists). */
function copyOf(vector: VectorJson): string {
  const path = temp.file(`${copies++}-${vector.file}`);
  copyFileSync(VECTORS + vector.file, path);
  chmodSync(path, 0o600);
  return path;
}

/** The file's bytes in shared memory, as a mapping would show them. */
function memoryOf(vector: VectorJson): Buffer {
  const bytes = readFileSync(VECTORS + vector.file);
  const memory = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(memory);
  return memory;
}

test('the committed vectors are exactly what scripts/make-test-vectors.ts makes', () => {
  const names = writeTestVectors(temp.file('regenerated'));
  expect(names.sort()).toEqual(readdirSync(VECTORS).filter((name) => name !== 'README.md').sort());
  for (const name of names) {
    expect({ name, same: readFileSync(temp.file(`regenerated/${name}`)).equals(readFileSync(VECTORS + name)) }).toEqual({ name, same: true });
  }
  // The cases issue 18 asks for are all there.
  expect(vectors.map((vector) => vector.refusal?.reason ?? vector.file)).toEqual(
    expect.arrayContaining(['span-past-end', 'sequence-word-bit31', 'old-version', '04-padding.ring', '05-lossy-lapped.ring', '06-released-claim.ring']),
  );
});

describe.each(readable.map((vector) => [vector.file, vector] as const))('%s', (_name, vector) => {
  test('header, tail, counters and sequence words are as the JSON says', () => {
    const memory = memoryOf(vector);
    const check = checkHeader(memory, memory.length);
    if (check.kind !== 'ready') throw new Error(`not ready: ${JSON.stringify(check)}`);
    const h = check.header;
    const header = vector.header!;
    expect({
      magic: memory.toString('latin1', MAGIC_OFFSET, MAGIC_OFFSET + MAGIC_LENGTH),
      version: h.version,
      headerLength: h.headerLength,
      slotCount: h.slotCount,
      slotSize: h.slotSize,
      slotStride: h.slotStride,
      groupCapacity: h.groupCapacity,
      createdAt: h.createdAt,
      creatorPid: h.pid,
      dataOffset: h.dataOffset,
      creatorStart: h.startTicks,
      ringId: h.id,
      fileLength: h.fileLength,
      maxMessageLength: h.maxMessageLength,
    }).toEqual(header);
    expect(memory.length).toBe(header.fileLength);
    const tailWord = memory.readBigUInt64LE(TAIL_OFFSET);
    expect(Number(tailWord & POSITION_MASK)).toBe(vector.tail);
    expect(Number(tailWord >> 56n)).toBe(vector.tailEpoch);
    expect(sentTotal(memory)).toBe(vector.messagesSent);
    expect(memory.readUInt32LE(RELEASED_SLOTS_OFFSET)).toBe(vector.releasedSlots);
    expect(vector.sequenceWords!.map((_, i) => memory.readUInt32LE(sequenceOffsetOf(h, i)))).toEqual(vector.sequenceWords);
    const groups = listGroups(viewsOf(memory, h), h).map(({ name, lossy, dispatch, missed, gaps }) => ({ name, lossy, dispatch, missed, gaps }));
    expect(groups).toEqual(vector.groups);
    if (vector.openClaims) {
      const claims = readRingState(memory, h).openClaims.map((claim) => ({ position: claim.position, owners: claim.owners }));
      const expected = vector.openClaims.flatMap((claim) =>
        Array.from({ length: claim.count }, (_, i) => ({ position: claim.position + i, owners: [claim.ownerEntry] })),
      );
      expect(claims).toEqual(expected);
    }
  });

  test('an observer (peek) sees each group\'s messages as the JSON says, and writes nothing', () => {
    const memory = memoryOf(vector);
    const before = Buffer.from(memory);
    const check = checkHeader(memory, memory.length);
    if (check.kind !== 'ready') throw new Error('not ready');
    for (const [group, reader] of Object.entries(vector.readers!)) {
      const peeked = peekMessages(memory, check.header, 1000, group);
      const byId = new Map(reader.messages.map((message) => [message.sequence, message]));
      expect({ group, sequences: peeked.map((message) => message.sequence) }).toEqual({ group, sequences: reader.peek });
      for (const message of peeked) {
        const expected = byId.get(message.sequence)!;
        expect({ sequence: message.sequence, base64: message.data.toString('base64'), pid: message.pid, sentAt: message.sentAt }).toEqual({
          sequence: expected.sequence,
          base64: expected.base64,
          pid: expected.pid,
          sentAt: expected.sentAt,
        });
      }
    }
    expect(memory.equals(before)).toBe(true);
  });

  test('a member of each group receives exactly the messages and gaps the JSON lists', () => {
    for (const [group, reader] of Object.entries(vector.readers!)) {
      const gaps: Gap[] = [];
      const ring = RingFile.open(copyOf(vector), { create: false, role: 'receiver', group, onGap: (gap) => gaps.push(gap) });
      try {
        ring.recover(); // what any waiting reader does first: a dead sender's claim is released
        const received = [];
        for (let message = ring.tryReceive(); message; message = ring.tryReceive()) {
          const imported = message.kind !== 0 ? { kind: message.kind, extension: message.extension.toString('base64'), origin: message.origin } : {};
          received.push({ sequence: message.sequence, length: message.data.length, base64: message.data.toString('base64'), pid: message.pid, sentAt: message.sentAt, deliveries: message.deliveries, ...imported });
        }
        expect({ group, received }).toEqual({
          group,
          received: reader.messages.map((m) => ({
            sequence: m.sequence,
            length: m.length,
            base64: m.base64,
            pid: m.pid,
            sentAt: m.sentAt,
            deliveries: 0,
            ...(m.kind !== undefined ? { kind: m.kind, extension: m.extension, origin: m.origin } : {}),
          })),
        });
        for (const message of reader.messages) if (message.utf8 !== undefined) expect(Buffer.from(message.base64, 'base64').toString('utf8')).toBe(message.utf8);
        expect(gaps.map(({ from, count }) => ({ from, count }))).toEqual(reader.gaps);
        const state = readRingState(ring.ring.memory, ring.header);
        expect(state.releasedSlots).toBe(vector.afterRecovery?.releasedSlots ?? vector.releasedSlots);
        expect(state.openClaims).toEqual([]);
        const after = state.groups.find((g) => g.name === group)!;
        expect({ dispatch: after.dispatch, missed: after.missed }).toEqual({
          dispatch: vector.tail,
          missed: vector.groups!.find((g) => g.name === group)!.missed + reader.gaps.reduce((sum, gap) => sum + gap.count, 0),
        });
      } finally {
        ring.close();
      }
    }
  });
});

test('mmapipc receive --framing length writes the multi-slot and padded vectors\' messages byte for byte', async () => {
  for (const vector of readable.filter((v) => /multi-slot|padding/.test(v.file))) {
    const messages = vector.readers!.default!.messages;
    const result = await runCli(['receive', '--file', copyOf(vector), '--framing', 'length', '--count', String(messages.length), '--timeout', '5s']);
    expect(result.code).toBe(0);
    const expected = Buffer.concat(
      messages.flatMap((m) => {
        const length = Buffer.alloc(4);
        length.writeUInt32LE(m.length);
        return [length, Buffer.from(m.base64, 'base64')];
      }),
    );
    expect(result.stdoutBytes.equals(expected)).toBe(true);
  }
});

test('mmapipc receive writes the imported vector\'s payloads alone, and --json shows each origin; so does peek --json', async () => {
  const vector = readable.find((v) => v.file === '11-imported.ring')!;
  const messages = vector.readers!.default!.messages;
  expect(messages.filter((m) => m.kind === 3)).toHaveLength(3);
  const path = copyOf(vector);
  const expectedOrigins = messages.map((m) => {
    if (!m.origin) return undefined;
    return m.origin.engine === 'nats' ? { engine: 'nats', stream: m.origin.stream, seq: Number(m.origin.position) } : { engine: 'redis', key: m.origin.stream, id: m.origin.position };
  });
  const peeked = await runCli(['peek', '--file', path, '--json', '--count', String(messages.length)]);
  expect(peeked.code).toBe(0);
  const peekRecords = peeked.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { origin?: Record<string, unknown>; message?: string; base64?: string });
  expect(peekRecords.map((record) => record.origin)).toEqual(expectedOrigins);
  expect(peekRecords.map((record) => (record.message !== undefined ? Buffer.from(record.message) : Buffer.from(record.base64!, 'base64')).toString('base64'))).toEqual(messages.map((m) => m.base64));
  const raw = await runCli(['receive', '--file', path, '--group', 'raw', '--from', 'earliest', '--framing', 'length', '--count', String(messages.length), '--timeout', '5s']);
  expect(raw.code).toBe(0);
  const expected = Buffer.concat(
    messages.flatMap((m) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(m.length);
      return [length, Buffer.from(m.base64, 'base64')];
    }),
  );
  expect(raw.stdoutBytes.equals(expected)).toBe(true);
  const json = await runCli(['receive', '--file', path, '--json', '--count', String(messages.length), '--timeout', '5s']);
  const records = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { origin?: Record<string, unknown> });
  expect(records.map((record) => record.origin)).toEqual(
    messages.map((m) => {
      if (!m.origin) return undefined;
      return m.origin.engine === 'nats' ? { engine: 'nats', stream: m.origin.stream, seq: Number(m.origin.position) } : { engine: 'redis', key: m.origin.stream, id: m.origin.position };
    }),
  );
});

describe.each(refused.map((vector) => [vector.file, vector] as const))('%s', (_name, vector) => {
  test('is refused by the library and by the CLI with the JSON\'s reason and exit code, and left unchanged', async () => {
    const refusal = vector.refusal!;
    const path = copyOf(vector);
    const before = readFileSync(path);
    let error: unknown;
    try {
      RingFile.open(path, { create: false }).close();
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: refusal.error, exitCode: refusal.exitCode });
    expect((error as Error).message).toContain(refusal.messageIncludes);
    const cli = await runCli(['receive', '--file', path, '--count', '1', '--timeout', '1s']);
    expect(cli.code).toBe(refusal.exitCode);
    expect(cli.stdout).toBe('');
    expect(cli.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(cli.stderr).toContain(refusal.messageIncludes);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
