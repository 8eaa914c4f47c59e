/**
 * Creating and opening ring files safely: no symlinks, regular files only, never a world-writable
 * one nor one of another user that is not shared with the caller through its group (the sharing
 * rule, docs/sharing.md), space reserved up front, the header validated against the
 * file's real length before anything is touched, and a bounded wait for a file that another
 * process is still initialising. Every process holds a shared flock while the ring is open, so
 * removal can tell that it is in use. See docs/safety.md.
 */
import { fchmodSync, fstatSync, lstatSync, readSync, unlinkSync } from 'node:fs';
import { RingFormatError, SystemCallError, UnsafeFileError, MmapipcError, UsageError } from '../errors.js';
import { checkSlots } from '../layout/check-slots.js';
import { ringMemoryOf, type RingMemory } from '../layout/data-windows.js';
import { checkHeader, publishHeader, writeHeader, type HeaderCheck, type RingHeader } from '../layout/header.js';
import { DEFAULT_GROUP_CAPACITY, DEFAULT_SLOT_COUNT, DEFAULT_SLOT_SIZE, PAGE_LENGTH, ringGeometry, type RingGeometry } from '../layout/ring-layout.js';
import { describeGroup } from '../sys/accounts.js';
import { ENOENT, errnoSentence } from '../sys/errno.js';
import {
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  O_CREAT,
  O_EXCL,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDWR,
  O_RDONLY,
  allocateFile,
  changeFileGroup,
  closeFile,
  fileStatus,
  getpid,
  lockFile,
  mapShared,
  openFile,
  systemError,
  unmap,
  mappedView,
  type Mapping,
} from '../sys/libc.js';
import { processStartTicks } from '../sys/process.js';
import { newRingId } from '../sys/ring-id.js';
import { sleepSync } from '../sys/sleep.js';
import { checkFileSafety, refuseByRule, type FileAccess } from './sharing-rule.js';

export { checkFileSafety, type FileAccess } from './sharing-rule.js';

export interface OpenRingOptions {
  /** Create the file when it does not exist (default true). */
  readonly create?: boolean;
  /** Slot count for a new ring (default 100). */
  readonly slots?: number;
  /** Largest message in bytes for a new ring (default 64). */
  readonly slotSize?: number;
  /** How many consumer groups a new ring can hold (default 8, at most 64). */
  readonly groups?: number;
  /** 16 bytes naming a new ring (its identity; default: random, new at every creation). */
  readonly id?: Buffer;
  /** Permission bits for a new file (default 0o600; 0o660 shares it with the group). */
  readonly mode?: number;
  /**
   * The group (gid) a new file is given (fchown); the caller must be in it unless privileged.
   * Default: the kernel's choice (the caller's group, or the directory's when it is setgid).
   */
  readonly fileGroup?: number;
  /** How long to wait for a file that another process is creating (default 2000 ms). */
  readonly readyTimeoutMs?: number;
}

export interface OpenedRing {
  readonly path: string;
  readonly fd: number;
  readonly mapping: Mapping;
  /** The mapping as the ring core sees it: its head and data windows (data-windows.ts). */
  readonly memory: RingMemory;
  readonly header: RingHeader;
  readonly created: boolean;
}

function opened(path: string, fd: number, mapping: Mapping, header: RingHeader, created: boolean): OpenedRing {
  const memory = ringMemoryOf(header, (offset, length) => mappedView(mapping, offset, length));
  return { path, fd, mapping, memory, header, created };
}

export const DEFAULT_READY_TIMEOUT_MS = 2000;
export const DEFAULT_MODE = 0o600;
/** ENXIO: open(2) of a socket, or of a device with no driver behind it. */
const ENXIO = 6;
const RETRY_MS = 5;

/** Closes `fd` if `work` throws. */
function closingOnError<T>(fd: number, work: () => T): T {
  try {
    return work();
  } catch (error) {
    closeFile(fd);
    throw error;
  }
}

function explainOpenError(error: unknown, path: string): unknown {
  if (!(error instanceof SystemCallError)) return error;
  if (error.errnoNumber === ENXIO) {
    return new UnsafeFileError('is not a regular file (a socket or a device without a driver); refusing to map it', {
      subject: path,
      cause: error,
    });
  }
  switch (error.errno) {
    case 'ELOOP':
      return new UnsafeFileError('is a symbolic link; refusing to follow it (it could point anywhere). Pass the real path', {
        subject: path,
        cause: error,
      });
    case 'EISDIR':
      return new RingFormatError('is a directory, not a ring file; pass --file with a file path', { subject: path, cause: error });
    case 'ENOENT':
      return new SystemCallError('open', error.errnoNumber, error.errno, 'no such file or directory', path);
    default:
      return error;
  }
}

