/**
 * Recovery from processes that died holding a claim. Pure: liveness and time are supplied.
 *
 * Two kinds of claim can be orphaned:
 * - a sender's: it claimed position p (the tail moved past p) but never committed. Receivers
 *   stop at p. Once the owner is proven dead — its pid together with its start time, from the
 *   participant table, so a reused pid cannot pass for it — or the claim has been stuck longer
 *   than the stall timeout, the slot's sequence word is swapped from p to (p + 1) with
 *   SEQUENCE_RELEASED_BIT: it then reads as committed, receivers skip it, and the owner's own
 *   late commit (a compare-and-swap from p) can no longer succeed. Counted in RELEASED_SLOTS.
 * - a receiver's: it claimed the message for p (the head moved past p) but never freed the
 *   slot, so senders stop one lap later. Once its owner is proven dead (or, for a claim no
 *   receiver marked as its own, after the stall timeout), the recovering receiver takes the
 *   claim over by compare-and-swap on the owner word and delivers the message itself: that
 *   message may be delivered twice, never lost. Counted in REDELIVERED.
 * Claims of live owners are never touched (Chronicle Queue's lesson: forcing a live owner's
 * lock corrupts data).
 */
import {
  HEAD_OFFSET,
  OWNER_ENTRY_MASK,
  OWNER_GENERATION_MASK,
  OWNER_GENERATION_SHIFT,
  OWNER_RECEIVER_BIT,
  PARTICIPANT_CAPACITY,
  REDELIVERED_OFFSET,
  RELEASED_SLOTS_OFFSET,
  ROLE_SENDER,
  SEQUENCE_RELEASED_BIT,
  SLOT_OWNER,
  SLOT_OWNER_POSITION,
  SLOT_SEQUENCE,
  TAIL_OFFSET,
  WORD,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { listParticipants, readParticipant, type IsAlive } from './participants.js';
import type { PositionSpace } from './positions.js';

export interface RecoveryOptions {
  readonly isAlive: IsAlive;
  /** The current time in ms (any monotonic clock). */
  readonly now: number;
  /** Give up a claim whose owner cannot be proven dead after it has been stuck this long. */
  readonly stallTimeoutMs: number;
  /** First time each stuck claim was seen (kept by the caller between calls). */
  readonly stuckSince: Map<string, number>;
}

export interface RecoveryReport {
  /** Sender claims given up. */
  readonly released: number;
  /** Positions of messages taken over from dead receivers, for the caller to deliver. */
  readonly rescued: number[];
  /** Something is stuck on a live (or unknown) owner: worth looking again soon. */
  readonly stuck: boolean;
}

type OwnerState = 'dead' | 'alive' | 'unknown';

/**
 * Whether the process behind an owner tag still runs. The tag names a participant entry and the
 * entry's generation when the owner took it: an empty entry, or one taken since by another
 * process (a newer generation), proves the owner gone; otherwise its pid and start time decide.
 */
function ownerState(memory: Buffer, owner: number, isAlive: IsAlive): OwnerState {
  const index = (owner & OWNER_ENTRY_MASK) - 1;
  if (index < 0 || index >= PARTICIPANT_CAPACITY) return 'unknown';
  const entry = readParticipant(memory, index);
  if (entry === undefined) return 'dead'; // it unregistered: it closed the ring or was cleaned up
  const generation = (owner >>> OWNER_GENERATION_SHIFT) & OWNER_GENERATION_MASK;
  if ((entry.generation & OWNER_GENERATION_MASK) !== generation) return 'dead';
  return isAlive(entry.pid, entry.startTicks) ? 'alive' : 'dead';
}

/** True when the claim has been seen stuck for longer than the stall timeout. */
function stalled(key: string, options: RecoveryOptions): boolean {
  const since = options.stuckSince.get(key);
  if (since === undefined) {
    options.stuckSince.set(key, options.now);
    return false;
  }
  return options.now - since >= options.stallTimeoutMs;
}

export function recoverClaims(
  memory: Buffer,
  geometry: RingGeometry,
  positions: PositionSpace,
  self: number,
  options: RecoveryOptions,
): RecoveryReport {
  const words = new Int32Array(memory.buffer, memory.byteOffset, geometry.fileLength / WORD);
  const slotWord = (position: number, field: number) =>
    (geometry.headerLength + positions.indexOf(position) * geometry.slotStride + field) / WORD;
  const seen = new Set<string>();
  let released = 0;
  let stuck = false;
  const rescued: number[] = [];

  // A sender's claim at the head that was never committed.
  const head = Atomics.load(words, HEAD_OFFSET / WORD);
  const tail = Atomics.load(words, TAIL_OFFSET / WORD);
  if (head !== tail && Atomics.load(words, slotWord(head, SLOT_SEQUENCE)) === head) {
    const key = `send:${head}`;
    seen.add(key);
    const recorded = Atomics.load(words, slotWord(head, SLOT_OWNER_POSITION)) === head;
    const owner = Atomics.load(words, slotWord(head, SLOT_OWNER));
    const state = recorded && (owner & OWNER_RECEIVER_BIT) === 0 ? ownerState(memory, owner, options.isAlive) : 'unknown';
    const noLiveSender = () =>
      !listParticipants(memory).some((entry) => (entry.role & ROLE_SENDER) !== 0 && options.isAlive(entry.pid, entry.startTicks));
    // A stalled claim is given up even if its owner lives: its late commit fails and it sends again.
    const giveUp = state === 'dead' || (state === 'unknown' && noLiveSender()) || stalled(key, options);
    const releasedSequence = positions.next(head) | SEQUENCE_RELEASED_BIT;
    if (giveUp && Atomics.compareExchange(words, slotWord(head, SLOT_SEQUENCE), head, releasedSequence) === head) {
      Atomics.add(words, RELEASED_SLOTS_OFFSET / WORD, 1);
      released++;
    } else if (!giveUp) {
      stuck = true;
    }
  }

  // Receivers' claims: committed messages behind the head whose slot was never freed.
  for (let back = 1; back <= geometry.slotCount; back++) {
    const position = positions.add(head, -back);
    const sequenceWord = slotWord(position, SLOT_SEQUENCE);
    const sequence = Atomics.load(words, sequenceWord);
    if ((sequence & ~SEQUENCE_RELEASED_BIT) !== positions.next(position)) continue;
    const ownerWord = slotWord(position, SLOT_OWNER);
    const owner = Atomics.load(words, ownerWord);
    if (owner === (OWNER_RECEIVER_BIT | self) && self !== 0) continue; // ours already
    const key = `receive:${position}`;
    seen.add(key);
    const marked = (owner & OWNER_RECEIVER_BIT) !== 0 && Atomics.load(words, slotWord(position, SLOT_OWNER_POSITION)) === position;
    const state = marked ? ownerState(memory, owner, options.isAlive) : 'unknown';
    const takeOver = state === 'dead' || (state === 'unknown' && stalled(key, options));
    if (!takeOver) {
      stuck = true;
      continue;
    }
    if (Atomics.compareExchange(words, ownerWord, owner, OWNER_RECEIVER_BIT | self) === owner) {
      Atomics.store(words, slotWord(position, SLOT_OWNER_POSITION), position);
      Atomics.add(words, REDELIVERED_OFFSET / WORD, 1);
      rescued.push(position);
    }
  }

  for (const key of options.stuckSince.keys()) if (!seen.has(key)) options.stuckSince.delete(key);
  return { released, rescued, stuck };
}
