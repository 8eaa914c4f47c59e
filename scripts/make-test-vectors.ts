/**
 * Writes docs/test-vectors/: small ring files of format v3 with their expected contents as JSON,
 * for checking an implementation of docs/format.md (see docs/test-vectors/README.md).
 *
 *   npx tsx scripts/make-test-vectors.ts [output directory]      (default: docs/test-vectors)
 *
 * Every file is built by the real ring code (src/layout, src/ring) over memory, with fixed pids,
 * times and ring ids, so a run is byte for byte the same as the last. The expected contents are
 * NOT read back from the files: positions, spans, padding, sequence words and what each group's
 * reader gets follow from a small model of the format written here (span = ceil((32 + L) /
 * stride), padding before the end, seqValue), and the script stops if the library disagrees
 * with the model. test/unit/test-vectors.test.ts regenerates the files and checks the project's
 * reader against the JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishHeader, writeHeader } from '../src/layout/header.js';
import {
  DEFAULT_GROUP,
  GROUP_ACTIVE,
  GROUP_GENERATION,
  GROUP_NAME,
  GROUP_NAME_LENGTH,
  GROUP_STATE,
  MAGIC,
  ROLE_RECEIVER,
  ROLE_SENDER,
  SLOT_SENT_AT,
  SLOT_SHAPE,
  SLOT_SPAN,
  TAIL_OFFSET,
  groupOffset,
  ringGeometry,
  sequenceOffsetOf,
  slotOffsetOf,
  type RingGeometry,
} from '../src/layout/ring-layout.js';
import { createGroup, removeGroup } from '../src/ring/groups.js';
import { readParticipant, registerParticipant, setParticipantGroup, unregisterParticipant, type EntryLocks } from '../src/ring/participants.js';
import { Ring } from '../src/ring/ring.js';
import { KIND_IMPORTED, OriginWriter } from '../src/bridge/origin.js';
import { viewsOf, type RingViews } from '../src/ring/views.js';

// ---- fixed identities and times ----
const CREATOR_PID = 1000;
const CREATOR_START_TICKS = 5000;
const CREATED_AT = 1_700_000_000_000;
const SENDER_PID = 1001;
const RECEIVER_PID = 1002;
/** A sender that "died" holding a claim: no process has this pid and start time. */
const DEAD_PID = 4_000_000;
const DEAD_START_TICKS = 1;
const LIVE_START_TICKS = 100;
/** Message i of a vector is stamped CREATED_AT + 1000 * (i + 1). */
const stampOf = (i: number) => CREATED_AT + 1000 * (i + 1);

// ---- the model: what docs/format.md says the bytes must be ----
const SKIP = 0x40000000;
const HEADER = 32;
/** §2: every ring keeps this much of its room for an extension (its largest message is that much shorter). */
const EXTENSION_ROOM = 40;
const seqValue = (q: number) => (q + 1) & 0x3fffffff;
const align = (value: number, to: number) => Math.ceil(value / to) * to;

interface ModelGeometry {
  slotCount: number;
  slotSize: number;
  slotStride: number;
  groupCapacity: number;
  headerLength: number;
  dataOffset: number;
  fileLength: number;
  maxMessageLength: number;
}

/** §2 of docs/format.md, computed here without the library. */
function modelGeometry(slotCount: number, slotSize: number, groupCapacity: number): ModelGeometry {
  const slotStride = align(HEADER + slotSize, 8);
  const headerLength = align(9216 + groupCapacity * 128, 4096);
  const dataOffset = headerLength + align(4 * slotCount, 64);
  return {
    slotCount,
    slotSize,
    slotStride,
    groupCapacity,
    headerLength,
    dataOffset,
    fileLength: dataOffset + slotCount * slotStride,
    maxMessageLength: slotCount * slotStride - HEADER - EXTENSION_ROOM,
  };
}

type Kind = 'message' | 'continuation' | 'padding' | 'released' | 'unpublished';