/** Opens an existing file safely (no symlink, no blocking on a FIFO), or returns undefined when there is none. */
export function openExisting(path: string, access: FileAccess = 'read-write'): number | undefined {
  try {
    // O_NONBLOCK: opening a FIFO or a device must not block; it has no effect on a regular file.
    return openFile(path, (access === 'read' ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (error instanceof SystemCallError && error.errno === 'ENOENT') return undefined;
    if (error instanceof SystemCallError && error.errno === 'EACCES') refuseByRule(path, access);
    throw explainOpenError(error, path);
  }
}

/** Creates the file exclusively (no symlink), or returns undefined when someone else just did. */
export function createExclusive(path: string, mode: number): number | undefined {
  try {
    return openFile(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  } catch (error) {
    if (error instanceof SystemCallError && error.errno === 'EEXIST') return undefined;
    if (error instanceof SystemCallError && error.errno === 'ENOENT') {
      throw new SystemCallError('open', error.errnoNumber, error.errno, 'the directory does not exist', path);
    }
    throw explainOpenError(error, path);
  }
}

/** Takes a lock without blocking, retrying until `deadline`: a foreign lock holder must not hang us. */
function lockBefore(fd: number, operation: number, deadline: number, path: string): boolean {
  for (;;) {
    if (lockFile(fd, operation | LOCK_NB, path)) return true;
    if (performance.now() >= deadline) return false;
    sleepSync(1);
  }
}

/** posix_fallocate, so that a full file system is an error now, never a SIGBUS later. */
function reserveSpace(fd: number, length: number, path: string): void {
  try {
    allocateFile(fd, length, path);
  } catch (error) {
    if (!(error instanceof SystemCallError)) throw error;
    throw new SystemCallError(
      error.call,
      error.errnoNumber,
      error.errno,
      `${errnoSentence(error.errnoNumber)} for the ring's ${length} bytes; free some space or pass a smaller --slots or --slot-size`,
      path,
    );
  }
}

/**
 * Removes the file this process created and failed to initialise, so that no half-made ring is
 * left behind; only while the path still names that file.
 */
function removeCreated(path: string, fd: number): void {
  try {
    const created = fstatSync(fd);
    const named = lstatSync(path, { throwIfNoEntry: false });
    if (named && named.ino === created.ino && named.dev === created.dev) unlinkSync(path);
  } catch {
    // Best effort: the error that made us give up is the one to report.
  }
}

/** fchown to `gid`; EPERM (not a member of it) becomes a one-line usage error. */
function giveToGroup(fd: number, gid: number, path: string): void {
  try {
    changeFileGroup(fd, gid, path);
  } catch (error) {
    if (error instanceof SystemCallError && error.errno === 'EPERM') {
      throw new UsageError(`cannot give the new ring to group ${describeGroup(gid)}: you are not a member of it (fchown: EPERM); pick one of your groups (id -Gn)`, {
        subject: path,
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Initialises a file we created: exclusive lock, exact mode, reserved space, header, then the
 * magic. On failure the file is removed again.
 */
function initialise(path: string, fd: number, geometry: RingGeometry, options: OpenRingOptions, deadline: number): OpenedRing {
  const mode = options.mode ?? DEFAULT_MODE;
  let mapping: Mapping | undefined;
  try {
    // Openers that slipped in between creation and this lock see an empty file and back off.
    if (!lockBefore(fd, LOCK_EX, deadline, path)) {
      throw new MmapipcError('was created, but another process holds a lock on it; could not initialise it', { subject: path });
    }
    // The group before the mode; a file made in a setgid directory already has the directory's
    // group, which nothing here changes unless asked to.
    if (options.fileGroup !== undefined) giveToGroup(fd, options.fileGroup, path);
    fchmodSync(fd, mode); // exactly the mode asked for (0600 unless told), whatever the umask
    reserveSpace(fd, geometry.fileLength, path);
    mapping = mapShared(fd, geometry.fileLength, path);
    const pid = getpid();
    writeHeader(mapping.buffer, geometry, { pid, startTicks: processStartTicks(pid) ?? 0, createdAt: Date.now(), id: options.id });
    publishHeader(mapping.buffer);
    lockFile(fd, LOCK_SH, path); // downgrade: now others may open it
    const check = checkHeader(mapping.buffer, geometry.fileLength);
    if (check.kind !== 'ready') throw new RingFormatError(`failed to initialise the ring header (${check.kind === 'invalid' ? check.reason : check.kind})`, { subject: path });
    return opened(path, fd, mapping, check.header, true);
  } catch (error) {
    if (mapping) unmap(mapping);
    removeCreated(path, fd);
    closeFile(fd);
    throw error;
  }
}

/**
 * Rings up to this size get every slot checked when opened alone. Checking touches every page
 * of the mapping (measured on tmpfs: 30-45 ms for 16 MB, 100 ms for 64 MB, 1.8 s for 1 GB);
 * beyond it, the ring algorithm's own bounds checks stand between a corrupt slot and a reader.
 */
const SLOT_CHECK_LIMIT = 16 * 1024 * 1024;

/**
 * Reads the header page of an open file of `size` bytes and checks it: one pread, where mapping
 * it took an mmap, a munmap and five FFI calls. A file cut short since its fstat reads as zeros
 * past its end (uninitialised or invalid), never a SIGBUS.
 */
export function readHeader(fd: number, size: number, path: string): HeaderCheck {
  const header = Buffer.alloc(Math.min(size, PAGE_LENGTH));
  try {
    readSync(fd, header, 0, header.length, 0);
  } catch (error) {
    throw systemError('pread', Math.abs((error as NodeJS.ErrnoException).errno ?? 0), path);
  }
  return checkHeader(header, size);
}

type Attempt = { kind: 'opened'; ring: OpenedRing } | { kind: 'retry'; reason: string };

const UNINITIALISED = 'has no ring header (all zero): its creator died before finishing, or it is not a ring file; remove it';

/**
 * One try at opening an existing file: validated and mapped, or a reason to wait and retry.
 * When no other process has the ring open (the exclusive lock is free), every slot is checked
 * too, before the lock is downgraded to the shared lock that every user holds. Nothing is
 * written to the file before it has passed.
 */
function attachExisting(path: string, fd: number): Attempt {
  return closingOnError(fd, (): Attempt => {
    checkFileSafety(path, fileStatus(fd, path));
    const alone = lockFile(fd, LOCK_EX | LOCK_NB, path);
    if (!alone && !lockFile(fd, LOCK_SH | LOCK_NB, path)) {
      closeFile(fd);
      return { kind: 'retry', reason: 'is locked by another process that is creating or removing it' };
    }
    const size = fileStatus(fd, path).size; // after the lock: a creator may have grown it since
    if (size === 0) {
      // A creator may be between its O_EXCL open and its lock.
      closeFile(fd);
      return { kind: 'retry', reason: 'is empty: it is not a ring file, or its creator died before initialising it; remove it' };
    }
    const check = readHeader(fd, size, path);
    if (check.kind === 'invalid') throw new RingFormatError(`${check.reason}; remove it or pass --file`, { subject: path });
    // A creator holds the exclusive lock from before it grows the file until the magic is
    // written; we hold a lock and the file has grown, so no creator is at work on it.
    if (check.kind === 'uninitialised') throw new RingFormatError(UNINITIALISED, { subject: path });
    const mapping = mapShared(fd, check.header.fileLength, path);
    if (alone) {
      const problem = check.header.fileLength <= SLOT_CHECK_LIMIT ? checkSlots(mapping.buffer, check.header) : undefined;
      if (problem === undefined && lockFile(fd, LOCK_SH | LOCK_NB, path)) {
        return { kind: 'opened', ring: opened(path, fd, mapping, check.header, false) };
      }
      unmap(mapping);
      if (problem !== undefined) throw new RingFormatError(`corrupt ring: ${problem}; remove it or pass --file`, { subject: path });
      closeFile(fd); // someone took the lock while we let go of it: start again
      return { kind: 'retry', reason: 'is locked by another process that is creating or removing it' };
    }
    return { kind: 'opened', ring: opened(path, fd, mapping, check.header, false) };
  });
}

/**
 * Opens the ring at `path`, creating it when allowed and absent. Throws MmapipcError subclasses
 * with one-line reasons; never writes to a file that failed validation.
 */
export function openRingFile(path: string, options: OpenRingOptions = {}): OpenedRing {
  const geometry = ringGeometry(options.slots ?? DEFAULT_SLOT_COUNT, options.slotSize ?? DEFAULT_SLOT_SIZE, options.groups ?? DEFAULT_GROUP_CAPACITY);
  if (typeof geometry === 'string') throw new MmapipcError(geometry, { subject: path });
  // Read the clock only once an attempt needs it (the first access to the global `performance`
  // loads Node's perf_hooks: about 0.6 ms of a one-shot command that opens an existing ring).
  let deadlineAt: number | undefined;
  const deadline = (): number => (deadlineAt ??= performance.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS));
  for (;;) {
    const fd = openExisting(path);
    let reason: string;
    if (fd === undefined) {
      if (options.create === false) {
        throw new SystemCallError('open', ENOENT, 'ENOENT', 'no such ring file (start a sender first, or create it with mmapipc create)', path);
      }
      const created = createExclusive(path, options.mode ?? DEFAULT_MODE);
      if (created !== undefined) return initialise(path, created, geometry, { ...options, id: options.id ?? newRingId() }, deadline());
      reason = 'keeps appearing and disappearing (another process is creating and removing it)';
      if (performance.now() < deadline()) continue; // lost a creation race: open the winner's file
    } else {
      const attempt = attachExisting(path, fd);
      if (attempt.kind === 'opened') return attempt.ring;
      reason = attempt.reason;
    }
    if (performance.now() >= deadline()) throw new RingFormatError(reason, { subject: path });
    sleepSync(RETRY_MS);
  }
}

export function closeRingFile(opened: OpenedRing): void {
  unmap(opened.mapping);
  closeFile(opened.fd); // drops the shared lock
}
