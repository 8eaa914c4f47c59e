/**
 * Open-file-description byte locks (fcntl F_OFD_SETLK / F_OFD_GETLK, Linux >= 3.15): the liveness
 * test of a participant entry (docs/format.md §5.2). Such a lock belongs to the open file
 * description, not to a pid, so every process that opens the file sees it whatever its PID
 * namespace, and the kernel drops it when the last descriptor of that description closes (the
 * holder's death included). A lock test from the description that holds the lock sees no conflict.
 */
import { ffi } from './ffi.js';
import { callWithErrno, systemError } from './libc.js';

const { DataType } = ffi;

const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_WRLCK = 1;
const F_UNLCK = 2;
const SEEK_SET = 0;
const EACCES = 13;
const EAGAIN = 11;

/** struct flock on x86-64 and arm64 Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid, padding. */
const FLOCK_LENGTH = 32;
const FLOCK_TYPE = 0;
const FLOCK_WHENCE = 2;
const FLOCK_START = 8;
const FLOCK_LENGTH_FIELD = 16;
/** Every entry's lock covers one byte: the entry's first. */
const LOCKED_BYTES = 1;

function flock(type: number, offset: number): Buffer {
  const record = Buffer.alloc(FLOCK_LENGTH);
  record.writeInt16LE(type, FLOCK_TYPE);
  record.writeInt16LE(SEEK_SET, FLOCK_WHENCE);
  record.writeBigInt64LE(BigInt(offset), FLOCK_START);
  record.writeBigInt64LE(BigInt(LOCKED_BYTES), FLOCK_LENGTH_FIELD);
  return record;
}

function fcntl(fd: number, command: number, record: Buffer): { value: number; errno: number } {
  return callWithErrno<number>('fcntl', DataType.I32, [DataType.I32, DataType.I32, DataType.U8Array], [fd, command, record]);
}

/** What a non-blocking attempt at a byte's write lock found. */
export type ByteLockAttempt =
  | { readonly kind: 'taken' }
  | { readonly kind: 'held' }
  /** The call failed for another reason (no OFD locks on this file system, a read-only descriptor). */
  | { readonly kind: 'unknown'; readonly errno: number };

/** Takes the 1-byte write lock at `offset` without waiting. */
export function tryLockByte(fd: number, offset: number): ByteLockAttempt {
  const { value, errno } = fcntl(fd, F_OFD_SETLK, flock(F_WRLCK, offset));
  if (value === 0) return { kind: 'taken' };
  if (errno === EAGAIN || errno === EACCES) return { kind: 'held' };
  return { kind: 'unknown', errno };
}

/** Drops this description's lock on the byte at `offset` (nothing happens when it holds none). */
export function unlockByte(fd: number, offset: number, subject?: string): void {
  const { value, errno } = fcntl(fd, F_OFD_SETLK, flock(F_UNLCK, offset));
  if (value !== 0) throw systemError('fcntl(F_OFD_SETLK, F_UNLCK)', errno, subject);
}

export type ByteLockState = 'locked' | 'unlocked' | 'unknown';

/**
 * Whether another open file description holds a lock on the byte at `offset`. Works on a
 * read-only descriptor (the kernel checks the mode only when a lock is set). 'unknown' when the
 * call fails.
 */
export function testByte(fd: number, offset: number): ByteLockState {
  const record = flock(F_WRLCK, offset);
  const { value } = fcntl(fd, F_OFD_GETLK, record);
  if (value !== 0) return 'unknown';
  return record.readInt16LE(FLOCK_TYPE) === F_UNLCK ? 'unlocked' : 'locked';
}
