/**
 * The libc calls mmapipc needs, through ffi-rs. This folder is the only place that imports
 * ffi-rs. Every failing call throws a SystemCallError naming the call, the path, the errno name
 * and a sentence. Each ffi-rs call costs microseconds: nothing here belongs on a per-message path.
 */
import { constants } from 'node:buffer';
import { ffi } from './ffi.js';
import { SystemCallError } from '../errors.js';
import { errnoName, errnoSentence } from './errno.js';

const { DataType, load, open, createExternalBuffer, createPointer, unwrapPointer } = ffi;
type FieldType = Parameters<typeof load>[0]['paramsType'][number];

/** The name ffi-rs knows libc by (opened once, here; other modules of this folder call through it). */
export const LIBRARY = 'libc';
open({ library: LIBRARY, path: 'libc.so.6' });

interface Outcome<T> {
  value: T;
  errno: number;
}

/** A libc call and the errno it left (for the other modules of this folder too). */
export function callWithErrno<T>(funcName: string, retType: FieldType, paramsType: FieldType[], paramsValue: unknown[]): Outcome<T> {
  const result = load({ library: LIBRARY, funcName, retType, paramsType, paramsValue, errno: true }) as unknown as {
    value: T;
    errnoCode: number;
  };
  return { value: result.value, errno: result.errnoCode };
}

/** A libc call whose errno does not matter. */
export function call<T>(funcName: string, retType: FieldType, paramsType: FieldType[], paramsValue: unknown[]): T {
  return load({ library: LIBRARY, funcName, retType, paramsType, paramsValue }) as unknown as T;
}

export function systemError(call: string, errno: number, subject?: string): SystemCallError {
  return new SystemCallError(call, errno, errnoName(errno), errnoSentence(errno), subject);
}

/** Runs an int-returning call; -1 means failure with errno (a SystemCallError naming the call). */
export function checked(funcName: string, paramsType: FieldType[], paramsValue: unknown[], subject?: string): number {
  const { value, errno } = callWithErrno<number>(funcName, DataType.I32, paramsType, paramsValue);
  if (value === -1) throw systemError(funcName, errno, subject);
  return value;
}

// ---- flags (Linux generic: x86-64 and arm64) ----
export const O_RDONLY = 0;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MS_SYNC = 4;
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const MFD_CLOEXEC = 1;
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

// ---- files ----

export function openFile(path: string, flags: number, mode = 0): number {
  return checked('open', [DataType.String, DataType.I32, DataType.I32], [path, flags | O_CLOEXEC, mode], path);
}

export function closeFile(fd: number): void {
  call('close', DataType.I32, [DataType.I32], [fd]);
}

export interface FileStatus {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly nlink: number;
  readonly isRegular: boolean;
  readonly isDirectory: boolean;
}

/** struct stat offsets on x86-64 (glibc). */
const STAT_LENGTH = 144;
const STAT_NLINK = 16;
const STAT_MODE = 24;
const STAT_UID = 28;
const STAT_GID = 32;
const STAT_SIZE = 48;

export function fileStatus(fd: number, subject?: string): FileStatus {
  const stat = Buffer.alloc(STAT_LENGTH);
  checked('fstat', [DataType.I32, DataType.U8Array], [fd, stat], subject);
  const mode = stat.readUInt32LE(STAT_MODE);
  return {
    mode,
    uid: stat.readUInt32LE(STAT_UID),
    gid: stat.readUInt32LE(STAT_GID),
    size: Number(stat.readBigInt64LE(STAT_SIZE)),
    nlink: Number(stat.readBigUInt64LE(STAT_NLINK)),
    isRegular: (mode & S_IFMT) === S_IFREG,
    isDirectory: (mode & S_IFMT) === S_IFDIR,
  };
}

/** fchown(fd, -1, gid): gives the file to group `gid`, leaving its owner. */
export function changeFileGroup(fd: number, gid: number, subject?: string): void {
  checked('fchown', [DataType.I32, DataType.I32, DataType.I32], [fd, -1, gid], subject);
}

export function truncateFile(fd: number, length: number, subject?: string): void {
  checked('ftruncate', [DataType.I32, DataType.I64], [fd, length], subject);
}

/** Reserves the file's blocks, so that a full file system is an error now rather than SIGBUS later. */
export function allocateFile(fd: number, length: number, subject?: string): void {
  const errno = call<number>('posix_fallocate', DataType.I32, [DataType.I32, DataType.I64, DataType.I64], [fd, 0, length]);
  if (errno !== 0) throw systemError('posix_fallocate', errno, subject);
}

