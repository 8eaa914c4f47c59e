/**
 * Reading a ring's state without taking part in it: the tail, each group's cursor and lag, the
 * claims still open and who holds them, the statistics, and the waiting messages themselves (for
 * `stat` and `peek`). Pure: it sees the ring's memory and writes nothing.
 *
 * Everything here is a snapshot of words that other processes keep changing; each value is read
 * atomically, and a peeked message is trusted only if its slot was published for its position
 * before the copy and the tail was not claimed past its next lap after it.
 */
import {
  DEFAULT_GROUP,
  LAST_ACTIVITY_OFFSET,
  MESSAGES_SENT_OFFSET,
  PARTICIPANT_CAPACITY,
  PARTICIPANT_SENT,
  participantOffset,
  REDELIVERED_OFFSET,
  RELEASED_SLOTS_OFFSET,
  ROLE_RECEIVER,
  ROLE_SENDER,
  SEQUENCE_SKIP_BIT,
  SEQUENCE_VALUE_MASK,
  SHAPE_EXTENSION_MASK,
  SHAPE_KIND_SHIFT,
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  SLOT_PID,
  SLOT_SENT_AT,
  SLOT_SHAPE,
  SLOT_SPAN,
  sequenceWordOf,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { readCount } from './counts.js';
import { computeGate, dispatchPosition, groupFloor, listGroups, loadDispatch, readTail, type GroupInfo } from './groups.js';
import { listParticipants, type Participant } from './participants.js';
import { claimOwners, isPublished } from './recovery.js';
import type { RingMemory } from '../layout/data-windows.js';
import { decodeOriginExtension, KIND_IMPORTED, type Origin } from '../layout/origin-layout.js';
import { SlotWindows, ringPartsOf } from './slot-windows.js';
import { viewsOf, type RingViews } from './views.js';

export interface GroupState extends GroupInfo {
  /** The oldest position the group has not finished (its cursor, or a member's unfinished run). */
  readonly floor: number;
  /** Messages published or claimed that the group has not taken yet: tail - dispatch. */
  readonly lag: number;
  /** Messages its members hold unfinished. */
  readonly inFlight: number;
  /** Participant entries of its members. */
  readonly members: readonly number[];
}

/** A sender's claim that is not published yet, with the entries that may own it. */
export interface OpenClaim {
  readonly position: number;
  /** Participant entries that may own it; empty when its owner is gone, 'unknown' when none can be named. */
  readonly owners: readonly number[] | 'unknown';
  /** When the owner recorded its intent (ms since the epoch; 0 unknown). */
  readonly since: number;
}

export interface RingState {
  /** Next position a sender claims (positions count slots). */
  readonly tail: number;
  /** Messages published since creation. */
  readonly sent: number;
  /** The lowest floor of the lossless groups; tail when there is none. */
  readonly gate: number;
  /** Messages the slowest lossless group has not finished: what holds senders back (0 to N). */
  readonly waiting: number;
  readonly releasedSlots: number;
  readonly redelivered: number;
  readonly lastActivity: number;
  readonly groups: readonly GroupState[];
  readonly openClaims: readonly OpenClaim[];
}

/** A waiting message, copied out of its slot. */
export interface PeekedMessage {
  /** Its sequence number: the same one `receive` will report for it. */
  readonly sequence: number;
  readonly pid: number;
  readonly sentAt: number;
  readonly data: Buffer;
  /** Where `bridge import` brought it from (kind 3, docs/format.md §9b); undefined for other messages. */
  readonly origin?: Origin;
}

export type RoleName = 'sender' | 'receiver' | 'both' | 'observer';

export function roleName(role: number): RoleName {
  const sender = (role & ROLE_SENDER) !== 0;
  const receiver = (role & ROLE_RECEIVER) !== 0;
  return sender && receiver ? 'both' : sender ? 'sender' : receiver ? 'receiver' : 'observer';
}

export function describeRole(role: number): string {
  const name = roleName(role);
  return name === 'both' ? 'sender and receiver' : name;
}

function groupStates(views: RingViews, geometry: RingGeometry, tail: number, participants: readonly Participant[]): GroupState[] {
  return listGroups(views, geometry).map((group) => {
    const members = participants.filter((entry) => entry.group === group.index && entry.groupGeneration === (group.generation & 0xffffff));
    return {
      ...group,
      floor: groupFloor(views, group.index),
      lag: Math.max(0, tail - group.dispatch),
      inFlight: members.reduce((sum, entry) => sum + entry.run.count, 0),
      members: members.map((entry) => entry.index),
    };
  });
}

function openClaims(views: RingViews, geometry: RingGeometry, tail: number, participants: readonly Participant[]): OpenClaim[] {
  const entries: (Participant | undefined)[] = [];
  for (const entry of participants) entries[entry.index] = entry;
  const claims: OpenClaim[] = [];
  for (let q = Math.max(0, tail - geometry.slotCount); q < tail; q++) {
    if (isPublished(views, geometry, q)) continue;
    const owners = claimOwners(q, entries);
    const list = owners === 'unknown' ? owners : owners.map((entry) => entry.index);
    const since = owners === 'unknown' || owners.length === 0 ? 0 : Math.min(...owners.map((entry) => entry.intent.since || Infinity));
    claims.push({ position: q, owners: list, since: Number.isFinite(since) ? since : 0 });
  }
  return claims;
}

/** Messages sent since creation: every participant entry's count plus the count of senders without one. */
export function messagesSent(words: Int32Array): number {
  let total = readCount(words, MESSAGES_SENT_OFFSET >> 2);
  for (let index = 0; index < PARTICIPANT_CAPACITY; index++) total += readCount(words, (participantOffset(index) + PARTICIPANT_SENT) >> 2);
  return total;
}

export function readRingState(memory: Buffer, geometry: RingGeometry): RingState {
  const views = viewsOf(memory, geometry);
  const { words, doubles } = views;
  const participants = listParticipants(views);
  const tail = readTail(views).position;
  const gate = computeGate(views, geometry);
  const lastActivity = doubles[LAST_ACTIVITY_OFFSET >> 3]!;
  return {
    tail,
    sent: messagesSent(words),
    gate: Number.isFinite(gate) ? gate : tail,
    waiting: Number.isFinite(gate) ? Math.min(Math.max(tail - gate, 0), geometry.slotCount) : 0,
    releasedSlots: Atomics.load(words, RELEASED_SLOTS_OFFSET >> 2) >>> 0,
    redelivered: Atomics.load(words, REDELIVERED_OFFSET >> 2) >>> 0,
    lastActivity: Number.isFinite(lastActivity) && lastActivity > 0 ? lastActivity : 0,
    groups: groupStates(views, geometry, tail, participants),
    openClaims: openClaims(views, geometry, tail, participants),
  };
}

/**
 * The first slot whose sequence word no process of this ring could have written, or undefined.
 * A slot among the last N positions speaks for its position q, or for q - N or q - 2N (q claimed
 * and not yet begun); a tail that moves while we look is read again before anything is reported.
 */
export function findCorruptSlot(memory: Buffer | RingMemory, geometry: RingGeometry): string | undefined {
  const parts = ringPartsOf(memory, geometry);
  const views = viewsOf(parts.head, geometry);
  const slots = new SlotWindows(parts, geometry);
  const N = geometry.slotCount;
  for (let attempt = 0; attempt < 3; attempt++) {
    const tail = readTail(views).position;
    let problem: string | undefined;
    for (let index = 0; index < N && problem === undefined; index++) {
      const q = tail > index ? tail - 1 - ((tail - 1 - index) % N) : index - N;
      const sequence = Atomics.load(views.words, sequenceWordOf(geometry, index));
      const value = sequence & SEQUENCE_VALUE_MASK;
      const fits = sequence >= 0 && [q, q - N, q - 2 * N, q + N].some((p) => value === ((p + 1) & SEQUENCE_VALUE_MASK));
      if (!fits) problem = `slot ${index} has sequence word ${sequence >>> 0}, which no process of this ring writes (tail ${tail})`;
      if (problem === undefined && (sequence & SEQUENCE_SKIP_BIT) === 0 && q >= 0 && value === ((q + 1) & SEQUENCE_VALUE_MASK)) {
        const slot = slots.offsetOf(index);
        const { words } = slots.of(index);
        const span = Atomics.load(words, (slot + SLOT_SPAN) >>> 2);
        const length = Atomics.load(words, (slot + SLOT_LENGTH) >>> 2);
        const most = Math.min(N - index, geometry.maxSpan);
        if (span < 1 || span > most) problem = `the message at slot ${index} spans ${span} slots; 1 to ${most} fit before the end of the ring`;
        else if (length < 0 || SLOT_HEADER_LENGTH + length > span * geometry.slotStride) {
          problem = `the message at slot ${index} has length ${length}; its ${span} slot(s) hold ${span * geometry.slotStride - SLOT_HEADER_LENGTH} bytes of payload`;
        }
      }
    }
    if (problem === undefined) return undefined;
    if (readTail(views).position === tail) return problem;
  }
  return undefined;
}

/** How often a peek starts again when messages were overwritten under it, before it settles for what it has. */
const MAX_PEEK_RESTARTS = 8;

/**
 * Up to `max` messages that group `groupName` has not taken yet, oldest first, copied without
 * taking them. A copy counts only if the slot was published for its position before the copy and
 * the tail was not claimed past its next lap after it;
 * the walk stops at the first position not published yet, as members do. A message overwritten
 * while we look means the group is past it, and past every message copied before it: the walk
 * starts again from where the group is now, so the result is always a run of consecutive
 * positions (released ones aside).
 */
export function peekMessages(memory: Buffer | RingMemory, geometry: RingGeometry, max: number, groupName = DEFAULT_GROUP): PeekedMessage[] {
  const parts = ringPartsOf(memory, geometry);
  const views = viewsOf(parts.head, geometry);
  const slots = new SlotWindows(parts, geometry);
  const { words } = views;
  const N = geometry.slotCount;
  const group = listGroups(views, geometry).find((g) => g.name === groupName);
  /** Where the walk starts: the group's cursor (no group: 0), or the oldest message still kept. */
  const startOf = (tail: number) => Math.max(group ? dispatchPosition(loadDispatch(views, group.index)) : 0, tail - N);
  let tail = readTail(views).position;
  const found: PeekedMessage[] = [];
  let restarts = 0;
  const restart = (): boolean => {
    if (++restarts > MAX_PEEK_RESTARTS) return false;
    found.length = 0;
    tail = readTail(views).position;
    position = startOf(tail) - 1; // the loop's position++ comes next
    return true;
  };
  let position = startOf(tail);
  let span = 1;
  for (; found.length < max && position < tail; position += span) {
    span = 1;
    const slot = slots.offsetOf(position % N);
    const window = slots.of(position % N);
    const before = Atomics.load(words, sequenceWordOf(geometry, position % N));
    if ((before & ~SEQUENCE_SKIP_BIT) !== ((position + 1) & SEQUENCE_VALUE_MASK)) {
      const value = before & SEQUENCE_VALUE_MASK;
      const notYet = before >= 0 && (value === ((position - N + 1) & SEQUENCE_VALUE_MASK) || value === ((position - 2 * N + 1) & SEQUENCE_VALUE_MASK));
      if (!notYet && restart()) continue; // lapped while we looked
      break;
    }
    if ((before & SEQUENCE_SKIP_BIT) !== 0) continue;
    const claimedSpan = Atomics.load(window.words, (slot + SLOT_SPAN) >>> 2);
    const length = Atomics.load(window.words, (slot + SLOT_LENGTH) >>> 2);
    const pid = Atomics.load(window.words, (slot + SLOT_PID) >>> 2) >>> 0;
    const sentAt = window.doubles[(slot + SLOT_SENT_AT) >>> 3]!;
    const shape = Atomics.load(window.words, (slot + SLOT_SHAPE) >>> 2);
    const extension = shape & SHAPE_EXTENSION_MASK;
    const payload = slot + SLOT_HEADER_LENGTH + extension;
    const fits =
      claimedSpan >= 1 &&
      claimedSpan <= Math.min(N - (position % N), geometry.maxSpan) &&
      length >= 0 &&
      extension % 8 === 0 &&
      SLOT_HEADER_LENGTH + extension + length <= claimedSpan * geometry.slotStride;
    const data = fits ? Buffer.from(window.bytes.subarray(payload, payload + length)) : undefined;
    const kind = (shape >>> SHAPE_KIND_SHIFT) & 0xff;
    const origin = fits && kind === KIND_IMPORTED ? decodeOriginExtension(kind, Buffer.from(window.bytes.subarray(payload - extension, payload))) : undefined;
    // Rewritten only by the claimer of position + N, which moves the tail past it first.
    if (readTail(views).position > position + N) {
      if (restart()) continue; // overwritten while we copied (span is 1: the walk goes on from the new start)
      break;
    }
    if (!data) continue;
    span = claimedSpan;
    found.push(origin ? { sequence: position, pid, sentAt, data, origin } : { sequence: position, pid, sentAt, data });
  }
  return found;
}
