/**
 * The participant table: one entry per process that has the ring open. An entry is how recovery
 * finds the owner of every claim: a sender records what it is about to claim (its intent) and a
 * group member the run it is about to take, in its own entry, before the compare-and-swap that
 * claims it. Pure: the entry locks are the caller's (EntryLocks).
 *
 * Liveness: every entry has a lock (in a file, an open-file-description lock on the entry's first
 * byte) that its process holds for as long as it is attached. Invariant: an entry whose pid word
 * is not 0 belongs to a live process exactly while its lock is held, because the lock is taken
 * before the pid word is set and dropped only after it is cleared (or by the holder's death).
 *
 * Lifecycle: a free entry (pid 0), or a dead process's entry that holds no claim, is taken by
 * taking its lock, then compare-and-swap of its pid word; the taker bumps the generation, then
 * writes the rest. close() swaps the pid back to 0, then drops the lock. A dead process's entry
 * that still holds claims is freed by recovery once they are resolved (released, or handed to
 * another member).
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
  PARTICIPANT_PID_NAMESPACE,
  PARTICIPANT_ROLE,
  PARTICIPANT_RUN_COUNT,
  PARTICIPANT_RUN_DELIVERIES,
  PARTICIPANT_RUN_SINCE,
  PARTICIPANT_RUN_START,
  PARTICIPANT_START,
  PARTICIPANT_UID,
  RUN_COUNT_MASK,
  RUN_PENDING_BIT,
  participantOffset,
} from '../layout/ring-layout.js';
import { loadPosition, type RingViews } from './views.js';

export interface Participant {
  readonly index: number;
  /** For people only: a pid of the PID namespace `pidNamespace`, which may not be the reader's. */
  readonly pid: number;
  /** Inode of the process's /proc/self/ns/pid; 0n unknown. */
  readonly pidNamespace: bigint;
  readonly uid: number;
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

/** What a look at an entry's lock found: held by a live process, free (its process is dead), or not testable. */
export type Liveness = 'alive' | 'dead' | 'unknown';

/** Liveness of entry `index` (whose pid word is not 0), for those who only look. */
export type IsAlive = (index: number) => Liveness;

/**
 * The entries' locks. tryLock takes entry `index`'s lock without waiting: 'taken', 'held' by
 * another holder (a live process, or one recovering the entry), or 'unknown' when the lock cannot
 * be tested (a file system without such locks). unlock drops a lock this holder took.
 */
export interface EntryLocks {
  tryLock(index: number): 'taken' | 'held' | 'unknown';
  unlock(index: number): void;
}

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
    pidNamespace: views.longs[(base + PARTICIPANT_PID_NAMESPACE) >> 3]!,
    uid: Atomics.load(words, w(base + PARTICIPANT_UID)) >>> 0,
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
  /** -1 when no entry could be taken. */
  readonly index: number;
  readonly generation: number;
  /** Why index is -1: every entry is held, or the locks cannot be taken here. */
  readonly refused?: 'full' | 'locks-unavailable';
}

export interface ParticipantSelf {
  readonly pid: number;
  readonly pidNamespace: bigint;
  readonly uid: number;
  readonly role: number;
  readonly startTicks: number;
  readonly attachedAt: number;
}

/**
 * Records this process in a free entry, or in a dead process's entry that holds no claim. The
 * entry's lock is taken first and stays held (the caller drops it after unregistering); a lock
 * held by someone else means a live owner, or a recovery at work: skip. Returns the entry's
 * index and new generation.
 */
export function registerParticipant(views: RingViews, self: ParticipantSelf, locks: EntryLocks): Registration {
  const { words, doubles } = views;
  let untestable = false;
  for (const pass of ['free', 'dead'] as const) {
    for (let index = 0; index < PARTICIPANT_CAPACITY; index++) {
      const base = participantOffset(index);
      const pidWord = w(base + PARTICIPANT_PID);
      const seen = Atomics.load(words, pidWord);
      if (pass === 'free' ? seen !== 0 : seen === 0 || !holdsNothing(views, base)) continue;
      const attempt = locks.tryLock(index);
      if (attempt !== 'taken') {
        untestable ||= attempt === 'unknown';
        continue;
      }
      // Lock held: nobody else can take the entry now, and a non-zero pid is a dead process's.
      if (!holdsNothing(views, base) || Atomics.compareExchange(words, pidWord, seen, self.pid) !== seen) {
        locks.unlock(index);
        continue;
      }
      // The generation first: from here on, tags of the former occupant no longer match.
      const generation = (Atomics.add(words, w(base + PARTICIPANT_GENERATION), 1) + 1) >>> 0;
      Atomics.store(words, w(base + PARTICIPANT_ROLE), self.role);
      Atomics.store(words, w(base + PARTICIPANT_GROUP), 0);
      Atomics.store(words, w(base + PARTICIPANT_INTENT_COUNT), 0);
      Atomics.store(words, w(base + PARTICIPANT_RUN_COUNT), 0);
      Atomics.store(words, w(base + PARTICIPANT_RUN_DELIVERIES), 0);
      Atomics.store(words, w(base + PARTICIPANT_UID), self.uid | 0);
      views.longs[(base + PARTICIPANT_PID_NAMESPACE) >> 3] = self.pidNamespace;
      doubles[(base + PARTICIPANT_START) >> 3] = self.startTicks;
      doubles[(base + PARTICIPANT_ATTACHED_AT) >> 3] = self.attachedAt;
      doubles[(base + PARTICIPANT_INTENT_SINCE) >> 3] = 0;
      doubles[(base + PARTICIPANT_RUN_SINCE) >> 3] = 0;
      return { index, generation };
    }
  }
  return { index: -1, generation: 0, refused: untestable ? 'locks-unavailable' : 'full' };
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

/**
 * Frees the entry if it still belongs to `pid` (a clean close holds no claim). The caller drops
 * the entry's lock afterwards; an entry left with a claim is simply unlocked: it then reads as a
 * dead process's, and recovery hands its claim on.
 */
export function unregisterParticipant(views: RingViews, index: number, pid: number): void {
  if (index < 0) return;
  Atomics.compareExchange(views.words, w(participantOffset(index) + PARTICIPANT_PID), pid, 0);
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
