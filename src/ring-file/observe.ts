/**
 * Opening a ring to look at it (stat, peek) without taking part: the file is opened O_RDONLY
 * (read permission is enough, docs/sharing.md), validated as openers do, mapped PROT_READ, and
 * then left alone. An observer writes nothing to the ring, takes no participant entry, and keeps
 * no lock (it takes the shared flock only while it validates, to wait out a creator), so it never
 * shows up in `stat` nor makes `rm` think the ring is in use. It tests participants' liveness
 * with F_OFD_GETLK, which works on its read-only descriptor.
 */
import { RingFormatError, SystemCallError } from '../errors.js';
import type { RingHeader } from '../layout/header.js';
import { listParticipants, type IsAlive, type Liveness, type Participant } from '../ring/participants.js';
import { findCorruptSlot, peekMessages, readRingState, type PeekedMessage, type RingState } from '../ring/inspect.js';
import { viewsOf } from '../ring/views.js';
import { ringDelivered } from '../ring/delivered.js';
import { claimHolders, whySendersWait, type ClaimHolder } from './blockers.js';
import { ENOENT } from '../sys/errno.js';
import { LOCK_NB, LOCK_SH, LOCK_UN, closeFile, fileStatus, lockFile, mapShared, mappedView, unmap, type Mapping } from '../sys/libc.js';
import { ringMemoryOf, type RingMemory } from '../layout/data-windows.js';
import { processLiveness, type Liveness as ProcessLiveness } from '../sys/process.js';
import { sleepSync } from '../sys/sleep.js';
import { fileLiveness } from './entry-locks.js';
import { DEFAULT_READY_TIMEOUT_MS, checkFileSafety, openExisting, readHeader } from './open.js';
import { describeParticipant, type ParticipantState, type PidNamespaceRelation } from './participant-state.js';

const RETRY_MS = 5;

export interface ParticipantView extends Participant {
  /** From the entry's lock: alive, dead, or unknown (the lock cannot be tested here). */
  readonly liveness: Liveness;
  /** running or stopped (SIGSTOP, Ctrl-Z, a debugger) in the viewer's PID namespace; alive in another; dead; unknown. */
  readonly state: ParticipantState;
  /** Whether `pid` is a pid of the viewer's PID namespace. */
  readonly namespace: PidNamespaceRelation;
}

export interface RingSnapshot {
  readonly path: string;
  /** The file's size now (fstat). */
  readonly fileBytes: number;
  /** False once the file has been removed (its last link is gone) while it was observed. */
  readonly linked: boolean;
  readonly header: RingHeader;
  readonly state: RingState;
  readonly participants: readonly ParticipantView[];
  /** The creator's pid read through /proc (display only: it may be of another PID namespace). */
  readonly creatorLiveness: ProcessLiveness;
  /** Open claims per owner (senders' unpublished positions, members' unfinished runs). */
  readonly holders: readonly ClaimHolder[];
  /** Why senders cannot go on, when the ring is full for them. */
  readonly blockedBy: string | undefined;
  /** When the snapshot was taken, ms since the epoch. */
  readonly takenAt: number;
  /** Messages finished by the members of every group since the ring was created (only grows). */
  readonly delivered: number;
}

/** Opens read-only, with the one-line reasons the other openers give. */
function openForObserving(path: string): number {
  const fd = openExisting(path, 'read');
  if (fd === undefined) {
    throw new SystemCallError('open', ENOENT, 'ENOENT', 'no such ring file (start a sender first, or create it with mmapipc create)', path);
  }
  return fd;
}

/** A reason to wait for a creator, or the validated header. */
function validate(path: string, fd: number): RingHeader | string {
  checkFileSafety(path, fileStatus(fd, path), 'read');
  if (!lockFile(fd, LOCK_SH | LOCK_NB, path)) return 'is locked by another process that is creating or removing it';
  try {
    const size = fileStatus(fd, path).size;
    if (size === 0) return 'is empty: it is not a ring file, or its creator died before initialising it; remove it';
    const check = readHeader(fd, size, path);
    if (check.kind === 'invalid') throw new RingFormatError(`${check.reason}; remove it or pass --file`, { subject: path });
    if (check.kind === 'uninitialised') {
      return 'has no ring header (all zero): its creator died before finishing, or it is not a ring file; remove it';
    }
    return check.header;
  } finally {
    lockFile(fd, LOCK_UN, path);
  }
}

