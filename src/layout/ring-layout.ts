/**
 * Ring file format v3: where every byte lives. Pure: no fs, no FFI. docs/format.md describes the
 * same bytes in prose; this file is the authority.
 *
 * Little-endian words, 4-aligned (Int32Array + Atomics); 64-bit positions are 8-aligned
 * (BigUint64Array + Atomics); doubles (f64) are 8-aligned. Offsets are built one step at a time;
 * the words that different sides write sit in blocks of their own (BLOCK_LENGTH = two cache lines).
 *
 *   0: identity (magic written last)            128: tail (u64: gate epoch << 56 | position)
 *   256: members-waiting word                   384: senders-waiting word
 *   512: statistics                             1024: participant table (64 x 128 bytes)
 *   9216: group table (G x 128 bytes)           H = align4096(9216 + G x 128): sequence words
 *   H: N sequence words (u32), one per slot     D = H + align64(4N): slot 0 ... slot N-1 (stride bytes each)
 *
 * A message occupies `span` consecutive slots (never split across the end of the ring): a 32-byte
 * message header, an optional extension, then the payload, contiguous from its first slot on.
 *   0        4        8        12       16                24       28       32
 *   +--------+--------+--------+--------+-----------------+--------+--------+---------------------+
 *   | length | span   | pid    | ext|knd| sentAt (f64 ms) | owner  | 0      | extension, payload  |
 *   +--------+--------+--------+--------+-----------------+--------+--------+---------------------+
 *
 * Protocol in one sentence: position q holds the first slot of a message once its sequence word
 * reads seqValue(q) (q + 1 in 30 bits) with no flag; the sender writes it last, after the
 * message and the sequence words of the message's other slots (seqValue | SKIP), and no consumer
 * ever writes a slot: groups keep cursors, and senders wait for the slowest lossless group.
 */

export const MAGIC = 'MMAPIPCR';
export const MAGIC_LENGTH = 8;
export const FORMAT_VERSION = 3;
export const WORD = 4;
export const CACHE_LINE_LENGTH = 64;
/** Hot words get two cache lines each, against adjacent-line prefetching (as Agrona does). */
export const BLOCK_LENGTH = CACHE_LINE_LENGTH * 2;

// ---- identity block (written once by the creator; magic last) ----
let offset = 0;
export const MAGIC_OFFSET = offset;
offset += MAGIC_LENGTH;
export const VERSION_OFFSET = offset;
offset += WORD;
export const HEADER_LENGTH_OFFSET = offset;
offset += WORD;
export const SLOT_COUNT_OFFSET = offset;
offset += WORD;
export const SLOT_SIZE_OFFSET = offset;
offset += WORD;
export const SLOT_STRIDE_OFFSET = offset;
offset += WORD;
export const GROUP_CAPACITY_OFFSET = offset;
offset += WORD;
export const CREATED_AT_OFFSET = offset; // f64, ms since the epoch
offset += 8;
export const CREATOR_PID_OFFSET = offset;
offset += WORD;
export const DATA_OFFSET_OFFSET = offset; // u32: where slot 0 starts (= D)
offset += WORD;
export const CREATOR_START_OFFSET = offset; // f64, creator's start time in clock ticks since boot
offset += 8;
export const RING_ID_OFFSET = offset; // 16 random bytes: this ring's identity, new at each creation
export const RING_ID_LENGTH = 16;
offset += RING_ID_LENGTH;
export const FILE_LENGTH_OFFSET = offset; // u64: the whole file's length
offset += 8;

// ---- hot blocks ----
offset = BLOCK_LENGTH;
/**
 * The tail: a u64 whose low 56 bits are the next position a sender claims (positions count
 * messages from 0 and never wrap) and whose top 8 bits are the gate epoch, bumped (mod 256)
 * whenever a lossless group's cursor moves back or a group starts gating, so that a sender's
 * claim decided on an older gate fails its compare-and-swap.
 */
