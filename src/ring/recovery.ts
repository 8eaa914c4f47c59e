/**
 * Recovery: resolving the claims of processes that died. Pure: the entry locks are supplied.
 *
 * Only a proven-dead owner loses a claim. An entry's process is dead when its pid word is not 0
 * and its lock is free (participants.ts); recovery proves it by taking that lock, and holds it
 * while it resolves the entry, so that nobody can take the entry over meanwhile (a new process
 * may well have the same pid in another PID namespace). A live owner — running, slow, or stopped
 * for as long as it likes — is waited for; there is no stall timeout. A claim whose owner cannot
 * be identified, or whose lock cannot be tested, is reported, never guessed at.
 *
 * 1. Senders' claims. A position q in [tail - N, tail) whose sequence word is not published for
 *    q was claimed by a sender that has not published it; its possible owners are every entry
 *    whose intent covers q. When all of them are dead, the word is swapped to q + 1 with
 *    SEQUENCE_SKIP_BIT: a skip record that every group passes over. Counted in RELEASED_SLOTS.
 *    Only positions inside dead entries' intents are looked at (nothing else can be released).
 * 2. Dead entries. A dead sender's intent is cleared once nothing it covers is unpublished. A
 *    dead member's run goes to a live, idle member of the same group: the taker records the run
 *    in its own entry (deliveries + 1), then takes it from the dead entry by compare-and-swap of
 *    the run count. A run of a group that no longer exists is dropped. An entry with nothing left
 *    to resolve is freed.
 */