interface SentMessage {
  readonly sequence: number;
  readonly span: number;
  readonly data: Buffer;
  readonly pid: number;
  readonly sentAt: number;
  /** Kind 3 (§9b): the origin, and its 40-byte extension as the format spells it. */
  readonly imported?: { readonly origin: ModelOrigin; readonly extension: Buffer };
}

interface ModelOrigin {
  readonly engine: 'nats' | 'redis';
  readonly stream: string;
  readonly position: string;
}

/** §9b, spelled out here without the library: u64 position, u64 position 2, engine, name length, name (short names only). */
function originExtension(origin: ModelOrigin): Buffer {
  const extension = Buffer.alloc(EXTENSION_ROOM);
  const [first, second] = origin.engine === 'nats' ? [origin.position, '0'] : origin.position.split('-');
  extension.writeBigUInt64LE(BigInt(first!), 0);
  extension.writeBigUInt64LE(BigInt(second!), 8);
  extension[16] = origin.engine === 'nats' ? 1 : 2;
  const name = Buffer.from(origin.stream, 'utf8');
  if (name.length < 1 || name.length > 22) throw new Error('the model spells names of 1 to 22 bytes only');
  extension[17] = name.length;
  name.copy(extension, 18);
  return extension;
}

interface ExpectedGroup {
  name: string;
  lossy: boolean;
  dispatch: number;
  missed: number;
  gaps: number;
}

/** The positions of a ring as the format lays them out, message by message. */
class Model {
  readonly kinds: Kind[] = [];
  readonly messages: SentMessage[] = [];
  readonly groups = new Map<string, ExpectedGroup>();
  epoch = 0;
  constructor(readonly geometry: ModelGeometry) {}

  get tail(): number {
    return this.kinds.length;
  }

  spanOf(length: number, extension = 0): number {
    return Math.max(1, Math.ceil((HEADER + extension + length) / this.geometry.slotStride));
  }

  /** Positions a message of `length` bytes takes from the tail: padding first when it would cross the end. */
  place(length: number, extension = 0): { padding: number; sequence: number; span: number } {
    const span = this.spanOf(length, extension);
    const index = this.tail % this.geometry.slotCount;
    const padding = index + span > this.geometry.slotCount ? this.geometry.slotCount - index : 0;
    return { padding, sequence: this.tail + padding, span };
  }

  send(data: Buffer, pid: number, sentAt: number, origin?: ModelOrigin): SentMessage {
    const imported = origin ? { origin, extension: originExtension(origin) } : undefined;
    const { padding, sequence, span } = this.place(data.length, imported ? EXTENSION_ROOM : 0);
    for (let i = 0; i < padding; i++) this.kinds.push('padding');
    this.kinds.push('message');
    for (let i = 1; i < span; i++) this.kinds.push('continuation');
    const message = { sequence, span, data, pid, sentAt, ...(imported ? { imported } : {}) };
    this.messages.push(message);
    return message;
  }

  /** A claim never published (its sender died): `span` positions from the tail. */
  claim(length: number): number {
    const { padding, sequence, span } = this.place(length);
    if (padding > 0) throw new Error('the model keeps dead claims away from the ring end');
    for (let i = 0; i < span; i++) this.kinds.push('unpublished');
    return sequence;
  }

  /** Recovery releases every unpublished position: skip records. */
  release(): number {
    let released = 0;
    this.kinds.forEach((kind, q) => {
      if (kind === 'unpublished') {
        this.kinds[q] = 'released';
        released++;
      }
    });
    return released;
  }

  /** A member of `name` takes one message: the cursor passes it and the skip records after it. */
  receive(name: string): SentMessage {
    const group = this.groups.get(name)!;
    const message = this.messages.find((m) => m.sequence >= group.dispatch)!;
    let next = message.sequence + message.span;
    while (next < this.tail && ['continuation', 'padding', 'released'].includes(this.kinds[next]!)) next++;
    group.dispatch = next;
    return message;
  }

