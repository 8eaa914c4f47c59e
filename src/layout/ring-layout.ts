/**
 * Ring file format v1: where every byte lives. Pure: no fs, no FFI.
 *
 * All integers are little-endian 32-bit words (the only byte order mmapipc runs on), aligned so
 * that an Int32Array over the mapping can use Atomics on each of them. Offsets are built one
 * step at a time; hot words written by different sides sit in blocks of their own
 * (BLOCK_LENGTH = two cache lines) so senders and receivers do not share cache lines.
 *
 *   0                8       12      16      20      24      28      32               40      44      48               56 .. 128
 *   +----------------+-------+-------+-------+-------+-------+-------+----------------+-------+-------+----------------+
 *   | magic MMAPIPCR |version|hdr len|slots N|size S |stride |limit L| created at f64 |  pid  |file len| creator start | identity
 *   +----------------+-------+-------+-------+-------+-------+-------+----------------+-------+-------+----------------+
 *   128: tail position, tail laps                 (senders' claims)
 *   256: head position, head laps                 (receivers' claims)
 *   384: receivers-waiting word                   (receivers sleep on it, senders clear it)
 *   512: senders-waiting word                     (senders sleep on it, receivers clear it)
 *   640: statistics: released slots, last activity, ...
 *   1024: participant table: PARTICIPANT_CAPACITY entries of PARTICIPANT_LENGTH bytes
 *   4096: slot 0, slot 1, ... slot N-1 (each SLOT_HEADER_LENGTH + payload, 8-aligned)
 *
 * Slot:
 *   0        4        8        12       16                24       28       32
 *   +--------+--------+--------+--------+-----------------+--------+--------+-----------
 *   | seq    | length | pid    | flags  | sentAt (f64 ms) |ownerPos| owner  | payload ...
 *   +--------+--------+--------+--------+-----------------+--------+--------+-----------
 *
 * Protocol in one sentence: a slot holds the message for position p once its sequence word
 * reads p + 1, and is free for position p once it reads p (modulo the position limit); the
 * sequence word is always written last.
 *
 * Owners: a sender that claims position p writes ownerPos = p and owner = its participant entry
 * + 1; a receiver that claims the message for p writes owner = OWNER_RECEIVER_BIT | entry + 1.
 * Recovery reads them to prove a claim's owner dead (pid and start time in the entry).
 */

export const MAGIC = 'MMAPIPCR';
export const MAGIC_LENGTH = 8;
export const FORMAT_VERSION = 1;
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
export const POSITION_LIMIT_OFFSET = offset;
offset += WORD;
export const CREATED_AT_OFFSET = offset; // f64, ms since the epoch
offset += 8;
export const CREATOR_PID_OFFSET = offset;
offset += WORD;
export const FILE_LENGTH_OFFSET = offset;
offset += WORD;
export const CREATOR_START_OFFSET = offset; // f64, creator's start time in clock ticks since boot
offset += 8;

// ---- hot blocks ----
offset = BLOCK_LENGTH;
export const TAIL_OFFSET = offset; // next position a sender claims
export const TAIL_LAPS_OFFSET = offset + WORD; // times the tail wrapped at the position limit
offset += BLOCK_LENGTH;
export const HEAD_OFFSET = offset; // next position a receiver claims
export const HEAD_LAPS_OFFSET = offset + WORD;
offset += BLOCK_LENGTH;
/**
 * Wait words: 1 while a process may be asleep on the word (futex), 0 otherwise. A sleeper sets
 * it to 1, re-checks the ring, then sleeps while it still reads 1; whoever commits (or frees) a
 * slot and finds 1 swaps in 0 and wakes every sleeper: one wake call per sleep, none otherwise.
 */
export const RECEIVERS_WAITING_OFFSET = offset;
offset += BLOCK_LENGTH;
export const SENDERS_WAITING_OFFSET = offset;
offset += BLOCK_LENGTH;

// ---- statistics ----
export const RELEASED_SLOTS_OFFSET = offset; // claims released after their owner died or stalled
export const REDELIVERED_OFFSET = offset + WORD; // messages handed to a new receiver after one died
export const LAST_ACTIVITY_OFFSET = offset + 2 * WORD; // f64 ms since the epoch, approximate
offset += BLOCK_LENGTH * 3;

// ---- participant table: one entry per attached process ----
export const PARTICIPANTS_OFFSET = offset;
export const PARTICIPANT_CAPACITY = 64;
export const PARTICIPANT_LENGTH = 32;
/** Entry words: pid (0 = free), role, start time (f64 ticks), attached at (f64 ms), generation. */
export const PARTICIPANT_PID = 0;
export const PARTICIPANT_ROLE = 4;
export const PARTICIPANT_START = 8;
export const PARTICIPANT_ATTACHED_AT = 16;
/** Bumped each time the entry is taken, so an owner tag of a former occupant no longer matches. */
export const PARTICIPANT_GENERATION = 24;
export const ROLE_SENDER = 1;
export const ROLE_RECEIVER = 2;
offset += PARTICIPANT_CAPACITY * PARTICIPANT_LENGTH;

