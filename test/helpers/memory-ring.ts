/**
 * Rings over plain memory for unit tests: the layout written by the real header code into a
 * SharedArrayBuffer, participants registered in its table as RingFile does, and direct access
 * to the shared words by their layout offsets.
 */
import { publishHeader, writeHeader } from '../../src/layout/header.js';
import {
  DEFAULT_GROUP,
  GROUP_DISPATCH,
  ROLE_RECEIVER,
  MESSAGES_SENT_OFFSET,
  PARTICIPANT_CAPACITY,
  PARTICIPANT_SENT,
  ROLE_SENDER,
  SEQUENCE_SKIP_BIT,
  TAIL_OFFSET,
  groupOffset,
  participantOffset,
  ringGeometry,
  seqValue,
  sequenceOffsetOf,
  slotOffsetOf,
  type RingGeometry,
} from '../../src/layout/ring-layout.js';
import type { Fault } from '../../src/ring/fault.js';
import { createGroup, type GroupStart } from '../../src/ring/groups.js';
import { readParticipant, registerParticipant, setParticipantGroup, type EntryLocks } from '../../src/ring/participants.js';
import { Ring } from '../../src/ring/ring.js';
import { viewsOf, type RingViews } from '../../src/ring/views.js';

export const CREATOR = { pid: 4242, startTicks: 777, createdAt: 1_700_000_000_000 };

export function geometryOf(slots: number, slotSize: number, groups?: number): RingGeometry {
  const geometry = ringGeometry(slots, slotSize, groups);
  if (typeof geometry === 'string') throw new Error(geometry);
  return geometry;
}

/** A published ring header and empty slots in fresh shared memory. */
export function ringMemory(slots: number, slotSize: number, groups?: number): { memory: Buffer; geometry: RingGeometry } {
  const geometry = geometryOf(slots, slotSize, groups);
  const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
  writeHeader(memory, geometry, CREATOR);
  publishHeader(memory);
  return { memory, geometry };
}

/**
 * Entry locks over plain memory, as the lock test of a file would answer them: an entry's lock
 * is held while its process (by pid, as the test decides) lives, and free once it is dead.
 */
export function pidLocks(views: RingViews, isAlive: (pid: number) => boolean): EntryLocks {
  return {
    tryLock: (index) => {
      const entry = readParticipant(views, index);
      return entry && isAlive(entry.pid) ? 'held' : 'taken';
    },
    unlock: () => {},
  };
}

/** A participant as RingFile records itself (pid namespace and uid are made up). */
export function selfRecord(pid: number, role: number, startTicks = 1) {
  return { pid, pidNamespace: 4026531836n, uid: 1000, role, startTicks, attachedAt: 1 };
}

/** Pids handed to test participants that name none: every one a different process. */
let nextPid = 100_000;

export interface ParticipantOptions {
  /** Default: a fresh made-up pid. */
  readonly pid?: number;
  readonly startTicks?: number;
  /** Stamp messages with Date.now() (default true). */
  readonly stamp?: boolean;
  readonly fault?: Fault;
}

export interface MemberOptions extends ParticipantOptions {
  /** The group to join, created when missing (default "default", which every ring has). */
  readonly group?: string;
  readonly from?: GroupStart;
  readonly lossy?: boolean;
}

/** A ring object with its participant entry, as RingFile.open makes them. */
export interface TestRing extends Ring {
  readonly participant: number;
  /** The entry's generation when this ring object took it. */
  readonly generation: number;
  readonly pid: number;
}

function register(memory: Buffer, geometry: RingGeometry, role: number, options: ParticipantOptions) {
  const pid = options.pid ?? nextPid++;
  const views = viewsOf(memory, geometry);
  const entry = registerParticipant(views, selfRecord(pid, role, options.startTicks), pidLocks(views, () => true));
  if (entry.index < 0) throw new Error('the participant table is full');
  return { pid, views, entry };
}

/** A member of a group (default "default") that also sends: what RingFile.open gives a receiver. */
export function memberRing(memory: Buffer, geometry: RingGeometry, options: MemberOptions = {}): TestRing {
  const { pid, views, entry } = register(memory, geometry, ROLE_SENDER | ROLE_RECEIVER, options);
  const group = createGroup(views, geometry, options.group ?? DEFAULT_GROUP, { from: options.from, lossy: options.lossy });
  setParticipantGroup(views, entry.index, group.index, group.generation);
  const ring = new Ring(memory, geometry, {
    identity: { pid, participant: entry.index, generation: entry.generation },
    group: { index: group.index, generation: group.generation, name: group.name },
    stamp: options.stamp,
    fault: options.fault,
  });
  return Object.assign(ring, { participant: entry.index, generation: entry.generation, pid });
}

/** A sender only (no group): what RingFile.open gives role 'sender'. */
export function senderRing(memory: Buffer, geometry: RingGeometry, options: ParticipantOptions = {}): TestRing {
  const { pid, entry } = register(memory, geometry, ROLE_SENDER, options);
  const ring = new Ring(memory, geometry, {
    identity: { pid, participant: entry.index, generation: entry.generation },
    stamp: options.stamp,
    fault: options.fault,
  });
  return Object.assign(ring, { participant: entry.index, generation: entry.generation, pid });
}

/** Fresh memory and one member of the default group on it, which sends too. */
export function memoryRing(slots: number, slotSize: number, options: MemberOptions = {}): TestRing {
  const { memory, geometry } = ringMemory(slots, slotSize);
  return memberRing(memory, geometry, options);
}

/** Byte offset of the sequence word of `position`. */
export function sequenceFor(geometry: RingGeometry, position: number): number {
  return sequenceOffsetOf(geometry, position % geometry.slotCount);
}

/** Byte offset of the slot that holds `position`. */
export function slotFor(geometry: RingGeometry, position: number): number {
  return slotOffsetOf(geometry, position % geometry.slotCount);
}

/**
 * Moves an empty ring to `position` as if `position` messages had passed through it: the tail
 * and the default group's cursor at `position`, and every slot holding a skip record of the lap
 * before, so free for the next lap of positions from there.
 */
export function advanceEmptyRing(memory: Buffer, geometry: RingGeometry, position: number): void {
  memory.writeBigUInt64LE(BigInt(position), TAIL_OFFSET);
  memory.writeBigUInt64LE(BigInt(position), groupOffset(0) + GROUP_DISPATCH);
  for (let p = position; p < position + geometry.slotCount; p++) {
    memory.writeInt32LE(seqValue(p - geometry.slotCount) | SEQUENCE_SKIP_BIT, sequenceFor(geometry, p));
  }
}

/**
 * The ring's messages-sent total as docs/format.md §2.1 defines it, read from the bytes: the
 * header's count of senders without an entry plus each participant entry's sent count (u64s).
 */
export function sentTotal(memory: Buffer): number {
  let total = Number(memory.readBigUInt64LE(MESSAGES_SENT_OFFSET));
  for (let index = 0; index < PARTICIPANT_CAPACITY; index++) total += Number(memory.readBigUInt64LE(participantOffset(index) + PARTICIPANT_SENT));
  return total;
}