  addGroup(name: string, lossy: boolean, dispatch: number): void {
    this.groups.set(name, { name, lossy, dispatch, missed: 0, gaps: 0 });
    this.epoch++;
  }

  /** The sequence word of slot `index` (§3): last lap's word for an unpublished position. */
  word(index: number): number {
    const N = this.geometry.slotCount;
    if (this.tail <= index) return (seqValue(index - N) | SKIP) >>> 0;
    let q = this.tail - 1 - ((this.tail - 1 - index) % N);
    while (q >= 0 && this.kinds[q] === 'unpublished') q -= N;
    if (q < 0) return (seqValue(q) | SKIP) >>> 0;
    return (this.kinds[q] === 'message' ? seqValue(q) : seqValue(q) | SKIP) >>> 0;
  }

  /**
   * What a member of `group` gets, in order, reading from its cursor after recovery: the messages
   * from there on, and for a lapped cursor first a gap up to the oldest position still in the
   * ring (§7.4 jump: max(d + 1, T − N)).
   */
  reader(name: string): { messages: SentMessage[]; gaps: { from: number; count: number }[] } {
    const group = this.groups.get(name)!;
    const oldest = this.tail - this.geometry.slotCount;
    const gaps = group.dispatch < oldest ? [{ from: group.dispatch, count: oldest - group.dispatch }] : [];
    const from = Math.max(group.dispatch, oldest);
    return { messages: this.messages.filter((m) => m.sequence >= from), gaps };
  }

  /** What an observer (peek) sees of `group` now: the same, up to the first unpublished position. */
  observer(name: string): number[] {
    const group = this.groups.get(name)!;
    const from = Math.max(group.dispatch, this.tail - this.geometry.slotCount);
    const blocked = this.kinds.findIndex((kind, q) => q >= from && kind === 'unpublished');
    return this.messages.filter((m) => m.sequence >= from && (blocked < 0 || m.sequence < blocked)).map((m) => m.sequence);
  }
}

// ---- building through the library ----

interface Vector {
  readonly name: string;
  readonly bytes: Buffer;
  readonly expected: Record<string, unknown>;
}

function ringIdOf(vector: number): Buffer {
  return Buffer.from(Array.from({ length: 16 }, (_, i) => (vector * 16 + i) & 0xff));
}

/** A fresh ring in memory, made by the real header code, and the model beside it. */
function newRing(vector: number, slotCount: number, slotSize: number, groupCapacity = 8) {
  const geometry = ringGeometry(slotCount, slotSize, groupCapacity) as RingGeometry;
  const model = new Model(modelGeometry(slotCount, slotSize, groupCapacity));
  for (const [key, value] of Object.entries(model.geometry)) {
    if (geometry[key as keyof RingGeometry] !== value) throw new Error(`geometry ${key}: the library says ${geometry[key as keyof RingGeometry]}, the format ${value}`);
  }
  const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
  writeHeader(memory, geometry, { pid: CREATOR_PID, startTicks: CREATOR_START_TICKS, createdAt: CREATED_AT, id: ringIdOf(vector) });
  publishHeader(memory);
  model.groups.set(DEFAULT_GROUP, { name: DEFAULT_GROUP, lossy: false, dispatch: 0, missed: 0, gaps: 0 });
  return { memory, geometry, model, views: viewsOf(memory, geometry) };
}

type Built = ReturnType<typeof newRing>;

interface Participant {
  readonly ring: Ring;
  readonly pid: number;
  readonly entry: number;
}

/** Entry locks as a file would answer them: held while the entry's process (by pid, as the script decides) lives. */
function locksWhere(views: RingViews, isAlive: (pid: number) => boolean): EntryLocks {
  return {
    tryLock: (index) => {
      const entry = readParticipant(views, index);
      return entry && isAlive(entry.pid) ? 'held' : 'taken';
    },
    unlock: () => {},
  };
}

