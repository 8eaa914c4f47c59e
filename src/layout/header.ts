/**
 * Writing and validating the identity block of a ring file. Pure: works on a Buffer.
 */
import {
  CREATED_AT_OFFSET,
  CREATOR_PID_OFFSET,
  CREATOR_START_OFFSET,
  FILE_LENGTH_OFFSET,
  FORMAT_VERSION,
  HEADER_LENGTH_OFFSET,
  HEAD_OFFSET,
  MAGIC,
  MAGIC_LENGTH,
  MAGIC_OFFSET,
  POSITION_LIMIT_OFFSET,
  RING_HEADER_LENGTH,
  SLOT_COUNT_OFFSET,
  SLOT_SEQUENCE,
  SLOT_SIZE_OFFSET,
  SLOT_STRIDE_OFFSET,
  TAIL_OFFSET,
  VERSION_OFFSET,
  WORD,
  ringGeometry,
  slotOffsetOf,
  type RingGeometry,
} from './ring-layout.js';

export interface CreatorDetails {
  readonly pid: number;
  readonly startTicks: number;
  readonly createdAt: number;
}

export interface RingHeader extends RingGeometry, CreatorDetails {
  readonly version: number;
}

/**
 * Lays out an empty ring in zeroed memory, everything except the magic, which
 * `publishHeader` writes last so that an opener never sees a half-made header as ready.
 */
export function writeHeader(memory: Buffer, geometry: RingGeometry, creator: CreatorDetails): void {
  memory.writeUInt32LE(FORMAT_VERSION, VERSION_OFFSET);
  memory.writeUInt32LE(geometry.headerLength, HEADER_LENGTH_OFFSET);
  memory.writeUInt32LE(geometry.slotCount, SLOT_COUNT_OFFSET);
  memory.writeUInt32LE(geometry.slotSize, SLOT_SIZE_OFFSET);
  memory.writeUInt32LE(geometry.slotStride, SLOT_STRIDE_OFFSET);
  memory.writeUInt32LE(geometry.positionLimit, POSITION_LIMIT_OFFSET);
  memory.writeDoubleLE(creator.createdAt, CREATED_AT_OFFSET);
  memory.writeUInt32LE(creator.pid, CREATOR_PID_OFFSET);
  memory.writeUInt32LE(geometry.fileLength, FILE_LENGTH_OFFSET);
  memory.writeDoubleLE(creator.startTicks, CREATOR_START_OFFSET);
  // Slot i is free for position i: its sequence word reads i.
  for (let index = 0; index < geometry.slotCount; index++) {
    memory.writeUInt32LE(index, slotOffsetOf(geometry, index) + SLOT_SEQUENCE);
  }
}

/** The ready marker: the magic's last word is stored atomically, after everything else. */
export function publishHeader(memory: Buffer): void {
  memory.write(MAGIC.slice(0, WORD), MAGIC_OFFSET, 'latin1');
  const words = new Int32Array(memory.buffer, memory.byteOffset, RING_HEADER_LENGTH / WORD);
  Atomics.store(words, (MAGIC_OFFSET + WORD) / WORD, MAGIC_LAST_WORD);
}

const MAGIC_LAST_WORD = Buffer.from(MAGIC.slice(WORD, MAGIC_LENGTH), 'latin1').readInt32LE(0);

export type HeaderCheck =
  | { readonly kind: 'ready'; readonly header: RingHeader }
  /** All of the magic is zero: a creator may still be initialising it. */
  | { readonly kind: 'uninitialised' }
  | { readonly kind: 'invalid'; readonly reason: string };

function describeMagic(bytes: Buffer): string {
  const printable = [...bytes].every((byte) => byte >= 0x20 && byte < 0x7f);
  return printable ? `"${bytes.toString('latin1')}"` : `0x${bytes.toString('hex')}`;
}

/**
 * Checks everything an opener must trust before touching a ring: magic, version, sizes that
 * add up, the file's real length, and positions that make sense. `fileLength` is what fstat
 * says, not what the header claims.
 */