import {
  GROUP_REDELIVERED,
  PARTICIPANT_CAPACITY,
  PARTICIPANT_INTENT_COUNT,
  PARTICIPANT_RUN_COUNT,
  REDELIVERED_OFFSET,
  RELEASED_SLOTS_OFFSET,
  SEQUENCE_SKIP_BIT,
  RUN_PENDING_BIT,
  groupOffset,
  participantOffset,
  seqValue,
  sequenceWordOf,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { confirmClaimer, groupIsCurrent, loadDispatch, readTail } from './groups.js';
import type { Member } from './member.js';
import { freeDeadEntry, readParticipant, type EntryLocks, type Participant } from './participants.js';
import type { RingViews } from './views.js';

export interface RecoveryOptions {
  readonly locks: EntryLocks;
  /** The recovering process's own entry (its claims are never looked at), -1 if none. */
  readonly self: number;
  /** When the recovering process is an idle member: its member side, to take dead members' runs. */
  readonly member?: { readonly side: Member; readonly group: number; readonly generation: number; readonly idle: boolean };
}

export interface RecoveryReport {
  /** Sender claims released after their owners died. */
  readonly released: number;
  /** Messages taken over from a dead member (now this member's run). */
  readonly adopted: number;
  /** Dead processes' entries freed. */
  readonly freed: number;
  /** Something waits on a live owner, or on one that cannot be identified: worth looking again soon. */
  readonly stuck: boolean;
  /** Entries whose lock could not be tested (liveness unknown): nothing of theirs is touched. */
  readonly untestable: number;
}

/**
 * Possible owners of the unpublished claim at `position`: the entries whose recorded intent
 * covers it (every claim is recorded before it exists); `unknown` when none does. The slot's
 * owner tag and busy mark are not consulted: they are written without a fence, so they may
 * trail the payload.
 */
export function claimOwners(position: number, entries: readonly (Participant | undefined)[]): Participant[] | 'unknown' {
  const owners = entries.filter(
    (entry): entry is Participant => entry !== undefined && entry.intent.count > 0 && position >= entry.intent.start && position < entry.intent.start + entry.intent.count,
  );
  return owners.length > 0 ? owners : 'unknown';
}

/** True when the sequence word of `position` reads published: a message's first slot, or a skip record. */
export function isPublished(views: RingViews, geometry: RingGeometry, position: number): boolean {
  const sequence = Atomics.load(views.words, sequenceWordOf(geometry, position % geometry.slotCount));
  return (sequence & ~SEQUENCE_SKIP_BIT) === seqValue(position);
}

/** Messages (first slots) among `count` positions from `start`: what a run handed on counts. */
export function messagesIn(views: RingViews, geometry: RingGeometry, start: number, count: number): number {
  let messages = 0;
  for (let q = start; q < start + count; q++) {
    if (Atomics.load(views.words, sequenceWordOf(geometry, q % geometry.slotCount)) === seqValue(q)) messages++;
  }
  return messages;
}

export function recoverClaims(views: RingViews, geometry: RingGeometry, options: RecoveryOptions): RecoveryReport {
  const { locks } = options;
  const entries: (Participant | undefined)[] = [];
  const dead = new Set<number>();
  let untestable = 0;
  for (let index = 0; index < PARTICIPANT_CAPACITY; index++) {
    let entry = readParticipant(views, index);
    if (entry && index !== options.self) {
      const attempt = locks.tryLock(index);
      if (attempt === 'taken') {
        // Dead, and ours to resolve until unlocked. Read again: it may have been closed or taken
        // over between the first read and the lock.
        entry = readParticipant(views, index);
        if (entry) dead.add(index);
        else locks.unlock(index);
      } else if (attempt === 'unknown') {
        untestable++;
      }
    }
    entries.push(entry);
  }
  try {
    return resolve(views, geometry, options, entries, dead, untestable);
  } finally {
    for (const index of dead) locks.unlock(index);
  }
}

function resolve(
  views: RingViews,
  geometry: RingGeometry,
  options: RecoveryOptions,
  entries: readonly (Participant | undefined)[],
  dead: ReadonlySet<number>,
  untestable: number,
): RecoveryReport {
  const { words } = views;
  let released = 0;
  let stuck = untestable > 0;

  // 1. Unpublished sender claims among the last N positions. Only a dead sender's can be
  // released, so only dead entries' intents are walked (not every slot: on a ring of millions of
  // slots a waiting process would spend its time here); a live sender with an open intent means
  // something may be stuck on it, worth looking again soon.
  const tail = readTail(views).position;
  const low = Math.max(0, tail - geometry.slotCount);
  for (const entry of entries) {
    if (entry && entry.index !== options.self && !dead.has(entry.index) && entry.intent.count > 0) stuck = true;
  }
  for (const index of dead) {
    const intent = entries[index]!.intent;
    if (intent.count === 0) continue;
    for (let q = Math.max(intent.start, low), end = Math.min(intent.start + intent.count, tail); q < end; q++) {
      if (isPublished(views, geometry, q)) continue;
      const owners = claimOwners(q, entries);
      if (owners === 'unknown' || owners.some((owner) => !dead.has(owner.index))) {
        stuck = true;
        continue;
      }
      const sequenceWord = sequenceWordOf(geometry, q % geometry.slotCount);
      const seen = Atomics.load(words, sequenceWord);
      if ((seen & ~SEQUENCE_SKIP_BIT) === seqValue(q)) continue; // published meanwhile
      if (Atomics.compareExchange(words, sequenceWord, seen, seqValue(q) | SEQUENCE_SKIP_BIT) === seen) {
        Atomics.add(words, RELEASED_SLOTS_OFFSET >> 2, 1);
        released++;
      }
    }
  }

  // 2. Dead entries: void intents, runs handed on, entries freed.
  let adopted = 0;
  let freed = 0;
  const member = options.member;
  let idle = member?.idle ?? false;
  for (const index of dead) {
    const entry = entries[index]!;
    const base = participantOffset(index);
    if (entry.intent.count > 0) {
      const end = entry.intent.start + entry.intent.count;
      // Tail below the intent's end: its compare-and-swap never happened. Otherwise every
      // position it covers must be published (or released) by now.
      let open = false;
      if (end <= tail) for (let q = Math.max(entry.intent.start, tail - geometry.slotCount); q < end && !open; q++) open = !isPublished(views, geometry, q);
      if (!open) Atomics.compareExchange(words, (base + PARTICIPANT_INTENT_COUNT) >> 2, entry.intent.count, 0);
    }
    const runWord = (base + PARTICIPANT_RUN_COUNT) >> 2;
    if (entry.run.count > 0 && entry.run.pending && entry.group >= 0) {
      // Recorded, claim not confirmed: the dispatch word proves the claim when it still names
      // this entry at the run's end; once anyone moved past it, the mover confirmed it first, so
      // a run still pending after that was never claimed.
      confirmClaimer(views, loadDispatch(views, entry.group));
      const now = Atomics.load(words, runWord);
      if ((now & RUN_PENDING_BIT) !== 0) Atomics.compareExchange(words, runWord, now, 0);
    }
    const confirmed = Atomics.load(words, runWord);
    if (confirmed !== 0 && (confirmed & RUN_PENDING_BIT) === 0) {
      if (entry.group < 0 || !groupIsCurrent(views, entry.group, entry.groupGeneration)) {
        Atomics.compareExchange(words, runWord, confirmed, 0);
      } else if (member && idle && member.group === entry.group && member.generation === entry.groupGeneration) {
        const mine = member.side.runWords;
        Atomics.store(views.longs, mine.start, BigInt(entry.run.start));
        Atomics.store(words, mine.deliveries, entry.run.deliveries + 1);
        Atomics.store(words, mine.count, entry.run.count);
        if (Atomics.compareExchange(words, runWord, confirmed, 0) === confirmed) {
          member.side.adopt(entry.run.start, entry.run.count, entry.run.deliveries + 1);
          const messages = messagesIn(views, geometry, entry.run.start, entry.run.count);
          Atomics.add(words, (groupOffset(entry.group) + GROUP_REDELIVERED) >> 2, messages);
          Atomics.add(words, REDELIVERED_OFFSET >> 2, messages);
          adopted += messages;
          idle = false;
        } else {
          Atomics.store(words, mine.count, 0);
        }
      } else {
        stuck = true; // waits for a member of its group
      }
    }
    if (freeDeadEntry(views, index, entry.pid)) freed++;
  }
  return { released, adopted, freed, stuck, untestable };
}