function attach(built: Built, pid: number, options: { startTicks?: number; group?: string; from?: number | 'earliest' | 'latest'; lossy?: boolean } = {}): Participant {
  const { memory, geometry, views, model } = built;
  const role = options.group ? ROLE_SENDER | ROLE_RECEIVER : ROLE_SENDER;
  const self = { pid, pidNamespace: 0n, uid: 0, role, startTicks: options.startTicks ?? LIVE_START_TICKS, attachedAt: CREATED_AT };
  const entry = registerParticipant(views, self, locksWhere(views, () => true));
  let group: { index: number; generation: number; name: string } | undefined;
  if (options.group) {
    const known = model.groups.has(options.group);
    const info = createGroup(views, geometry, options.group, { from: options.from, lossy: options.lossy, now: CREATED_AT });
    if (!known) model.addGroup(options.group, options.lossy ?? false, info.dispatch);
    group = { index: info.index, generation: info.generation, name: info.name };
    setParticipantGroup(views, entry.index, info.index, info.generation);
  }
  const ring = new Ring(memory, geometry, { identity: { pid, participant: entry.index, generation: entry.generation }, group, stamp: false });
  return { ring, pid, entry: entry.index };
}

function leave(built: Built, participant: Participant): void {
  unregisterParticipant(built.views, participant.entry, participant.pid);
}

/** Sends through the library and the model; they must agree on the position. The stamp is written after. */
function send(built: Built, sender: Participant, payload: Buffer | string): void {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const sentAt = stampOf(built.model.messages.length);
  const expected = built.model.send(data, sender.pid, sentAt);
  if (!sender.ring.trySend(payload)) throw new Error(`no room for message ${expected.sequence}`);
  if (sender.ring.lastSentSequence !== expected.sequence) throw new Error(`the library sent at ${sender.ring.lastSentSequence}, the format says ${expected.sequence}`);
  const slot = slotOffsetOf(built.geometry, expected.sequence % built.geometry.slotCount);
  if (built.memory.readUInt32LE(slot + SLOT_SPAN) !== expected.span) throw new Error(`span at ${expected.sequence} differs from the format's ${expected.span}`);
  built.memory.writeDoubleLE(sentAt, slot + SLOT_SENT_AT);
}

/** Sends an imported message (kind 3, §9b) through the library's origin writer and the model; the extension bytes must agree. */
function sendImported(built: Built, sender: Participant, origin: ModelOrigin, data: Buffer): void {
  const sentAt = stampOf(built.model.messages.length);
  const expected = built.model.send(data, sender.pid, sentAt, origin);
  if (!sender.ring.trySendRecord(KIND_IMPORTED, new OriginWriter(origin.engine, origin.stream).at(origin.position), data)) throw new Error(`no room for message ${expected.sequence}`);
  if (sender.ring.lastSentSequence !== expected.sequence) throw new Error(`the library sent at ${sender.ring.lastSentSequence}, the format says ${expected.sequence}`);
  const slot = slotOffsetOf(built.geometry, expected.sequence % built.geometry.slotCount);
  if (built.memory.readUInt32LE(slot + SLOT_SPAN) !== expected.span) throw new Error(`span at ${expected.sequence} differs from the format's ${expected.span}`);
  if (built.memory.readUInt32LE(slot + SLOT_SHAPE) !== (3 << 16 | EXTENSION_ROOM)) throw new Error(`the shape word at ${expected.sequence} is not kind 3 with 40 bytes`);
  if (!built.memory.subarray(slot + HEADER, slot + HEADER + EXTENSION_ROOM).equals(expected.imported!.extension)) throw new Error(`the origin extension at ${expected.sequence} differs from the format's`);
  built.memory.writeDoubleLE(sentAt, slot + SLOT_SENT_AT);
}