export function checkHeader(memory: Buffer, fileLength: number): HeaderCheck {
  if (fileLength < MAGIC_LENGTH) {
    if (fileLength === 0) return { kind: 'uninitialised' };
    return { kind: 'invalid', reason: `not a ring file (${fileLength} bytes, shorter than a ring header)` };
  }
  const words = new Int32Array(memory.buffer, memory.byteOffset, Math.min(memory.length, RING_HEADER_LENGTH) >> 2);
  Atomics.load(words, (MAGIC_OFFSET + WORD) / WORD); // acquire: pairs with publishHeader's store
  const magic = memory.subarray(MAGIC_OFFSET, MAGIC_OFFSET + MAGIC_LENGTH);
  if (magic.every((byte) => byte === 0)) return { kind: 'uninitialised' };
  if (magic.toString('latin1') !== MAGIC) {
    return { kind: 'invalid', reason: `not a ring file (magic ${describeMagic(magic)}, expected "${MAGIC}")` };
  }
  if (fileLength < RING_HEADER_LENGTH) {
    return { kind: 'invalid', reason: `truncated ring file (${fileLength} bytes, the header alone needs ${RING_HEADER_LENGTH})` };
  }
  const version = memory.readUInt32LE(VERSION_OFFSET);
  if (version !== FORMAT_VERSION) {
    return {
      kind: 'invalid',
      reason: `ring format version ${version} is not supported (this mmapipc reads version ${FORMAT_VERSION})`,
    };
  }
  const slotCount = memory.readUInt32LE(SLOT_COUNT_OFFSET);
  const slotSize = memory.readUInt32LE(SLOT_SIZE_OFFSET);
  const geometry = ringGeometry(slotCount, slotSize);
  if (typeof geometry === 'string') return { kind: 'invalid', reason: `corrupt ring header: ${geometry}` };
  const mismatch = (field: string, found: number, expected: number) =>
    found === expected ? undefined : `corrupt ring header: ${field} is ${found}, expected ${expected}`;
  const problem =
    mismatch('header length', memory.readUInt32LE(HEADER_LENGTH_OFFSET), geometry.headerLength) ??
    mismatch('slot stride', memory.readUInt32LE(SLOT_STRIDE_OFFSET), geometry.slotStride) ??
    mismatch('position limit', memory.readUInt32LE(POSITION_LIMIT_OFFSET), geometry.positionLimit) ??
    mismatch('recorded file length', memory.readUInt32LE(FILE_LENGTH_OFFSET), geometry.fileLength);
  if (problem) return { kind: 'invalid', reason: problem };
  if (fileLength !== geometry.fileLength) {
    const what = fileLength < geometry.fileLength ? 'truncated ring file' : 'sizes do not add up';
    return {
      kind: 'invalid',
      reason: `${what} (${fileLength} bytes, ${slotCount} slots of ${slotSize} bytes need exactly ${geometry.fileLength})`,
    };
  }
  const positions = readPositions(words);
  if (positions === undefined) return { kind: 'ready', header: headerOf(memory, geometry, version) };
  const { head, tail } = positions;
  if (tail >= geometry.positionLimit || head >= geometry.positionLimit) {
    return { kind: 'invalid', reason: `corrupt ring header: positions out of range (head ${head}, tail ${tail}, limit ${geometry.positionLimit})` };
  }
  const backlog = (tail - head + geometry.positionLimit) % geometry.positionLimit;
  if (backlog > slotCount) {
    return {
      kind: 'invalid',
      reason: `corrupt ring header: ${backlog} messages between head ${head} and tail ${tail}, but only ${slotCount} slots`,
    };
  }
  return { kind: 'ready', header: headerOf(memory, geometry, version) };
}

function headerOf(memory: Buffer, geometry: RingGeometry, version: number): RingHeader {
  return {
    ...geometry,
    version,
    pid: memory.readUInt32LE(CREATOR_PID_OFFSET),
    startTicks: memory.readDoubleLE(CREATOR_START_OFFSET),
    createdAt: memory.readDoubleLE(CREATED_AT_OFFSET),
  };
}

/** Attempts at a consistent reading of head and tail while other processes move them. */
const SNAPSHOT_ATTEMPTS = 100;

/**
 * Head and tail as they stood at one instant: head is read before and after tail, and the pair
 * counts only when head did not move in between (a whole lap of 2^30 positions cannot pass in
 * that time). Reading the two words one after the other could pair an old tail with a newer
 * head on a busy ring, and make a healthy ring look corrupt. Undefined when head never held
 * still; the ring algorithm bounds what it reads anyway.
 */
function readPositions(words: Int32Array): { head: number; tail: number } | undefined {
  for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
    const head = Atomics.load(words, HEAD_OFFSET / WORD) >>> 0;
    const tail = Atomics.load(words, TAIL_OFFSET / WORD) >>> 0;
    if (Atomics.load(words, HEAD_OFFSET / WORD) >>> 0 === head) return { head, tail };
  }
  return undefined;
}
