/**
 * The participant table: one entry per process that has the ring open. An entry is how recovery
 * finds the owner of every claim: a sender records what it is about to claim (its intent) and a
 * group member the run it is about to take, in its own entry, before the compare-and-swap that
 * claims it. Pure: liveness is supplied by the caller.
 *
 * Lifecycle: a free entry (pid 0), or a dead process's entry that holds no claim, is taken by
 * compare-and-swap of its pid word; the taker bumps the generation, then writes the rest. close()
 * swaps the pid back to 0. A dead process's entry that still holds claims is freed by recovery
 * once they are resolved (released, or handed to another member).
 */
import {
  GROUP_WORD_GENERATION_SHIFT,
  GROUP_WORD_INDEX_MASK,
  PARTICIPANT_ATTACHED_AT,
  PARTICIPANT_CAPACITY,
  PARTICIPANT_GENERATION,
  PARTICIPANT_GROUP,
  PARTICIPANT_INTENT_COUNT,
  PARTICIPANT_INTENT_SINCE,
  PARTICIPANT_INTENT_START,
  PARTICIPANT_PID,
  PARTICIPANT_ROLE,
  PARTICIPANT_RUN_COUNT,
  PARTICIPANT_RUN_DELIVERIES,
  PARTICIPANT_RUN_SINCE,
  PARTICIPANT_RUN_START,
  PARTICIPANT_START,
  RUN_COUNT_MASK,
  RUN_PENDING_BIT,
  participantOffset,
} from '../layout/ring-layout.js';
import { loadPosition, type RingViews } from './views.js';

export interface Participant {
  readonly index: number;
  readonly pid: number;
  readonly role: number;
  readonly startTicks: number;
  readonly attachedAt: number;
  readonly generation: number;
  /** Group index, or -1 when the process is no group's member. */
  readonly group: number;
  readonly groupGeneration: number;
  /** The positions it is about to claim or has claimed as a sender and not yet published. */
  readonly intent: { readonly start: number; readonly count: number; readonly since: number };
  /** The run it holds as a group member (count 0: none), and how often it was delivered before. */
  readonly run: { readonly start: number; readonly count: number; readonly pending: boolean; readonly deliveries: number; readonly since: number };
}

export type IsAlive = (pid: number, startTicks: number) => boolean;

const w = (offset: number) => offset >> 2;

export function readParticipant(views: RingViews, index: number): Participant | undefined {
  const { words, doubles, longs } = views;
  const base = participantOffset(index);
  const pid = Atomics.load(words, w(base + PARTICIPANT_PID)) >>> 0;
  if (pid === 0) return undefined;
  const groupWord = Atomics.load(words, w(base + PARTICIPANT_GROUP)) >>> 0;
  return {
    index,
    pid,
    role: Atomics.load(words, w(base + PARTICIPANT_ROLE)),
    startTicks: doubles[(base + PARTICIPANT_START) >> 3]!,
    attachedAt: doubles[(base + PARTICIPANT_ATTACHED_AT) >> 3]!,
    generation: Atomics.load(words, w(base + PARTICIPANT_GENERATION)) >>> 0,
    group: (groupWord & GROUP_WORD_INDEX_MASK) - 1,
    groupGeneration: groupWord >>> GROUP_WORD_GENERATION_SHIFT,
    intent: {
      count: Atomics.load(words, w(base + PARTICIPANT_INTENT_COUNT)) >>> 0,
      start: loadPosition(longs, base + PARTICIPANT_INTENT_START),
      since: doubles[(base + PARTICIPANT_INTENT_SINCE) >> 3]!,
    },
    run: {
      count: Atomics.load(words, w(base + PARTICIPANT_RUN_COUNT)) & RUN_COUNT_MASK,
      pending: (Atomics.load(words, w(base + PARTICIPANT_RUN_COUNT)) & RUN_PENDING_BIT) !== 0,
      start: loadPosition(longs, base + PARTICIPANT_RUN_START),
      deliveries: Atomics.load(words, w(base + PARTICIPANT_RUN_DELIVERIES)) >>> 0,
      since: doubles[(base + PARTICIPANT_RUN_SINCE) >> 3]!,
    },
  };
}

export function listParticipants(views: RingViews): Participant[] {
  const list: Participant[] = [];
  for (let index = 0; index < PARTICIPANT_CAPACITY; index++) {
    const entry = readParticipant(views, index);
    if (entry) list.push(entry);
  }
  return list;
}