export const TAIL_OFFSET = offset;
/**
 * Messages published by senders with no participant entry (u64, two u32 words, atomic add).
 * Senders with an entry count in it (PARTICIPANT_SENT): no locked add per message. The ring's
 * sent total, a count that only grows, is this plus every entry's. In the tail block's second
 * cache line, which only senders write.
 */
export const MESSAGES_SENT_OFFSET = offset + CACHE_LINE_LENGTH;
offset += BLOCK_LENGTH;
/**
 * Wait words (futex): event counts, bit 0 "someone may be asleep", bits 1-31 a wake-up count.
 * See ../ring/wait-word.ts and docs/format.md §8.
 */
export const MEMBERS_WAITING_OFFSET = offset;
offset += BLOCK_LENGTH;
export const SENDERS_WAITING_OFFSET = offset;
offset += BLOCK_LENGTH;
/**
 * Beside each waiting word W, in its block (docs/format.md §8):
 *   W+4  futex sleepers: threads in (or entering) FUTEX_WAIT on W
 *   W+8  bell listeners: event loops watching the ring file with inotify (or about to)
 *   W+64 bell: the byte a waker pwrite(2)s to raise IN_MODIFY for every watcher (value meaningless)
 */
export const WAIT_FUTEX_SLEEPERS_DELTA = 4;
export const WAIT_BELL_LISTENERS_DELTA = 8;
export const WAIT_BELL_BYTE_DELTA = 64;

// ---- statistics ----
export const RELEASED_SLOTS_OFFSET = offset; // u32: sender claims released after their owner died
export const REDELIVERED_OFFSET = offset + WORD; // u32: messages handed on after a member died, all groups
export const LAST_ACTIVITY_OFFSET = offset + 2 * WORD; // f64 ms since the epoch, approximate
/**
 * u64 (two u32 words): messages the members of groups since removed had finished. The ring's
 * delivered total is this plus every active group's own count (stat's received total; only grows).
 */
export const DELIVERED_OFFSET = offset + 4 * WORD;
/** u32: the retire sequence, odd while a group's count moves into DELIVERED_OFFSET (a seqlock for readers). */
export const RETIRE_SEQUENCE_OFFSET = offset + 6 * WORD;
offset += BLOCK_LENGTH * 4;

// ---- participant table: one entry per attached process ----
export const PARTICIPANTS_OFFSET = offset; // 1024
export const PARTICIPANT_CAPACITY = 64;
export const PARTICIPANT_LENGTH = 128;
/**
 * Participant entry:
 *   0 pid (u32, 0 = free)      4 role bits            8 start ticks (f64)     16 attached at (f64 ms)
 *  24 generation (u32)        28 group word (index + 1 | group generation << 8; 0 = none)
 *  32 send intent start (u64) 40 send intent count    44 run count            48 run start (u64)
 *  56 run deliveries          60 reserved             64 intent since (f64)   72 run since (f64: its first message's stamp)
 *  80 pid namespace (u64: inode of /proc/self/ns/pid, 0 unknown)                  88 uid (u32)   92 reserved
 *
 * Liveness: an entry whose pid word is not 0 belongs to a live process exactly while someone
 * holds an open-file-description write lock on its first byte (1 byte at participantOffset(index));
 * the pid is for people only (docs/format.md §5.2).
 */
export const PARTICIPANT_PID = 0;
export const PARTICIPANT_ROLE = 4;
export const PARTICIPANT_START = 8;
export const PARTICIPANT_ATTACHED_AT = 16;
export const PARTICIPANT_GENERATION = 24;
export const PARTICIPANT_GROUP = 28;
export const PARTICIPANT_INTENT_START = 32;
export const PARTICIPANT_INTENT_COUNT = 40;
export const PARTICIPANT_RUN_COUNT = 44;
export const PARTICIPANT_RUN_START = 48;
export const PARTICIPANT_RUN_DELIVERIES = 56;
export const PARTICIPANT_INTENT_SINCE = 64;
export const PARTICIPANT_RUN_SINCE = 72;
export const PARTICIPANT_PID_NAMESPACE = 80;
export const PARTICIPANT_UID = 88;
/**
 * u64 (two u32 words, low first): messages sent through this entry, by every process that has
 * held it (a new owner goes on from the value it finds). Written only by the entry's owner, with
 * plain stores; the ring's sent total is the sum over all entries plus MESSAGES_SENT_OFFSET.
 */