export const RING_HEADER_LENGTH = 4096;
if (offset > RING_HEADER_LENGTH) throw new Error('ring header overflows its page');

// ---- slot layout ----
let slotOffset = 0;
export const SLOT_SEQUENCE = slotOffset;
slotOffset += WORD;
export const SLOT_LENGTH = slotOffset;
slotOffset += WORD;
export const SLOT_PID = slotOffset;
slotOffset += WORD;
export const SLOT_FLAGS = slotOffset;
slotOffset += WORD;
export const SLOT_SENT_AT = slotOffset; // f64
slotOffset += 8;
export const SLOT_OWNER_POSITION = slotOffset; // the position `owner` refers to
slotOffset += WORD;
export const SLOT_OWNER = slotOffset; // participant index + 1 of the claimer, 0 if unknown
slotOffset += WORD;
export const SLOT_HEADER_LENGTH = slotOffset;
export const SLOT_ALIGNMENT = 8;
/** Reserved: no flag is defined in format v1. */
export const SLOT_FLAG_NONE = 0;
/**
 * Set in a sequence word (with p + 1) by recovery when it gives up the claim of a dead or
 * stalled sender: the slot then reads as committed, and receivers skip it. Positions stay below
 * POSITION_SPACE = 2^30, so this bit is never part of a position.
 */
export const SEQUENCE_RELEASED_BIT = 0x40000000;
/**
 * A slot's owner word is an owner tag: bits 0-6 the claimer's participant entry + 1 (0: none),
 * bits 7-29 that entry's generation when the claimer took it, bit 30 set for a receiver's claim.
 * An entry taken over by a newer process has a newer generation, so its tags no longer match.
 */
export const OWNER_RECEIVER_BIT = 0x40000000;
export const OWNER_ENTRY_MASK = 0x7f;
export const OWNER_GENERATION_SHIFT = 7;
export const OWNER_GENERATION_MASK = 0x7fffff;

/** The owner tag of participant entry `index` (-1: none) taken at `generation`. */
export function ownerTag(index: number, generation: number): number {
  return index < 0 ? 0 : ((generation & OWNER_GENERATION_MASK) << OWNER_GENERATION_SHIFT) | (index + 1);
}

// ---- limits ----
export const DEFAULT_SLOT_COUNT = 100;
export const DEFAULT_SLOT_SIZE = 64;
/**
 * With one slot, "committed for p" (p + 1) and "free for p + 1" would be the same sequence
 * value and a sender could overwrite an unread message: the protocol needs two.
 */
export const MIN_SLOT_COUNT = 2;
export const MAX_SLOT_COUNT = 1 << 20;
export const MAX_SLOT_SIZE = 1 << 20;
export const MAX_FILE_LENGTH = 2 ** 31 - 1;
/** Positions live in [0, positionLimit): a multiple of the slot count near 2^30 (see format.md). */
export const POSITION_SPACE = 2 ** 30;

export interface RingGeometry {
  readonly slotCount: number;
  readonly slotSize: number;
  readonly slotStride: number;
  readonly positionLimit: number;
  readonly headerLength: number;
  readonly fileLength: number;
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/**
 * The geometry of a ring with `slotCount` slots of `slotSize` payload bytes, or a reason why
 * there is none. Both the creator and every opener compute it, so nothing derivable is trusted
 * from the file.
 */
export function ringGeometry(slotCount: number, slotSize: number): RingGeometry | string {
  if (!Number.isInteger(slotCount) || slotCount < MIN_SLOT_COUNT || slotCount > MAX_SLOT_COUNT) {
    return `slot count must be an integer from ${MIN_SLOT_COUNT} to ${MAX_SLOT_COUNT}, got ${slotCount}`;
  }
  if (!Number.isInteger(slotSize) || slotSize < 1 || slotSize > MAX_SLOT_SIZE) {
    return `slot size must be an integer from 1 to ${MAX_SLOT_SIZE} bytes, got ${slotSize}`;
  }
  const slotStride = alignUp(SLOT_HEADER_LENGTH + slotSize, SLOT_ALIGNMENT);
  const fileLength = RING_HEADER_LENGTH + slotCount * slotStride;
  if (fileLength > MAX_FILE_LENGTH) {
    return `${slotCount} slots of ${slotSize} bytes need ${fileLength} bytes, more than the ${MAX_FILE_LENGTH}-byte limit`;
  }
  const positionLimit = slotCount * Math.floor(POSITION_SPACE / slotCount);
  return { slotCount, slotSize, slotStride, positionLimit, headerLength: RING_HEADER_LENGTH, fileLength };
}

export function slotOffsetOf(geometry: RingGeometry, index: number): number {
  return geometry.headerLength + index * geometry.slotStride;
}
