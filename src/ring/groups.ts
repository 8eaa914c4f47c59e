/**
 * The group table: durable, named cursors over the ring's messages. Every group sees every
 * message published after its start; its members share them, each message to one member.
 * A lossless group gates senders (a slot is reused only after every lossless group is past its
 * message); a lossy one never does, and counts what senders overwrote before it read it.
 *
 * A group's floor is the oldest position it has not finished: its dispatch cursor, or the start
 * of a run one of its members still holds. The gate is the lowest floor of the active lossless
 * groups; a sender may claim q only while q < gate + N. Pure: no fs, no FFI.
 */
import { groupDelivered, retireGroup } from './delivered.js';
import { GroupError, RingFormatError } from '../errors.js';
import {
  CLAIMER_SHIFT,
  EPOCH_UNIT,
  GROUP_ACTIVE,
  GROUP_CREATED_AT,
  GROUP_DELIVERED,
  GROUP_DISPATCH,
  GROUP_FLAGS,
  GROUP_FLAG_CHANGE_UNIT,
  GROUP_FLAG_LOSSY,
  GROUP_FREE,
  GROUP_GAPS,
  GROUP_GENERATION,
  GROUP_MISSED,
  GROUP_NAME,
  GROUP_NAME_LENGTH,
  GROUP_NAME_MAX,
  GROUP_REDELIVERED,
  GROUP_SETTING_UP,
  GROUP_STATE,
  GROUP_WORD_GENERATION_SHIFT,
  GROUP_WORD_INDEX_MASK,
  MAX_POSITION,
  PARTICIPANT_CAPACITY,
  PARTICIPANT_GROUP,
  PARTICIPANT_PID,
  PARTICIPANT_RUN_COUNT,
  PARTICIPANT_RUN_START,
  POSITION_MASK,
  RUN_COUNT_MASK,
  RUN_PENDING_BIT,
  TAIL_OFFSET,
  groupOffset,
  participantOffset,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { loadPosition, type RingViews } from './views.js';

export interface GroupInfo {
  readonly index: number;
  readonly name: string;
  readonly lossy: boolean;
  /** Next position the group hands to a member. */
  readonly dispatch: number;
  readonly generation: number;
  readonly redelivered: number;
  /** Positions overwritten before the group read them (lossy groups; lossless ones only after a forced move). */
  readonly missed: number;
  /** Times the group found itself lapped (each a gap of one or more positions). */
  readonly gaps: number;
  readonly createdAt: number;
  /** Messages the group's members finished since it was created (redeliveries count again); only grows. */
  readonly delivered: number;
}

/** Where a new group starts, or where `group reset` moves one: a position, or the ring's ends. */
export type GroupStart = 'earliest' | 'latest' | number;

const w = (offset: number) => offset >> 2;
const TAIL = TAIL_OFFSET >> 3;

/** Group names: 1 to 48 bytes of letters, digits and . _ - : @ (safe in files, shells and labels). */
const NAME_PATTERN = /^[A-Za-z0-9._:@-]+$/;

export function checkGroupName(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'a group name cannot be empty';
  if (Buffer.byteLength(name) > GROUP_NAME_MAX) return `group name "${name.slice(0, 60)}" is longer than ${GROUP_NAME_MAX} bytes`;
  if (!NAME_PATTERN.test(name)) return `group name ${JSON.stringify(name)} may hold only letters, digits and . _ - : @`;
  return undefined;
}

/** The tail's position and gate epoch. */
export function readTail(views: RingViews): { position: number; word: bigint } {
  const word = Atomics.load(views.longs, TAIL);
  const position = Number(word & POSITION_MASK);
  // Beyond 2^53 positions are no longer exact numbers (q + 1 === q): every walk over them would spin.
  if (position > MAX_POSITION) throw new RingFormatError(`corrupt ring: tail position ${position} is beyond 2^53`);
  return { position, word };
}

/** The position part of a group's dispatch word. */
export function dispatchPosition(word: bigint): number {
  return Number(word & POSITION_MASK);
}

/** A group's dispatch word now. */
export function loadDispatch(views: RingViews, index: number): bigint {
  return Atomics.load(views.longs, (groupOffset(index) + GROUP_DISPATCH) >> 3);
}

/**
 * The dispatch word names the member whose compare-and-swap set it: if that member's run is
 * still marked pending and ends exactly there, its claim succeeded, and the mark is cleared.
 * Everyone who replaces a dispatch word does this first, so a pending run whose claimer has been
 * moved past was never claimed (see recovery.ts).
 */
export function confirmClaimer(views: RingViews, word: bigint): void {
  const tag = Number(word >> CLAIMER_SHIFT);
  if (tag === 0 || tag > PARTICIPANT_CAPACITY) return;
  const base = participantOffset(tag - 1);
  const countWord = w(base + PARTICIPANT_RUN_COUNT);
  const count = Atomics.load(views.words, countWord);
  if ((count & RUN_PENDING_BIT) === 0) return;
  const start = loadPosition(views.longs, base + PARTICIPANT_RUN_START);
  if (start + (count & RUN_COUNT_MASK) === dispatchPosition(word)) {
    Atomics.compareExchange(views.words, countWord, count, count & RUN_COUNT_MASK);
  }
}

/** Sets a group's dispatch to `target` (tag 0), confirming the last claimer first. */
export function replaceDispatch(views: RingViews, index: number, target: number): void {
  const at = (groupOffset(index) + GROUP_DISPATCH) >> 3;
  for (;;) {
    const word = Atomics.load(views.longs, at);
    confirmClaimer(views, word);
    if (Atomics.compareExchange(views.longs, at, word, BigInt(target)) === word) return;
  }
}

export function readGroup(views: RingViews, index: number): GroupInfo | undefined {
  const { words, memory, doubles } = views;
  const base = groupOffset(index);
  if (Atomics.load(words, w(base + GROUP_STATE)) !== GROUP_ACTIVE) return undefined;
  const nameLength = Math.min(Atomics.load(words, w(base + GROUP_NAME_LENGTH)) >>> 0, GROUP_NAME_MAX);
  return {
    index,
    name: memory.toString('utf8', base + GROUP_NAME, base + GROUP_NAME + nameLength),
    lossy: (Atomics.load(words, w(base + GROUP_FLAGS)) & GROUP_FLAG_LOSSY) !== 0,
    dispatch: dispatchPosition(Atomics.load(views.longs, (base + GROUP_DISPATCH) >> 3)),
    generation: Atomics.load(words, w(base + GROUP_GENERATION)) >>> 0,
    redelivered: Atomics.load(words, w(base + GROUP_REDELIVERED)) >>> 0,
    missed: Atomics.load(words, w(base + GROUP_MISSED)) >>> 0,
    gaps: Atomics.load(words, w(base + GROUP_GAPS)) >>> 0,
    createdAt: doubles[(base + GROUP_CREATED_AT) >> 3]!,
    delivered: groupDelivered(views, index),
  };
}

export function listGroups(views: RingViews, geometry: RingGeometry): GroupInfo[] {
  const groups: GroupInfo[] = [];
  for (let index = 0; index < geometry.groupCapacity; index++) {
    const group = readGroup(views, index);
    if (group) groups.push(group);
  }
  return groups;
}

export function findGroup(views: RingViews, geometry: RingGeometry, name: string): GroupInfo | undefined {
  return listGroups(views, geometry).find((group) => group.name === name);
}

/** True while the group at `index` is active and still the one of `generation`. */
export function groupIsCurrent(views: RingViews, index: number, generation: number): boolean {
  const base = groupOffset(index);
  return (
    Atomics.load(views.words, w(base + GROUP_STATE)) === GROUP_ACTIVE &&
    ((Atomics.load(views.words, w(base + GROUP_GENERATION)) ^ generation) & 0xffffff) === 0 // the group word keeps 24 bits
  );
}

/**
 * The oldest position the group has not finished: its dispatch cursor, or the start of a run
 * one of its members holds (dead or alive). The cursor is read first: a member records its run
 * before it moves the cursor, so a run taken after this read starts at or above it.
 */
export function groupFloor(views: RingViews, index: number): number {
  const { words, longs } = views;
  const base = groupOffset(index);
  const generation = Atomics.load(words, w(base + GROUP_GENERATION)) >>> 0;
  let floor = dispatchPosition(Atomics.load(longs, (base + GROUP_DISPATCH) >> 3));
  const groupWord = (((generation & 0xffffff) << GROUP_WORD_GENERATION_SHIFT) | (index + 1)) >>> 0;
  for (let entry = 0; entry < PARTICIPANT_CAPACITY; entry++) {
    const at = participantOffset(entry);
    if (Atomics.load(words, w(at + PARTICIPANT_PID)) === 0) continue;
    if (Atomics.load(words, w(at + PARTICIPANT_GROUP)) >>> 0 !== groupWord) continue;
    if (Atomics.load(words, w(at + PARTICIPANT_RUN_COUNT)) === 0) continue;
    const start = loadPosition(longs, at + PARTICIPANT_RUN_START);
    if (start < floor) floor = start;
  }
  return floor;
}

/** The lowest floor of the active lossless groups; Infinity when there is none (senders never wait). */
export function computeGate(views: RingViews, geometry: RingGeometry): number {
  const { words, longs } = views;
  let gate = Infinity;
  let lossless = 0; // bit i: group i is active and lossless (G ≤ 64: two words)
  let losslessHigh = 0;
  for (let index = 0; index < geometry.groupCapacity; index++) {
    const base = groupOffset(index);
    if (Atomics.load(words, w(base + GROUP_STATE)) !== GROUP_ACTIVE) continue;
    if ((Atomics.load(words, w(base + GROUP_FLAGS)) & GROUP_FLAG_LOSSY) !== 0) continue;
    // Dispatch first, then the runs (see groupFloor).
    const floor = dispatchPosition(Atomics.load(longs, (base + GROUP_DISPATCH) >> 3));
    if (floor < gate) gate = floor;
    if (index < 32) lossless |= 1 << index;
    else losslessHigh |= 1 << (index - 32);
  }
  if (gate === Infinity) return gate;
  for (let entry = 0; entry < PARTICIPANT_CAPACITY; entry++) {
    const at = participantOffset(entry);
    if (Atomics.load(words, w(at + PARTICIPANT_PID)) === 0) continue;
    if (Atomics.load(words, w(at + PARTICIPANT_RUN_COUNT)) === 0) continue;
    const groupWord = Atomics.load(words, w(at + PARTICIPANT_GROUP)) >>> 0;
    const index = (groupWord & GROUP_WORD_INDEX_MASK) - 1;
    if (index < 0) continue;
    const bits = index < 32 ? lossless : losslessHigh;
    if ((bits & (1 << (index & 31))) === 0) continue;
    const generation = Atomics.load(words, w(groupOffset(index) + GROUP_GENERATION)) >>> 0;
    if (groupWord >>> GROUP_WORD_GENERATION_SHIFT !== (generation & 0xffffff)) continue;
    const start = loadPosition(longs, at + PARTICIPANT_RUN_START);
    if (start < gate) gate = start;
  }
  return gate;
}

function resolveStart(start: GroupStart, tail: number, slotCount: number, name: string): number {
  const earliest = Math.max(0, tail - slotCount);
  if (start === 'earliest') return earliest;
  if (start === 'latest') return tail;
  if (!Number.isSafeInteger(start) || start < 0) throw new GroupError(`group ${name}: start must be earliest, latest or a sequence number, got ${start}`);
  if (start > tail) throw new GroupError(`group ${name}: sequence ${start} is not sent yet (the next is ${tail})`);
  if (start < earliest) {
    throw new GroupError(`group ${name}: sequence ${start} was overwritten; the oldest still in the ring is ${earliest}`);
  }
  return start;
}

/**
 * Moves a group's cursor to `start` (possibly backwards) safely against senders: the cursor is
 * written, then the tail's gate epoch is bumped by compare-and-swap. A sender whose claim was
 * decided on the old gate then fails its own compare-and-swap on the tail and looks again; one
 * that claimed before the bump did so below the tail read here, and so overwrote only positions
 * below tail - N, which `start` is never below. Returns the position set.
 */
export function moveCursor(views: RingViews, geometry: RingGeometry, index: number, start: GroupStart, name: string): number {
  for (;;) {
    const tail = readTail(views);
    const target = resolveStart(start, tail.position, geometry.slotCount, name);
    replaceDispatch(views, index, target);
    if (Atomics.compareExchange(views.longs, TAIL, tail.word, tail.word + EPOCH_UNIT) === tail.word) return target;
  }
}

function writeName(views: RingViews, base: number, name: string): void {
  const bytes = Buffer.from(name, 'utf8');
  views.memory.fill(0, base + GROUP_NAME, base + GROUP_NAME + GROUP_NAME_MAX);
  bytes.copy(views.memory, base + GROUP_NAME);
  Atomics.store(views.words, w(base + GROUP_NAME_LENGTH), bytes.length);
}

export interface CreateGroupOptions {
  readonly lossy?: boolean;
  readonly from?: GroupStart;
  readonly now?: number;
}

/**
 * Creates the group `name`, or returns the existing one of that name. A free entry is taken by
 * compare-and-swap of its state (free -> setting up), filled, made active, and its cursor set
 * with moveCursor. Two processes creating the same name at once: the later entry gives way.
 */
export function createGroup(views: RingViews, geometry: RingGeometry, name: string, options: CreateGroupOptions = {}): GroupInfo {
  const problem = checkGroupName(name);
  if (problem) throw new GroupError(problem);
  const existing = findGroup(views, geometry, name);
  if (existing) return existing;
  const { words, doubles } = views;
  for (let index = 0; index < geometry.groupCapacity; index++) {
    const base = groupOffset(index);
    if (Atomics.compareExchange(words, w(base + GROUP_STATE), GROUP_FREE, GROUP_SETTING_UP) !== GROUP_FREE) continue;
    Atomics.add(words, w(base + GROUP_GENERATION), 1);
    writeName(views, base, name);
    // The change count goes on from the entry's last group: a member of that one never mistakes this one's flags for its own.
    const flags = Atomics.load(words, w(base + GROUP_FLAGS));
    Atomics.store(words, w(base + GROUP_FLAGS), ((flags & ~0xff) + GROUP_FLAG_CHANGE_UNIT) | (options.lossy ? GROUP_FLAG_LOSSY : 0));
    Atomics.store(words, w(base + GROUP_REDELIVERED), 0);
    Atomics.store(words, w(base + GROUP_MISSED), 0);
    Atomics.store(words, w(base + GROUP_GAPS), 0);
    Atomics.store(words, w(base + GROUP_DELIVERED), 0);
    Atomics.store(words, w(base + GROUP_DELIVERED) + 1, 0);
    doubles[(base + GROUP_CREATED_AT) >> 3] = options.now ?? 0;
    // A start position before activation, so the group never gates from a stale cursor.
    Atomics.store(views.longs, (base + GROUP_DISPATCH) >> 3, BigInt(readTail(views).position));
    Atomics.store(words, w(base + GROUP_STATE), GROUP_ACTIVE);
    try {
      moveCursor(views, geometry, index, options.from ?? 'latest', name);
    } catch (error) {
      Atomics.store(words, w(base + GROUP_STATE), GROUP_FREE);
      throw error;
    }
    const twin = listGroups(views, geometry).find((group) => group.name === name && group.index < index);
    if (twin) {
      Atomics.store(words, w(base + GROUP_STATE), GROUP_FREE);
      return twin;
    }
    return readGroup(views, index)!;
  }
  throw new GroupError(
    `cannot create group ${name}: all ${geometry.groupCapacity} group entries are in use (remove one with mmapipc group rm, or create the ring with a larger --groups)`,
  );
}

function requireGroup(views: RingViews, geometry: RingGeometry, name: string): GroupInfo {
  const problem = checkGroupName(name);
  if (problem) throw new GroupError(problem);
  const group = findGroup(views, geometry, name);
  if (!group) {
    const known = listGroups(views, geometry).map((g) => g.name);
    throw new GroupError(`no group named ${name} (groups: ${known.length > 0 ? known.join(', ') : 'none'})`);
  }
  return group;
}

/** Removes a group: it stops gating senders at once; its members' next claims fail. */
export function removeGroup(views: RingViews, geometry: RingGeometry, name: string): GroupInfo {
  const group = requireGroup(views, geometry, name);
  const base = groupOffset(group.index);
  // Flags first: a member holding a run sees the change and checks its copies against the tail.
  Atomics.add(views.words, w(base + GROUP_FLAGS), GROUP_FLAG_CHANGE_UNIT);
  // Its delivered count moves into the removed groups' total as it stops being summed.
  retireGroup(views, group.index, () => Atomics.compareExchange(views.words, w(base + GROUP_STATE), GROUP_ACTIVE, GROUP_FREE) === GROUP_ACTIVE);
  return group;
}

/** Moves a group's cursor: replay from `earliest` or a sequence, or skip to `latest`. */
export function resetGroup(views: RingViews, geometry: RingGeometry, name: string, to: GroupStart): number {
  const group = requireGroup(views, geometry, name);
  return moveCursor(views, geometry, group.index, to, name);
}

/**
 * Makes a group lossy (it stops gating senders) or lossless (it gates them again from its
 * cursor, moved up to the oldest message still in the ring if it was lapped).
 */
export function setGroupLossy(views: RingViews, geometry: RingGeometry, name: string, lossy: boolean): GroupInfo {
  const group = requireGroup(views, geometry, name);
  const base = groupOffset(group.index);
  if (lossy) {
    setLossyFlag(views.words, w(base + GROUP_FLAGS), true);
  } else {
    const tail = readTail(views).position;
    const earliest = Math.max(0, tail - geometry.slotCount);
    setLossyFlag(views.words, w(base + GROUP_FLAGS), false);
    moveCursor(views, geometry, group.index, Math.max(group.dispatch, earliest), name);
  }
  return readGroup(views, group.index)!;
}

/** Sets or clears the lossy flag, counting the change in the same store (nothing when it is already so). */
function setLossyFlag(words: Int32Array, index: number, lossy: boolean): void {
  for (;;) {
    const flags = Atomics.load(words, index);
    if (((flags & GROUP_FLAG_LOSSY) !== 0) === lossy) return;
    const next = ((flags & ~0xff) + GROUP_FLAG_CHANGE_UNIT) | (flags & 0xff & ~GROUP_FLAG_LOSSY) | (lossy ? GROUP_FLAG_LOSSY : 0);
    if (Atomics.compareExchange(words, index, flags, next) === flags) return;
  }
}