export const PARTICIPANT_SENT = 96;
export const ROLE_SENDER = 1;
export const ROLE_RECEIVER = 2;
/** The group word: bits 0-7 group index + 1 (0: no group), bits 8-31 the group's generation. */
export const GROUP_WORD_INDEX_MASK = 0xff;
export const GROUP_WORD_GENERATION_SHIFT = 8;
offset += PARTICIPANT_CAPACITY * PARTICIPANT_LENGTH;

// ---- group table ----
export const GROUPS_OFFSET = offset; // 9216
export const GROUP_LENGTH = 128;
/**
 * Group entry:
 *   0 state (0 free, 1 being set up, 2 active)   4 flags (bit 0: lossy)   8 dispatch (u64)
 *  16 generation (u32)   20 redelivered (u32)   24 missed (u32)   28 gaps (u32)
 *  32 name length   36 name (up to 48 bytes UTF-8)   88 created at (f64)
 *  96 delivered (u64: messages the group's members finished since it was created)   104 reserved
 */
export const GROUP_STATE = 0;
export const GROUP_FLAGS = 4;
export const GROUP_DISPATCH = 8;
export const GROUP_GENERATION = 16;
export const GROUP_REDELIVERED = 20;
export const GROUP_MISSED = 24;
export const GROUP_GAPS = 28;
export const GROUP_NAME_LENGTH = 32;
export const GROUP_NAME = 36;
export const GROUP_NAME_MAX = 48;
export const GROUP_CREATED_AT = 88;
export const GROUP_DELIVERED = 96;
/**
 * A group's dispatch word: the low 56 bits are the next position it hands out, the top 8 bits
 * the participant entry + 1 of the member whose compare-and-swap set it (0: set by create or
 * reset). Whoever sees the word names the last claimer, so a run that claimer recorded as
 * pending (see RUN_PENDING_BIT) and that ends there is proven claimed.
 */
export const CLAIMER_SHIFT = 56n;
/** Set in a member's run count from recording the run until someone confirms its claim (or it is finished). */
export const RUN_PENDING_BIT = -0x80000000;
export const RUN_COUNT_MASK = 0x7fffffff;
export const GROUP_FREE = 0;
export const GROUP_SETTING_UP = 1;
export const GROUP_ACTIVE = 2;
export const GROUP_FLAG_LOSSY = 1;
/**
 * Bits 8-31 of a group's flags word count the changes of its lossy flag (mod 2^24): a member
 * that claimed a run while the group was lossless compares the word after copying, and checks
 * each copy against the tail when it changed (docs/format.md §7.4).
 */
export const GROUP_FLAG_CHANGE_UNIT = 0x100;
export const DEFAULT_GROUP = 'default';
export const DEFAULT_GROUP_CAPACITY = 8;
export const MAX_GROUP_CAPACITY = 64;

export const PAGE_LENGTH = 4096;

// ---- message header: at the first slot of every message ----
let slotOffset = 0;
/** Payload bytes (u32). */
export const SLOT_LENGTH = slotOffset;
slotOffset += WORD;
/** Slots the message occupies (u32, 1 to N): ceil((header + extension + length) / stride). */
export const SLOT_SPAN = slotOffset;
slotOffset += WORD;
export const SLOT_PID = slotOffset;
slotOffset += WORD;
/** u32: bits 0-15 extension length in bytes (a multiple of 8, 0 here), bits 16-23 kind (0: message), bits 24-31 zero. */
export const SLOT_SHAPE = slotOffset;
slotOffset += WORD;
export const SLOT_SENT_AT = slotOffset; // f64
slotOffset += 8;
export const SLOT_OWNER = slotOffset; // the sender's owner tag
slotOffset += WORD;
export const SLOT_RESERVED = slotOffset;
slotOffset += WORD;
export const SLOT_HEADER_LENGTH = slotOffset;
export const SLOT_ALIGNMENT = 8;
export const SHAPE_EXTENSION_MASK = 0xffff;
export const SHAPE_KIND_SHIFT = 16;
export const KIND_MESSAGE = 0;
/**
 * Bytes of every ring kept back from its stated largest payload for an extension: the largest one
 * mmapipc writes (a request's, and an imported message's origin, 40 bytes each). So any payload a
 * ring takes also fits, as a request or as an imported message, in a ring of the same geometry.
 */
