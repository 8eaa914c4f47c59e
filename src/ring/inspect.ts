/**
 * Reading a ring's state from its memory without taking part in it: positions, backlog,
 * totals, statistics, and the waiting messages themselves (for `stat` and `peek`). Pure: it
 * sees a Buffer and the geometry, writes nothing, and never blocks a sender or receiver.
 *
 * Everything here is a snapshot of words that other processes keep changing; each value is
 * read atomically, and a peeked message is trusted only if its slot's sequence word reads the
 * same before and after the copy (see peekMessages).
 */
import {
  HEAD_LAPS_OFFSET,
  HEAD_OFFSET,
  LAST_ACTIVITY_OFFSET,
  REDELIVERED_OFFSET,
  RELEASED_SLOTS_OFFSET,
  ROLE_RECEIVER,
  ROLE_SENDER,
  SEQUENCE_RELEASED_BIT,
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  SLOT_PID,
  SLOT_SENT_AT,
  SLOT_SEQUENCE,
  TAIL_LAPS_OFFSET,
  TAIL_OFFSET,
  WORD,
  slotOffsetOf,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { PositionSpace } from './positions.js';

export interface RingState {
  /** Next position a receiver claims, in [0, positionLimit). */
  readonly head: number;
  /** Next position a sender claims, in [0, positionLimit). */
  readonly tail: number;
  /** Messages between head and tail (committed, or claimed and still being written). */
  readonly waiting: number;
  /** Messages claimed by senders since creation (laps * positionLimit + tail). */
  readonly sent: number;
  /** Messages claimed by receivers since creation (laps * positionLimit + head). */
  readonly received: number;
  /** Claims released after their owner died or stalled (the RELEASED_SLOTS word). */
  readonly releasedSlots: number;
  /** Messages handed to a new receiver after the one holding them died. */
  readonly redelivered: number;
  /** When a sender or receiver last marked activity, ms since the epoch; 0 when never. */
  readonly lastActivity: number;
}

/** A waiting message, copied out of its slot. */
export interface PeekedMessage {
  /** Its sequence number: the same one `receive` will report for it. */
  readonly sequence: number;
  readonly pid: number;
  /** ms since the epoch, 0 when the sender did not stamp it. */
  readonly sentAt: number;
  readonly data: Buffer;
}

export type RoleName = 'sender' | 'receiver' | 'both' | 'observer';

/** The role bits of a participant entry as a name (as RingFile's roles are named). */
export function roleName(role: number): RoleName {
  const sender = (role & ROLE_SENDER) !== 0;
  const receiver = (role & ROLE_RECEIVER) !== 0;
  return sender && receiver ? 'both' : sender ? 'sender' : receiver ? 'receiver' : 'observer';
}

/** The role bits in words: 'sender', 'receiver', 'sender and receiver', 'observer'. */
export function describeRole(role: number): string {
  const name = roleName(role);
  return name === 'both' ? 'sender and receiver' : name;
}

/** Word views over the mapping, for Atomics (which need 4- and 8-aligned typed arrays). */
function wordsOf(memory: Buffer, geometry: RingGeometry): Int32Array {
  return new Int32Array(memory.buffer, memory.byteOffset, geometry.fileLength / WORD);
}

/**
 * A position and its lap count read as one: the laps are read on both sides of the position
 * and the read repeats until they agree. A claimer bumps the laps just after wrapping the
 * position to 0, so for that instant the total can still be one lap short.
 */
function readCounter(words: Int32Array, positionIndex: number, lapsIndex: number, limit: number): { position: number; total: number } {
  for (;;) {
    const laps = Atomics.load(words, lapsIndex) >>> 0;
    const position = Atomics.load(words, positionIndex) >>> 0;
    if ((Atomics.load(words, lapsIndex) >>> 0) === laps) return { position, total: laps * limit + position };
  }
}

const readHead = (words: Int32Array, limit: number) => readCounter(words, HEAD_OFFSET / WORD, HEAD_LAPS_OFFSET / WORD, limit);
const readTail = (words: Int32Array, limit: number) => readCounter(words, TAIL_OFFSET / WORD, TAIL_LAPS_OFFSET / WORD, limit);

export function readRingState(memory: Buffer, geometry: RingGeometry): RingState {
  const words = wordsOf(memory, geometry);
  const positions = new PositionSpace(geometry.positionLimit, geometry.slotCount);
  // Head first: the tail never falls behind a head read earlier, so the backlog is not negative
  // (the clamp covers a tail that raced a full lap ahead, which a snapshot cannot tell apart).
  const head = readHead(words, positions.limit);
  const tail = readTail(words, positions.limit);
  const backlog = positions.distance(tail.position, head.position);
  const lastActivity = new Float64Array(memory.buffer, memory.byteOffset + LAST_ACTIVITY_OFFSET, 1)[0]!;
  return {
    head: head.position,
    tail: tail.position,
    waiting: Math.min(Math.max(backlog, 0), geometry.slotCount),
    sent: tail.total,
    received: Math.min(head.total, tail.total),
    releasedSlots: Atomics.load(words, RELEASED_SLOTS_OFFSET / WORD) >>> 0,
    redelivered: Atomics.load(words, REDELIVERED_OFFSET / WORD) >>> 0,
    lastActivity: Number.isFinite(lastActivity) && lastActivity > 0 ? lastActivity : 0,
  };
}

/** How many times a peek starts again from a moved head before giving up on a busy ring. */
const MAX_RESTARTS = 8;

/**
 * Up to `max` waiting messages, oldest first, copied without consuming them.
 *
 * Protocol (src/ring/ring.ts): the slot for position p holds a committed message when its
 * sequence word reads p + 1 (modulo the position limit; with SEQUENCE_RELEASED_BIT when
 * recovery gave a dead sender's claim up, which receivers skip and so does peek). A copy is
 * kept only if the word reads the same after the copy; otherwise a receiver took the message
 * (and a sender may have reused the slot) meanwhile, and the peek starts again from the moved
 * head. The walk stops at the first slot that is free or still being written, as receivers do.
 */
export function peekMessages(memory: Buffer, geometry: RingGeometry, max: number): PeekedMessage[] {
  const words = wordsOf(memory, geometry);
  const doubles = new Float64Array(memory.buffer, memory.byteOffset, geometry.fileLength / 8);
  const positions = new PositionSpace(geometry.positionLimit, geometry.slotCount);
  const found: PeekedMessage[] = [];
  let start = readHead(words, positions.limit);
  let position = start.position;
  let restarts = 0;
  let steps = 0; // a walk never needs more than slotCount steps from one head
  while (found.length < max && steps++ < geometry.slotCount) {
    const slot = slotOffsetOf(geometry, positions.indexOf(position));
    const sequenceIndex = (slot + SLOT_SEQUENCE) / WORD;
    const before = Atomics.load(words, sequenceIndex);
    const ahead = positions.distance(before & ~SEQUENCE_RELEASED_BIT, positions.next(position));
    if (ahead < 0) break; // free or still being written: nothing committed from here on
    if (ahead === 0) {
      const length = Atomics.load(words, (slot + SLOT_LENGTH) / WORD);
      const pid = Atomics.load(words, (slot + SLOT_PID) / WORD) >>> 0;
      const sentAt = doubles[(slot + SLOT_SENT_AT) / 8]!;
      const payload = slot + SLOT_HEADER_LENGTH;
      const data = length >= 0 && length <= geometry.slotSize ? Buffer.from(memory.subarray(payload, payload + length)) : undefined;
      if (Atomics.load(words, sequenceIndex) === before) {
        if (data && (before & SEQUENCE_RELEASED_BIT) === 0) {
          found.push({ sequence: start.total + positions.distance(position, start.position), pid, sentAt, data });
        }
        position = positions.next(position);
        continue;
      }
    }
    // Consumed while we looked. Receivers take messages in order, so everything copied so far
    // has gone too: start again from the head.
    const head = readHead(words, positions.limit);
    if (++restarts > MAX_RESTARTS || positions.distance(head.position, position) <= 0) break;
    start = head;
    position = head.position;
    found.length = 0;
    steps = 0;
  }
  return found;
}
