/**
 * The participant entries' liveness locks over a ring file's descriptor: entry i's lock is an
 * open-file-description write lock on its first byte (docs/format.md §5.2). The descriptor is the
 * ring's own, opened O_CLOEXEC, so a spawned child never shares (and never keeps alive) the lock.
 */
import { participantOffset } from '../layout/ring-layout.js';
import type { EntryLocks, IsAlive } from '../ring/participants.js';
import { testByte, tryLockByte, unlockByte } from '../sys/ofd-lock.js';

/** Locks for a participant (a read-write descriptor); remembers the errno of a lock that could not be tested. */
export interface FileEntryLocks extends EntryLocks {
  readonly lastUntestableErrno: number | undefined;
}

export function fileEntryLocks(fd: number, path: string): FileEntryLocks {
  let lastUntestableErrno: number | undefined;
  return {
    tryLock(index) {
      const attempt = tryLockByte(fd, participantOffset(index));
      if (attempt.kind === 'unknown') lastUntestableErrno = attempt.errno;
      return attempt.kind;
    },
    unlock(index) {
      unlockByte(fd, participantOffset(index), path);
    },
    get lastUntestableErrno() {
      return lastUntestableErrno;
    },
  };
}

/**
 * Liveness as anyone who only looks sees it (a read-only descriptor will do): alive while another
 * description holds the entry's lock. Never ask about an entry whose lock this descriptor holds
 * (a description sees no conflict with itself).
 */
export function fileLiveness(fd: number): IsAlive {
  return (index) => {
    const state = testByte(fd, participantOffset(index));
    return state === 'locked' ? 'alive' : state === 'unlocked' ? 'dead' : 'unknown';
  };
}