export const EXTENSION_RESERVE = 40;
/** Sequence words sit in their own array; its end is aligned to a cache line before slot 0. */
export const SEQUENCE_ARRAY_ALIGNMENT = CACHE_LINE_LENGTH;

/** Sequence words keep q + 1 in their low 30 bits. */
export const SEQUENCE_VALUE_MASK = 0x3fffffff;
/**
 * Set with q + 1 for a skip record: no message starts at q. Written by a sender for the other
 * slots of a message and for padding before the end of the ring, and by recovery when it
 * releases a dead sender's claim at q. Every reader passes over it.
 */
export const SEQUENCE_RELEASED_BIT = 0x40000000;
export const SEQUENCE_SKIP_BIT = SEQUENCE_RELEASED_BIT;

/** The sequence value that says "this slot speaks for position q": q + 1 in 30 bits. */
export function seqValue(position: number): number {
  return (position + 1) & SEQUENCE_VALUE_MASK;
}

/** 2^56: the unit of the gate epoch in the tail word. */
export const EPOCH_UNIT = 1n << 56n;
export const POSITION_MASK = EPOCH_UNIT - 1n;

/**
 * An owner tag names a participant entry as it was taken: bits 0-6 the entry index + 1 (0: none),
 * bits 7-29 the entry's generation (mod 2^23). An entry taken over later has a newer generation.
 */
export const OWNER_ENTRY_MASK = 0x7f;
export const OWNER_GENERATION_SHIFT = 7;
export const OWNER_GENERATION_MASK = 0x7fffff;

export function ownerTag(index: number, generation: number): number {
  return index < 0 ? 0 : ((generation & OWNER_GENERATION_MASK) << OWNER_GENERATION_SHIFT) | (index + 1);
}

// ---- limits ----
export const DEFAULT_SLOT_COUNT = 100;
export const DEFAULT_SLOT_SIZE = 64;
export const MIN_SLOT_COUNT = 2;
/** Below 2^29, so that seqValue tells q, q - N and q - 2N apart. */
export const MAX_SLOT_COUNT = 1 << 28;
export const MAX_SLOT_SIZE = 1 << 20;
/**
 * The largest ring file this implementation makes or opens: 1 TiB. Not a limit of the format
 * (the file length is a u64): the mapping takes that much address space, and 1 TiB leaves room
 * under x86-64's 128 TiB for many rings. Slots beyond 4 GiB are seen through windows (data-windows.ts).
 */
export const MAX_FILE_LENGTH = 2 ** 40;
/**
 * A message's slots, its header included, span at most 2 GiB: its u32 length is read as a signed
 * 32-bit word, and a ring whose slots pass 4 GiB overlaps its windows by this much (data-windows.ts).
 */
export const MAX_SPAN_LENGTH = 2 ** 31;
/** Positions stay below 2^53 (exact as JavaScript numbers; 285 years at a billion a second). */
export const MAX_POSITION = 2 ** 53 - 1;

