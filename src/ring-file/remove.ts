/**
 * Removing a ring file safely. Every process that has a ring open holds a shared flock on it,
 * so an exclusive non-blocking flock tells whether the ring is in use. A file that is not a
 * ring is never removed, not even with force: that is rm(1)'s job, not ours. The ring's bridge
 * state (`<ring>.bridge/`: cursors, statuses, locks) goes with it: it describes this ring only;
 * so do the reply rings of its clients (`<ring>.replies/`) that nobody holds open.
 */
import { fstatSync, lstatSync, unlinkSync } from 'node:fs';
import { removeBridgeState } from '../bridge/files.js';
import { removeRepliesDir } from '../reqrep/reply-ring.js';
import { MmapipcError, RingFormatError, SystemCallError, UnsafeFileError } from '../errors.js';
import { checkHeader } from '../layout/header.js';
import { PAGE_LENGTH } from '../layout/ring-layout.js';
import { describeRole } from '../ring/inspect.js';
import { ringViews } from '../ring/views.js';
import { listParticipants, type Participant } from '../ring/participants.js';
import { LOCK_EX, LOCK_NB, O_NOFOLLOW, O_RDWR, closeFile, fileStatus, lockFile, mapShared, openFile, unmap } from '../sys/libc.js';
import { fileLiveness } from './entry-locks.js';
import { checkFileSafety } from './open.js';

export interface RemoveOptions {
  /** Remove the ring even while processes have it open (they keep the old ring until they close it). */
  readonly force?: boolean;
}

export interface RemoveResult {
  readonly path: string;
  /** True when the ring was in use and removed anyway (force). */
  readonly wasInUse: boolean;
  /** Live processes recorded in the ring when it was removed. */
  readonly participants: readonly Participant[];
  /** True when the file had no ring header yet (its creator died before initialising it). */
  readonly uninitialised: boolean;
  /** `<ring>.bridge/`: there was none, it was removed, or it was kept (not ours, or other files in it). */
  readonly bridgeState: 'none' | 'removed' | 'kept';
}

/** The ring was in use and force was not given. */
export class RingInUseError extends MmapipcError {
  override name = 'RingInUseError';
  readonly participants: readonly Participant[];

  constructor(path: string, participants: readonly Participant[]) {
    const who =
      participants.length === 0
        ? 'another process (it holds the ring lock)'
        : participants.map((entry) => `pid ${entry.pid} (${describeRole(entry.role)})`).join(', ');
    super(`is in use by ${who}; stop them first, or pass --force to remove it anyway`, { subject: path });
    this.participants = participants;
  }
}

function openForRemoval(path: string): number {
  try {
    return openFile(path, O_RDWR | O_NOFOLLOW);
  } catch (error) {
    if (!(error instanceof SystemCallError)) throw error;
    if (error.errno === 'ENOENT') throw new SystemCallError('open', error.errnoNumber, error.errno, 'no such ring file', path);
    if (error.errno === 'ELOOP') {
      throw new UnsafeFileError('is a symbolic link; refusing to follow it. Remove the link with rm(1), or pass the real path', {
        subject: path,
        cause: error,
      });
    }
    if (error.errno === 'EISDIR') throw new RingFormatError('is a directory, not a ring file; not removing it', { subject: path, cause: error });
    throw error;
  }
}

/**
 * What the file is: a ring (with its live participants), an uninitialised one (empty or an
 * all-zero header), or a foreign file, which throws.
 */
function inspect(path: string, fd: number): { uninitialised: boolean; participants: Participant[] } {
  const size = fileStatus(fd, path).size;
  if (size === 0) return { uninitialised: true, participants: [] };
  const mapping = mapShared(fd, Math.min(size, PAGE_LENGTH), path);
  let headerLength = 0;
  try {
    const check = checkHeader(mapping.buffer, size);
    // A ring of format version 1 is still a ring: it may be removed (its users hold the lock too).
    if (check.kind === 'invalid' && check.version === 1) return { uninitialised: false, participants: [] };
    if (check.kind === 'invalid') {
      throw new RingFormatError(`${check.reason}; not removing a file that is not a usable ring (use rm(1) if you mean it)`, {
        subject: path,
      });
    }
    if (check.kind === 'uninitialised') return { uninitialised: true, participants: [] };
    headerLength = check.header.headerLength;
  } finally {
    unmap(mapping);
  }
  const table = mapShared(fd, headerLength, path);
  try {
    const isAlive = fileLiveness(fd);
    const live = listParticipants(ringViews(table.buffer, headerLength)).filter((entry) => isAlive(entry.index) !== 'dead');
    return { uninitialised: false, participants: live };
  } finally {
    unmap(table);
  }
}

/**
 * Removes the ring at `path`. Refuses (RingInUseError, exit 1) while another process holds
 * it open, unless `force`; refuses a file that is not a ring (RingFormatError, exit 3) always.
 */
export function removeRingFile(path: string, options: RemoveOptions = {}): RemoveResult {
  const fd = openForRemoval(path);
  try {
    const ring = fileStatus(fd, path);
    checkFileSafety(path, ring);
    const { uninitialised, participants } = inspect(path, fd);
    // Held until close: openers that arrive meanwhile wait, then find the file gone.
    const locked = lockFile(fd, LOCK_EX | LOCK_NB, path);
    if (!locked && !options.force) {
      if (uninitialised) {
        throw new MmapipcError('is being created by another process (it holds the lock); try again in a moment', { subject: path });
      }
      throw new RingInUseError(path, participants);
    }
    // The path must still name the file we checked, not one put there since.
    const opened = fstatSync(fd);
    const named = lstatSync(path, { throwIfNoEntry: false });
    if (!named || named.ino !== opened.ino || named.dev !== opened.dev) {
      throw new MmapipcError('was replaced or removed by another process while being checked; nothing removed', { subject: path });
    }
    unlinkSync(path);
    let bridgeState: RemoveResult['bridgeState'];
    try {
      bridgeState = removeBridgeState(path, ring);
    } catch {
      bridgeState = 'kept'; // the ring is gone already; its stale state is refused where it matters
    }
    try {
      removeRepliesDir(path); // reply rings of clients still running stay until they close
    } catch {
      // the ring is gone already; a stale reply ring is harmless
    }
    return { path, wasInUse: !locked, participants, uninitialised, bridgeState };
  } finally {
    closeFile(fd);
  }
}