function receive(built: Built, member: Participant, group = DEFAULT_GROUP): void {
  const expected = built.model.receive(group);
  const message = member.ring.tryReceive();
  if (!message || message.sequence !== expected.sequence || !message.data.equals(expected.data)) {
    throw new Error(`received ${message?.sequence}, the format says ${expected.sequence}`);
  }
}

const bytes = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed * 7) & 0xff));

// ---- the JSON ----

function messageJson(message: SentMessage) {
  const text = message.data.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(message.data) && !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text);
  return {
    sequence: message.sequence,
    span: message.span,
    length: message.data.length,
    pid: message.pid,
    sentAt: message.sentAt,
    ...(isText ? { utf8: text } : {}),
    base64: message.data.toString('base64'),
    ...(message.imported ? { kind: 3, extension: message.imported.extension.toString('base64'), origin: message.imported.origin } : {}),
  };
}

function expectedOf(built: Built, file: string, description: string, extra: Record<string, unknown> = {}) {
  const { model } = built;
  const g = model.geometry;
  const N = g.slotCount;
  const from = Math.max(0, model.tail - N);
  const positions = model.kinds.slice(from).map((kind, i) => {
    const position = from + i;
    const message = model.messages.find((m) => m.sequence === position);
    return message ? { position, kind, span: message.span } : { position, kind };
  });
  const groups = [...model.groups.values()];
  return {
    description,
    file,
    header: {
      magic: MAGIC,
      version: 3,
      headerLength: g.headerLength,
      slotCount: N,
      slotSize: g.slotSize,
      slotStride: g.slotStride,
      groupCapacity: g.groupCapacity,
      createdAt: CREATED_AT,
      creatorPid: CREATOR_PID,
      dataOffset: g.dataOffset,
      creatorStart: CREATOR_START_TICKS,
      ringId: ringIdOf(Number(file.slice(0, 2))).toString('hex'),
      fileLength: g.fileLength,
      maxMessageLength: g.maxMessageLength,
    },
    tail: model.tail,
    tailEpoch: model.epoch,
    messagesSent: model.messages.length,
    releasedSlots: model.kinds.filter((kind) => kind === 'released').length,
    sequenceWords: Array.from({ length: N }, (_, i) => model.word(i)),
    positions,
    groups,
    readers: Object.fromEntries(
      groups.map((group) => {
        const reader = model.reader(group.name);
        return [group.name, { messages: reader.messages.map(messageJson), gaps: reader.gaps, peek: model.observer(group.name) }];
      }),
    ),
    ...extra,
  };
}

// ---- the vectors ----

function emptyRing(): Vector {
  const built = newRing(1, 8, 16);
  const file = '01-empty.ring';
  return { name: file, bytes: Buffer.from(built.memory), expected: expectedOf(built, file, 'A new ring: 8 slots of 16 bytes, the default group at 0, nothing sent.') };
}

function oneSlot(): Vector {
  const built = newRing(2, 8, 16);
  const sender = attach(built, SENDER_PID);
  const member = attach(built, RECEIVER_PID, { group: DEFAULT_GROUP });
  for (const payload of ['', 'hello', 'sixteen bytes!!!', Buffer.from([0, 255, 10, 13, 0, 1, 2, 3]), 'héllo ☃']) send(built, sender, payload);
  receive(built, member);
  const audit = attach(built, RECEIVER_PID + 1, { group: 'audit', from: 3 });
  for (const p of [sender, member, audit]) leave(built, p);
  const file = '02-one-slot.ring';
  return {
    name: file,
    bytes: Buffer.from(built.memory),
    expected: expectedOf(built, file, 'Messages of 0 to 16 bytes, one slot each (text, binary, UTF-8); the default group has taken the first; group audit starts at 3.'),
  };
}