export interface RingGeometry {
  readonly slotCount: number;
  /** Payload bytes a one-slot message holds (stride - 32). */
  readonly slotSize: number;
  readonly slotStride: number;
  readonly groupCapacity: number;
  /** Where the sequence words start (= the header's length). */
  readonly headerLength: number;
  /** Where slot 0 starts. */
  readonly dataOffset: number;
  readonly fileLength: number;
  /** Bytes of slots: slotCount x slotStride, from dataOffset to the end of the file. */
  readonly dataLength: number;
  /** The most slots one message spans: all of them, or as many as MAX_SPAN_LENGTH holds. */
  readonly maxSpan: number;
  /**
   * The largest payload: a message that spans maxSpan slots with EXTENSION_RESERVE bytes to
   * spare (maxSpan x stride - 32 - 40), whatever its kind.
   */
  readonly maxMessageLength: number;
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export function headerLengthFor(groupCapacity: number): number {
  return alignUp(GROUPS_OFFSET + groupCapacity * GROUP_LENGTH, PAGE_LENGTH);
}

/**
 * The geometry of a ring with `slotCount` slots of `slotSize` payload bytes and room for
 * `groupCapacity` groups, or a reason why there is none. The creator and every opener compute
 * it, so nothing derivable is trusted from the file.
 */
export function ringGeometry(slotCount: number, slotSize: number, groupCapacity = DEFAULT_GROUP_CAPACITY): RingGeometry | string {
  if (!Number.isInteger(slotCount) || slotCount < MIN_SLOT_COUNT || slotCount > MAX_SLOT_COUNT) {
    return `slot count must be an integer from ${MIN_SLOT_COUNT} to ${MAX_SLOT_COUNT}, got ${slotCount}`;
  }
  if (!Number.isInteger(slotSize) || slotSize < 1 || slotSize > MAX_SLOT_SIZE) {
    return `slot size must be an integer from 1 to ${MAX_SLOT_SIZE} bytes, got ${slotSize}`;
  }
  if (!Number.isInteger(groupCapacity) || groupCapacity < 1 || groupCapacity > MAX_GROUP_CAPACITY) {
    return `group capacity must be an integer from 1 to ${MAX_GROUP_CAPACITY}, got ${groupCapacity}`;
  }
  const slotStride = alignUp(SLOT_HEADER_LENGTH + slotSize, SLOT_ALIGNMENT);
  const headerLength = headerLengthFor(groupCapacity);
  const dataOffset = headerLength + alignUp(slotCount * WORD, SEQUENCE_ARRAY_ALIGNMENT);
  const dataLength = slotCount * slotStride;
  const fileLength = dataOffset + dataLength;
  if (fileLength > MAX_FILE_LENGTH) {
    return `${slotCount} slots of ${slotSize} bytes need ${fileLength} bytes, more than the ${MAX_FILE_LENGTH}-byte (1 TiB) limit of a ring file`;
  }
  const maxSpan = Math.min(slotCount, Math.floor(MAX_SPAN_LENGTH / slotStride));
  const maxMessageLength = maxSpan * slotStride - SLOT_HEADER_LENGTH - EXTENSION_RESERVE;
  return { slotCount, slotSize, slotStride, groupCapacity, headerLength, dataOffset, fileLength, dataLength, maxSpan, maxMessageLength };
}

/** How many slots of `slotSize` payload bytes fit in `bytes` of room (a slot is its stride). */
export function slotCountForSize(bytes: number, slotSize: number): number {
  return Math.floor(bytes / alignUp(SLOT_HEADER_LENGTH + slotSize, SLOT_ALIGNMENT));
}

/** Slots a message of `length` payload bytes occupies (its header included). */
export function spanOf(geometry: RingGeometry, length: number): number {
  const bytes = SLOT_HEADER_LENGTH + length;
  return bytes <= geometry.slotStride ? 1 : Math.ceil(bytes / geometry.slotStride);
}

/** Byte offset of slot `index` (0 to N - 1) in the file. */
export function slotOffsetOf(geometry: RingGeometry, index: number): number {
  return geometry.dataOffset + index * geometry.slotStride;
}

/** Byte offset of the sequence word of slot `index`. */
export function sequenceOffsetOf(geometry: RingGeometry, index: number): number {
  return geometry.headerLength + index * WORD;
}

/** Int32 index of the sequence word of slot `index`. */
export function sequenceWordOf(geometry: RingGeometry, index: number): number {
  return (geometry.headerLength >> 2) + index;
}

export function participantOffset(index: number): number {
  return PARTICIPANTS_OFFSET + index * PARTICIPANT_LENGTH;
}

export function groupOffset(index: number): number {
  return GROUPS_OFFSET + index * GROUP_LENGTH;
}