/** A mapped ring to look at. Call close() when done. */
export class RingObserver {
  readonly path: string;
  readonly header: RingHeader;
  readonly #fd: number;
  readonly #mapping: Mapping;
  readonly #isAlive: IsAlive;
  #closed = false;

  /** Opens an existing ring; throws the same errors (and exit codes) as the other openers. */
  static open(path: string, readyTimeoutMs = DEFAULT_READY_TIMEOUT_MS): RingObserver {
    const deadline = performance.now() + readyTimeoutMs;
    for (;;) {
      const fd = openForObserving(path);
      let header: RingHeader | string;
      try {
        header = validate(path, fd);
        if (typeof header !== 'string') return new RingObserver(path, fd, header, mapShared(fd, header.fileLength, path, true));
      } catch (error) {
        closeFile(fd);
        throw error;
      }
      closeFile(fd);
      if (performance.now() >= deadline) throw new RingFormatError(header, { subject: path });
      sleepSync(RETRY_MS);
    }
  }

  private constructor(path: string, fd: number, header: RingHeader, mapping: Mapping) {
    this.path = path;
    this.header = header;
    this.#fd = fd;
    this.#mapping = mapping;
    this.#isAlive = fileLiveness(fd);
  }

  /** Everything `stat` shows, read now. Liveness costs a lock test per participant. */
  snapshot(): RingSnapshot {
    this.#assertOpen();
    const memory = this.#mapping.buffer;
    const status = fileStatus(this.#fd, this.path);
    this.#assertWhole(status.size);
    const now = Date.now();
    const state = readRingState(memory, this.header);
    // One reading of the ring for the state, the open claims and what blocks senders.
    const holders = claimHolders(memory, this.header, this.#isAlive, now, state);
    return {
      path: this.path,
      fileBytes: status.size,
      linked: status.nlink > 0,
      header: this.header,
      state,
      holders,
      blockedBy: whySendersWait(memory, this.header, this.#isAlive, now, state, holders),
      participants: listParticipants(viewsOf(memory, this.header)).map((entry) => {
        const liveness = this.#isAlive(entry.index);
        return { ...entry, liveness, ...describeParticipant(entry, liveness) };
      }),
      creatorLiveness: processLiveness(this.header.pid, this.header.startTicks),
      takenAt: now,
      delivered: ringDelivered(viewsOf(memory, this.header), this.header),
    };
  }

  /** Up to `max` messages group `group` has not taken yet, oldest first, left in the ring. */
  peek(max: number, group?: string): PeekedMessage[] {
    this.#assertOpen();
    this.#assertWhole(fileStatus(this.#fd, this.path).size);
    return peekMessages(this.#ringMemory(), this.header, max, group);
  }

  /** Throws RingFormatError (exit 3) when a slot holds a word no process of this ring writes. */
  validate(): void {
    this.#assertOpen();
    this.#assertWhole(fileStatus(this.#fd, this.path).size);
    const problem = findCorruptSlot(this.#ringMemory(), this.header);
    if (problem) throw new RingFormatError(`corrupt ring: ${problem}`, { subject: this.path });
  }

  /** The head and data windows of the mapping (data-windows.ts), for reading slots. */
  #ringMemory(): RingMemory {
    const mapping = this.#mapping;
    return ringMemoryOf(this.header, (offset, length) => mappedView(mapping, offset, length));
  }

  /** The mapped memory (at least the header, tables and sequence words), for read-only helpers (groups, blockers). */
  get memory(): Buffer {
    return this.#mapping.buffer;
  }

  /** Touching pages past the end of a truncated file would kill the process with SIGBUS. */
  #assertWhole(size: number): void {
    if (size < this.header.fileLength) {
      throw new RingFormatError(`was truncated to ${size} bytes while observed (the ring needs ${this.header.fileLength})`, {
        subject: this.path,
      });
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('ring observer is closed');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    unmap(this.#mapping);
    closeFile(this.#fd);
  }
}