/** True when a dead process's entry holds nothing recovery still has to resolve. */
function holdsNothing(views: RingViews, base: number): boolean {
  return (
    Atomics.load(views.words, w(base + PARTICIPANT_INTENT_COUNT)) === 0 &&
    Atomics.load(views.words, w(base + PARTICIPANT_RUN_COUNT)) === 0
  );
}

export interface Registration {
  readonly index: number;
  readonly generation: number;
}

/**
 * Records this process in a free entry, or in a dead process's entry that holds no claim.
 * Returns the entry's index and new generation; index -1 when every entry belongs to a live
 * process or holds a dead one's unresolved claims.
 */
export function registerParticipant(
  views: RingViews,
  self: { pid: number; role: number; startTicks: number; attachedAt: number },
  isAlive: IsAlive,
): Registration {
  const { words, doubles } = views;
  for (const pass of ['free', 'dead'] as const) {
    for (let index = 0; index < PARTICIPANT_CAPACITY; index++) {
      const base = participantOffset(index);
      const pidWord = w(base + PARTICIPANT_PID);
      const pid = Atomics.load(words, pidWord);
      if (pass === 'free' ? pid !== 0 : pid === 0 || isAlive(pid >>> 0, doubles[(base + PARTICIPANT_START) >> 3]!) || !holdsNothing(views, base)) {
        continue;
      }
      if (Atomics.compareExchange(words, pidWord, pid, self.pid) !== pid) continue;
      // The generation first: from here on, tags of the former occupant no longer match.
      const generation = (Atomics.add(words, w(base + PARTICIPANT_GENERATION), 1) + 1) >>> 0;
      Atomics.store(words, w(base + PARTICIPANT_ROLE), self.role);
      Atomics.store(words, w(base + PARTICIPANT_GROUP), 0);
      Atomics.store(words, w(base + PARTICIPANT_INTENT_COUNT), 0);
      Atomics.store(words, w(base + PARTICIPANT_RUN_COUNT), 0);
      Atomics.store(words, w(base + PARTICIPANT_RUN_DELIVERIES), 0);
      doubles[(base + PARTICIPANT_START) >> 3] = self.startTicks;
      doubles[(base + PARTICIPANT_ATTACHED_AT) >> 3] = self.attachedAt;
      doubles[(base + PARTICIPANT_INTENT_SINCE) >> 3] = 0;
      doubles[(base + PARTICIPANT_RUN_SINCE) >> 3] = 0;
      return { index, generation };
    }
  }
  return { index: -1, generation: 0 };
}

export function addParticipantRole(views: RingViews, index: number, role: number): void {
  if (index < 0) return;
  Atomics.or(views.words, w(participantOffset(index) + PARTICIPANT_ROLE), role);
}

/** Records the group this entry's process is a member of. */
export function setParticipantGroup(views: RingViews, index: number, group: number, groupGeneration: number): void {
  if (index < 0) return;
  const word = group < 0 ? 0 : ((groupGeneration << GROUP_WORD_GENERATION_SHIFT) | (group + 1)) >>> 0;
  Atomics.store(views.words, w(participantOffset(index) + PARTICIPANT_GROUP), word | 0);
}

/** Frees the entry if it still belongs to `pid` (a clean close holds no claim). */
export function unregisterParticipant(views: RingViews, index: number, pid: number): void {
  if (index < 0) return;
  Atomics.compareExchange(views.words, w(participantOffset(index) + PARTICIPANT_PID), pid, 0);
}

/**
 * Leaves the entry of a process that closes the ring while it still holds a claim (a run it could
 * not hand on, say) to recovery: its start time becomes one no process has (-1), so the entry now
 * reads as dead and recovery hands its run to another member, then frees it.
 */
export function abandonParticipant(views: RingViews, index: number, pid: number): void {
  if (index < 0) return;
  const base = participantOffset(index);
  if (Atomics.load(views.words, w(base + PARTICIPANT_PID)) >>> 0 !== pid >>> 0) return;
  views.doubles[(base + PARTICIPANT_START) >> 3] = -1;
}

/** True when the entry holds a claim: a sender's intent or a member's run. */
export function holdsClaim(views: RingViews, index: number): boolean {
  return index >= 0 && !holdsNothing(views, participantOffset(index));
}

/** Frees a dead process's entry once recovery has resolved its claims. */
export function freeDeadEntry(views: RingViews, index: number, pid: number): boolean {
  const base = participantOffset(index);
  if (!holdsNothing(views, base)) return false;
  return Atomics.compareExchange(views.words, w(base + PARTICIPANT_PID), pid, 0) === pid;
}