/** flock; returns false when LOCK_NB was given and the lock is held elsewhere. */
export function lockFile(fd: number, operation: number, subject?: string): boolean {
  const { value, errno } = callWithErrno<number>('flock', DataType.I32, [DataType.I32, DataType.I32], [fd, operation]);
  if (value === 0) return true;
  if (errno === 11 && (operation & LOCK_NB) !== 0) return false;
  throw systemError('flock', errno, subject);
}

export function memfdCreate(name: string): number {
  return checked('memfd_create', [DataType.String, DataType.I32], [name, 0], name);
}

// ---- mappings ----

export interface Mapping {
  /** Zero-copy view of the mapped pages, or of the first 2 GiB (less a page) of a longer mapping. Invalid after unmap. */
  readonly buffer: Buffer;
  readonly address: bigint;
  readonly length: number;
}

/** The longest Buffer Node makes (4 GiB in Node 20): a longer mapping is seen through mappedView. */
const MAX_VIEW_LENGTH = constants.MAX_LENGTH;
/**
 * Mapping.buffer's longest: under 2 GiB, since Node's Buffer methods take some lengths as 32-bit
 * signed (buf.write(string, 0) on a Buffer of more than 2 GiB writes nothing). A ring's header and
 * sequence words always fit (at most 1 GiB and a few pages).
 */
const MAX_BUFFER_LENGTH = 2 ** 31 - 4096;

/**
 * Maps `length` bytes of `fd` shared (length is a size_t: a u64 here, so past 4 GiB too).
 * `readOnly`: PROT_READ only, for a descriptor opened O_RDONLY (an observer); any store into such
 * a mapping kills the process with SIGSEGV.
 */
export function mapShared(fd: number, length: number, subject?: string, readOnly = false): Mapping {
  const { value, errno } = callWithErrno<bigint>(
    'mmap',
    DataType.BigInt,
    [DataType.I64, DataType.U64, DataType.I32, DataType.I32, DataType.I32, DataType.I64],
    [0, length, readOnly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0],
  );
  // MAP_FAILED is (void *)-1; ffi-rs' isNullPointer does not recognise it, so read the address.
  if (value === -1n || value === 0xffffffffffffffffn) throw systemError('mmap', errno, subject);
  const mapping = { buffer: Buffer.alloc(0), address: value, length };
  return { ...mapping, buffer: mappedView(mapping, 0, Math.min(length, MAX_BUFFER_LENGTH)) };
}

/** A zero-copy Buffer of `length` bytes at `offset` in `mapping` (at most 4 GiB). Invalid after unmap. */
export function mappedView(mapping: Mapping, offset: number, length: number): Buffer {
  if (offset < 0 || length < 0 || offset + length > mapping.length || length > MAX_VIEW_LENGTH) {
    throw new RangeError(`cannot view ${length} bytes at offset ${offset} of a ${mapping.length}-byte mapping`);
  }
  const pointer = unwrapPointer(createPointer({ paramsType: [DataType.BigInt], paramsValue: [mapping.address + BigInt(offset)] }))[0]!;
  return createExternalBuffer(pointer, length);
}

export function unmap(mapping: Mapping): void {
  call('munmap', DataType.I32, [DataType.BigInt, DataType.U64], [mapping.address, mapping.length]);
}

export function syncMapping(mapping: Mapping, subject?: string): void {
  checked('msync', [DataType.BigInt, DataType.U64, DataType.I32], [mapping.address, mapping.length, MS_SYNC], subject);
}

// ---- processes ----

// Node has these two: no FFI call (and process.pid, no system call either; nothing here forks).
export function getpid(): number {
  return process.pid;
}

export function geteuid(): number {
  return process.geteuid!();
}

export function getegid(): number {
  return call<number>('getegid', DataType.I32, [], []);
}

/** NGROUPS_MAX on Linux. */
const GROUPS_MAX = 65536;

/** The supplementary groups of this process (getgroups(2)); the effective group is getegid's. */
export function supplementaryGroups(): number[] {
  const list = Buffer.alloc(GROUPS_MAX * 4);
  const count = checked('getgroups', [DataType.I32, DataType.U8Array], [GROUPS_MAX, list]);
  return Array.from({ length: count }, (_, i) => list.readUInt32LE(i * 4));
}

/** kill(pid, 0): true when the process exists (even if it belongs to someone else). */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const { value, errno } = callWithErrno<number>('kill', DataType.I32, [DataType.I32, DataType.I32], [pid, 0]);
  return value === 0 || errno === 1; // EPERM: it exists, we may not signal it
}

// ---- futex ----