function multiSlot(): Vector {
  const built = newRing(3, 16, 16);
  const sender = attach(built, SENDER_PID);
  const text = 'Multi-slot UTF-8: ünïcödé ✓ '.repeat(8).slice(0, 150);
  for (const payload of [bytes(17, 1), bytes(64, 2), bytes(65, 3), text, Buffer.alloc(0), bytes(112, 5)]) send(built, sender, payload);
  leave(built, sender);
  const file = '03-multi-slot.ring';
  return {
    name: file,
    bytes: Buffer.from(built.memory),
    expected: expectedOf(built, file, 'Messages of 1 to 5 slots (stride 48: 17 and 64 bytes take two slots, 65 and 112 three), filling all 16 slots; nothing read yet.'),
  };
}

function padding(): Vector {
  const built = newRing(4, 8, 16);
  const sender = attach(built, SENDER_PID);
  const member = attach(built, RECEIVER_PID, { group: DEFAULT_GROUP });
  for (const word of ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff']) send(built, sender, word);
  for (let i = 0; i < 5; i++) receive(built, member);
  send(built, sender, bytes(100, 7)); // three slots: 6 + 3 > 8, so positions 6 and 7 are padding
  send(built, sender, 'twenty bytes, two sl'); // 20 bytes: two slots
  for (const p of [sender, member]) leave(built, p);
  const file = '04-padding.ring';
  return {
    name: file,
    bytes: Buffer.from(built.memory),
    expected: expectedOf(built, file, 'A three-slot message that would cross the end of the ring: positions 6 and 7 are padding (skip records) and it starts at 8 (slot 0).'),
  };
}

function lossyLapped(): Vector {
  const built = newRing(5, 8, 16);
  const metrics = attach(built, RECEIVER_PID, { group: 'metrics', from: 0, lossy: true });
  removeGroup(built.views, built.geometry, DEFAULT_GROUP); // no lossless group: nothing holds senders back
  built.model.groups.delete(DEFAULT_GROUP);
  const sender = attach(built, SENDER_PID);
  for (let i = 0; i < 2; i++) send(built, sender, `m${i}`);
  for (let i = 0; i < 2; i++) receive(built, metrics, 'metrics');
  for (let i = 2; i < 6; i++) send(built, sender, `m${i}`);
  send(built, sender, bytes(40, 6)); // positions 6-7
  for (let i = 7; i < 14; i++) send(built, sender, `m${i}`); // positions 8-14
  for (const p of [sender, metrics]) leave(built, p);
  const file = '05-lossy-lapped.ring';
  return {
    name: file,
    bytes: Buffer.from(built.memory),
    expected: expectedOf(
      built,
      file,
      'Group metrics (lossy) took two messages, then senders lapped it: its cursor at 2 is overwritten, the oldest position kept (7) is the second slot of a message, so a reader reports a gap of 5 positions (2-6) and delivers from 8 on. The default group was removed.',
    ),
  };
}

/** A sender that dies holding a two-slot claim at positions 2-3, half its payload written; others go on. */
function deadClaim(vector: number, recover: boolean): Vector {
  const built = newRing(vector, 8, 16);
  const sender = attach(built, SENDER_PID);
  const dead = attach(built, DEAD_PID, { startTicks: DEAD_START_TICKS });
  send(built, sender, 'm0');
  send(built, sender, 'm1');
  const claim = dead.ring.tryClaim(40);
  const position = built.model.claim(40);
  if (!claim || claim.sequence !== position) throw new Error(`the dead sender's claim is at ${claim?.sequence}, the format says ${position}`);
  claim.data.fill(0x78, 0, 20); // half the payload, then the process is gone
  send(built, sender, 'm4');
  send(built, sender, bytes(60, 5)); // positions 5-6
  send(built, sender, 'm7');
  let released = 0;
  if (recover) {
    const report = sender.ring.recover(locksWhere(built.views, (pid) => pid !== DEAD_PID));
    released = built.model.release();
    if (report.released !== released) throw new Error(`recovery released ${report.released}, the format says ${released}`);
  }
  leave(built, sender);
  const file = recover ? '06-released-claim.ring' : '07-dead-claim.ring';
  const description = recover
    ? 'A sender died holding a two-slot claim at positions 2-3 (half its payload written); recovery released it: two skip records, released slots 2. Readers pass over it.'
    : 'A sender (pid 4000000, start time 1: no such process) died holding a two-slot claim at positions 2-3, half its payload written; its participant entry still records the intent. A reader takes m0 and m1, then waits on position 2 until recovery finds the owner dead and releases both positions (skip records); an observer sees only m0 and m1.';
  const extra = recover
    ? {}
    : {
        openClaims: [{ position: 2, count: 2, ownerPid: DEAD_PID, ownerStart: DEAD_START_TICKS, ownerEntry: dead.entry }],
        afterRecovery: { releasedSlots: 2, positions: [2, 3] },
      };
  return { name: file, bytes: Buffer.from(built.memory), expected: { ...expectedOf(built, file, description), ...extra } };
}

function imported(): Vector {
  const built = newRing(11, 16, 16);
  const sender = attach(built, SENDER_PID);
  send(built, sender, 'plain');
  sendImported(built, sender, { engine: 'nats', stream: 'ORDERS', position: '42' }, Buffer.from('hello'));
  sendImported(built, sender, { engine: 'redis', stream: 'clé', position: '1700000000000-3' }, bytes(16, 11));
  sendImported(built, sender, { engine: 'nats', stream: 'ORDERS', position: '43' }, Buffer.alloc(0));
  leave(built, sender);
  const file = '11-imported.ring';
  return {
    name: file,
    bytes: Buffer.from(built.memory),
    expected: expectedOf(
      built,
      file,
      'Messages a bridge import brought in (kind 3, format.md §9b) after a plain one: each has a 40-byte origin extension between its header and its payload (NATS stream ORDERS sequences 42 and 43, Redis key "clé" entry 1700000000000-3), so each takes two slots of the 48-byte stride where its payload alone (5, 16 or 0 bytes) would take one. A reader that does not know kind 3 hands on the payload alone.',
    ),
  };
}

/** A message of the ring's largest size (8 × 48 − 32 − 40 = 312 bytes), imported: with its origin it fills every slot exactly. */
function importedLargest(): Vector {
  const built = newRing(12, 8, 16);
  const sender = attach(built, SENDER_PID);
  sendImported(built, sender, { engine: 'redis', stream: 'jobs', position: '1700000000001-0' }, bytes(built.model.geometry.maxMessageLength, 12));
  leave(built, sender);
  const file = '12-imported-largest.ring';
  return {
    name: file,
    bytes: Buffer.from(built.memory),
    expected: expectedOf(built, file, 'A message of the largest size the ring states (312 bytes: 8 × 48 − 32 − 40), imported with its 40-byte origin (Redis key jobs, entry 1700000000001-0): 32 + 40 + 312 = 384 bytes, all 8 slots.'),
  };
}

function refusal(name: string, bytes: Buffer, description: string, refusal: Record<string, unknown>): Vector {
  return { name, bytes, expected: { description, file: name, refusal: { exitCode: 3, error: 'RingFormatError', ...refusal } } };
}

function spanPastEnd(base: Vector): Vector {
  const bytes = Buffer.from(base.bytes);
  const geometry = ringGeometry(16, 16) as RingGeometry;
  bytes.writeUInt32LE(4, slotOffsetOf(geometry, 13) + SLOT_SPAN); // 13 + 4 > 16
  return refusal(
    '08-corrupt-span.ring',
    bytes,
    '03-multi-slot.ring with the span of the message at position 13 (slot 13) changed from 3 to 4: it would pass the end of the ring. Refused when opened alone (format.md §4, validation 5).',
    { reason: 'span-past-end', slot: 13, messageIncludes: 'spans 4 slots' },
  );
}

function bit31(base: Vector): Vector {
  const bytes = Buffer.from(base.bytes);
  const geometry = ringGeometry(8, 16) as RingGeometry;
  const offset = sequenceOffsetOf(geometry, 2);
  bytes.writeUInt32LE((bytes.readUInt32LE(offset) | 0x80000000) >>> 0, offset);
  return refusal(
    '09-bit31.ring',
    bytes,
    '02-one-slot.ring with bit 31 set in the sequence word of slot 2 (no process writes it in v3). Refused when opened alone.',
    { reason: 'sequence-word-bit31', slot: 2, messageIncludes: 'slot 2 has sequence word' },
  );
}

/**
 * A ring of format v2 (the layout before v3, from git history: the file length a u32 at 44, the
 * sequence word at the start of each slot, no sequence-word array), 8 slots of 16 bytes with one
 * message waiting. Written word by word: v2 code is no longer in the tree.
 */
function formatV2(): Vector {
  const slotCount = 8;
  const stride = 48;
  const headerLength = 12288;
  const fileLength = headerLength + slotCount * stride;
  const bytes = Buffer.alloc(fileLength);
  bytes.write(MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(2, 8);
  bytes.writeUInt32LE(headerLength, 12);
  bytes.writeUInt32LE(slotCount, 16);
  bytes.writeUInt32LE(16, 20);
  bytes.writeUInt32LE(stride, 24);
  bytes.writeUInt32LE(8, 28);
  bytes.writeDoubleLE(CREATED_AT, 32);
  bytes.writeUInt32LE(CREATOR_PID, 40);
  bytes.writeUInt32LE(fileLength, 44);
  bytes.writeDoubleLE(CREATOR_START_TICKS, 48);
  ringIdOf(10).copy(bytes, 56);
  bytes.writeBigUInt64LE(1n, TAIL_OFFSET);
  const group = groupOffset(0);
  bytes.writeUInt32LE(GROUP_ACTIVE, group + GROUP_STATE);
  bytes.writeUInt32LE(1, group + GROUP_GENERATION);
  bytes.writeUInt32LE(DEFAULT_GROUP.length, group + GROUP_NAME_LENGTH);
  bytes.write(DEFAULT_GROUP, group + GROUP_NAME, 'latin1');
  const text = Buffer.from('written by v2');
  for (let index = 0; index < slotCount; index++) {
    const slot = headerLength + index * stride;
    bytes.writeInt32LE(index === 0 ? seqValue(0) : seqValue(index - slotCount) | SKIP, slot);
    if (index === 0) {
      bytes.writeUInt32LE(text.length, slot + 4);
      bytes.writeUInt32LE(SENDER_PID, slot + 8);
      text.copy(bytes, slot + HEADER);
    }
  }
  return refusal('10-format-v2.ring', bytes, 'A ring of format version 2 with one message waiting: refused with one line naming the version and what to do.', {
    reason: 'old-version',
    version: 2,
    messageIncludes: 'format version 2',
  });
}

export function makeTestVectors(): Vector[] {
  const one = oneSlot();
  const multi = multiSlot();
  return [emptyRing(), one, multi, padding(), lossyLapped(), deadClaim(6, true), deadClaim(7, false), spanPastEnd(multi), bit31(one), formatV2(), imported(), importedLargest()];
}

/** Writes every vector's ring file and JSON into `dir`; returns the file names. */
export function writeTestVectors(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (const vector of makeTestVectors()) {
    const json = vector.name.replace(/\.ring$/, '.json');
    writeFileSync(join(dir, vector.name), vector.bytes);
    writeFileSync(join(dir, json), `${JSON.stringify(vector.expected, null, 2)}\n`);
    names.push(vector.name, json);
  }
  return names;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? fileURLToPath(new URL('../docs/test-vectors', import.meta.url));
  const names = writeTestVectors(dir);
  process.stdout.write(`${names.length} files written to ${dir}\n`);
}
