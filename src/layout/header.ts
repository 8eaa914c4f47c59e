/**
 * Writing and validating the identity block of a ring file. Pure: works on a Buffer.
 */
import {
  CREATED_AT_OFFSET,
  CREATOR_PID_OFFSET,
  CREATOR_START_OFFSET,
  DATA_OFFSET_OFFSET,
  FILE_LENGTH_OFFSET,
  FORMAT_VERSION,
  HEADER_LENGTH_OFFSET,
  DEFAULT_GROUP,
  GROUP_ACTIVE,
  GROUP_CAPACITY_OFFSET,
  GROUP_GENERATION,
  GROUP_NAME,
  GROUP_NAME_LENGTH,
  GROUP_STATE,
  MAGIC,
  MAGIC_LENGTH,
  MAGIC_OFFSET,
  PAGE_LENGTH,
  POSITION_MASK,
  RING_ID_LENGTH,
  RING_ID_OFFSET,
  SEQUENCE_RELEASED_BIT,
  SLOT_COUNT_OFFSET,
  SLOT_SIZE_OFFSET,
  SLOT_STRIDE_OFFSET,
  TAIL_OFFSET,
  VERSION_OFFSET,
  WORD,
  groupOffset,
  ringGeometry,
  seqValue,
  type RingGeometry,
} from './ring-layout.js';

export interface CreatorDetails {
  readonly pid: number;
  readonly startTicks: number;
  readonly createdAt: number;
  /** 16 random bytes naming this ring (new at every creation); zeros when not given. */
  readonly id?: Buffer;
}

export interface RingHeader extends RingGeometry, Omit<CreatorDetails, 'id'> {
  readonly version: number;
  /** The ring's identity as 32 hex digits: new at every creation of the file. */
  readonly id: string;
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
  memory.writeUInt32LE(geometry.groupCapacity, GROUP_CAPACITY_OFFSET);
  memory.writeDoubleLE(creator.createdAt, CREATED_AT_OFFSET);
  memory.writeUInt32LE(creator.pid, CREATOR_PID_OFFSET);
  memory.writeUInt32LE(geometry.dataOffset, DATA_OFFSET_OFFSET);
  memory.writeBigUInt64LE(BigInt(geometry.fileLength), FILE_LENGTH_OFFSET);
  memory.writeDoubleLE(creator.startTicks, CREATOR_START_OFFSET);
  creator.id?.copy(memory, RING_ID_OFFSET, 0, RING_ID_LENGTH);
  // The default group, lossless, from position 0: what receive uses when no group is named.
  const group = groupOffset(0);
  memory.writeUInt32LE(GROUP_ACTIVE, group + GROUP_STATE);
  memory.writeUInt32LE(1, group + GROUP_GENERATION);
  memory.writeUInt32LE(Buffer.byteLength(DEFAULT_GROUP), group + GROUP_NAME_LENGTH);
  memory.write(DEFAULT_GROUP, group + GROUP_NAME, 'utf8');
  // Slot i starts as the skip record of position i - N: free for position i.
  for (let index = 0; index < geometry.slotCount; index++) {
    memory.writeInt32LE(seqValue(index - geometry.slotCount) | SEQUENCE_RELEASED_BIT, geometry.headerLength + index * WORD);
  }
}

/** The ready marker: the magic's last word is stored atomically, after everything else. */
export function publishHeader(memory: Buffer): void {
  memory.write(MAGIC.slice(0, WORD), MAGIC_OFFSET, 'latin1');
  const words = new Int32Array(memory.buffer, memory.byteOffset, PAGE_LENGTH / WORD);
  Atomics.store(words, (MAGIC_OFFSET + WORD) / WORD, MAGIC_LAST_WORD);
}

const MAGIC_LAST_WORD = Buffer.from(MAGIC.slice(WORD, MAGIC_LENGTH), 'latin1').readInt32LE(0);

export type HeaderCheck =
  | { readonly kind: 'ready'; readonly header: RingHeader }
  /** All of the magic is zero: a creator may still be initialising it. */
  | { readonly kind: 'uninitialised' }
  | { readonly kind: 'invalid'; readonly reason: string; readonly version?: number };

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
  const words = new Int32Array(memory.buffer, memory.byteOffset, Math.min(memory.length, PAGE_LENGTH) >> 2);
  Atomics.load(words, (MAGIC_OFFSET + WORD) / WORD); // acquire: pairs with publishHeader's store
  const magic = memory.subarray(MAGIC_OFFSET, MAGIC_OFFSET + MAGIC_LENGTH);
  if (magic.every((byte) => byte === 0)) return { kind: 'uninitialised' };
  if (magic.toString('latin1') !== MAGIC) {
    return { kind: 'invalid', reason: `not a ring file (magic ${describeMagic(magic)}, expected "${MAGIC}")` };
  }
  if (fileLength < PAGE_LENGTH) {
    return { kind: 'invalid', reason: `truncated ring file (${fileLength} bytes, the header alone needs at least ${PAGE_LENGTH})` };
  }
  const version = memory.readUInt32LE(VERSION_OFFSET);
  if (version !== FORMAT_VERSION) {
    const what =
      version === 1 || version === 2
        ? `is a ring of format version ${version}, written by an earlier mmapipc; this mmapipc reads version ${FORMAT_VERSION} only: drain it with the mmapipc that made it, then remove it (mmapipc rm) and let a sender create it anew`
        : `has ring format version ${version}, which this mmapipc does not know (it reads version ${FORMAT_VERSION}); use the mmapipc that made it`;
    return { kind: 'invalid', reason: what, version };
  }
  const slotCount = memory.readUInt32LE(SLOT_COUNT_OFFSET);
  const slotSize = memory.readUInt32LE(SLOT_SIZE_OFFSET);
  const groupCapacity = memory.readUInt32LE(GROUP_CAPACITY_OFFSET);
  const geometry = ringGeometry(slotCount, slotSize, groupCapacity);
  if (typeof geometry === 'string') return { kind: 'invalid', reason: `corrupt ring header: ${geometry}` };
  const mismatch = (field: string, found: number, expected: number) =>
    found === expected ? undefined : `corrupt ring header: ${field} is ${found}, expected ${expected}`;
  const problem =
    mismatch('header length', memory.readUInt32LE(HEADER_LENGTH_OFFSET), geometry.headerLength) ??
    mismatch('slot stride', memory.readUInt32LE(SLOT_STRIDE_OFFSET), geometry.slotStride) ??
    mismatch('data offset', memory.readUInt32LE(DATA_OFFSET_OFFSET), geometry.dataOffset) ??
    mismatch('recorded file length', Number(memory.readBigUInt64LE(FILE_LENGTH_OFFSET)), geometry.fileLength);
  if (problem) return { kind: 'invalid', reason: problem };
  if (fileLength !== geometry.fileLength) {
    const what = fileLength < geometry.fileLength ? 'truncated ring file' : 'sizes do not add up';
    return {
      kind: 'invalid',
      reason: `${what} (${fileLength} bytes, ${slotCount} slots of ${slotSize} bytes need exactly ${geometry.fileLength})`,
    };
  }
  if (memory.length >= TAIL_OFFSET + 8) {
    const tail = Number(memory.readBigUInt64LE(TAIL_OFFSET) & POSITION_MASK);
    if (tail > 2 ** 53) return { kind: 'invalid', reason: `corrupt ring header: tail position ${tail} is beyond 2^53` };
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
    id: memory.toString('hex', RING_ID_OFFSET, RING_ID_OFFSET + RING_ID_LENGTH),
  };
}