const SYS_FUTEX = 202; // x86-64
const FUTEX_WAIT = 0; // shared (not FUTEX_PRIVATE_FLAG): the word lives in a shared mapping
const FUTEX_WAKE = 1;
const INT_MAX = 0x7fffffff;
const FUTEX_PARAMS: FieldType[] = [DataType.I64, DataType.U8Array, DataType.I32, DataType.I32, DataType.U8Array, DataType.I64];
const NO_TIMEOUT = Buffer.alloc(16);

function timespec(ms: number): Buffer {
  const spec = Buffer.alloc(16);
  const whole = Math.max(0, Math.floor(ms / 1000));
  spec.writeBigInt64LE(BigInt(whole), 0);
  spec.writeBigInt64LE(BigInt(Math.max(0, Math.round((ms - whole * 1000) * 1e6))), 8);
  return spec;
}

/**
 * Sleeps while the 32-bit word at `word` (a 4-byte view into a shared mapping) still holds
 * `expected`, for at most `timeoutMs`. Returns on a wake, a timeout, a signal or a changed word
 * alike: callers re-check their condition.
 */
export function futexWait(word: Buffer, expected: number, timeoutMs: number): void {
  call('syscall', DataType.I64, FUTEX_PARAMS, [SYS_FUTEX, word, FUTEX_WAIT, expected, timespec(timeoutMs), 0]);
}

/** Same as futexWait, on a thread of its own, so the event loop (and signal handling) runs on. */
export async function futexWaitAsync(word: Buffer, expected: number, timeoutMs: number): Promise<void> {
  await load({
    library: LIBRARY,
    funcName: 'syscall',
    retType: DataType.I64,
    paramsType: FUTEX_PARAMS,
    paramsValue: [SYS_FUTEX, word, FUTEX_WAIT, expected, timespec(timeoutMs), 0],
    runInNewThread: true,
  });
}

/** Wakes every process sleeping on `word`. */
export function futexWake(word: Buffer): void {
  call('syscall', DataType.I64, FUTEX_PARAMS, [SYS_FUTEX, word, FUTEX_WAKE, INT_MAX, NO_TIMEOUT, 0]);
}

// ---- process-shared semaphores (for the counter) ----

/** sizeof(sem_t) on Linux x86-64 and arm64. */
export const SEM_LENGTH = 32;

export function semInit(sem: Buffer, value: number): void {
  checked('sem_init', [DataType.U8Array, DataType.I32, DataType.I32], [sem, 1, value], 'sem_init');
}

export function semDestroy(sem: Buffer): void {
  call('sem_destroy', DataType.I32, [DataType.U8Array], [sem]);
}

export function semPost(sem: Buffer): void {
  checked('sem_post', [DataType.U8Array], [sem], 'sem_post');
}

/** sem_timedwait with a relative timeout; returns false when it timed out (or was interrupted). */
export function semTimedWait(sem: Buffer, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const spec = Buffer.alloc(16);
  spec.writeBigInt64LE(BigInt(Math.floor(deadline / 1000)), 0);
  spec.writeBigInt64LE(BigInt((deadline % 1000) * 1e6), 8);
  const { value, errno } = callWithErrno<number>('sem_timedwait', DataType.I32, [DataType.U8Array, DataType.U8Array], [sem, spec]);
  if (value === 0) return true;
  if (errno === 110 || errno === 4) return false;
  throw systemError('sem_timedwait', errno);
}

export function semTryWait(sem: Buffer): boolean {
  const { value, errno } = callWithErrno<number>('sem_trywait', DataType.I32, [DataType.U8Array], [sem]);
  if (value === 0) return true;
  if (errno === 11) return false;
  throw systemError('sem_trywait', errno);
}

// ---- output ----

/** isatty(3): whether `fd` is a terminal (without loading node:tty, which loads node:net). */
export function isTerminal(fd: number): boolean {
  return call<number>('isatty', DataType.I32, [DataType.I32], [fd]) === 1;
}

const POLLERR = 0x8;
const POLLHUP = 0x10;

/**
 * True when `fd` is a pipe or socket whose reader has gone (poll reports POLLERR/POLLHUP with no
 * events asked for). Lets a process that is idle, not writing, notice `| head` has exited.
 */
export function readerGone(fd: number): boolean {
  const pollfd = Buffer.alloc(8);
  pollfd.writeInt32LE(fd, 0);
  const ready = call<number>('poll', DataType.I32, [DataType.U8Array, DataType.I32, DataType.I32], [pollfd, 1, 0]);
  return ready > 0 && (pollfd.readInt16LE(6) & (POLLERR | POLLHUP)) !== 0;
}
