/**
 * futex(2) on a word of a shared mapping, through the cheapest call ffi-rs makes: every argument
 * a plain number (the word's address, not a Buffer for ffi-rs to convert), the timeout in one
 * timespec allocated once in native memory, an I32 result, and one params object reused for every
 * call. Measured on the project's 2-core VM (docs/performance.md): the sleeping ping-pong's
 * round trip fell from 77 to 56 µs p50 against the Buffer-argument calls of libc.ts.
 *
 * The shared timespec makes the blocking calls single-threaded per JavaScript thread, which they
 * are: a thread that blocks in futexWaitAt cannot call it again before it returns (workers load
 * their own copy of this module).
 */
import { ffi } from './ffi.js';
import { LIBRARY } from './libc.js';

const { DataType, load, createExternalBuffer, createPointer, unwrapPointer } = ffi;

const SYS_FUTEX = 202; // x86-64
/** Not FUTEX_PRIVATE_FLAG: the word lives in a shared mapping, its sleepers in other processes. */
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const WAKE_EVERYONE = 0x7fffffff;
const TIMESPEC_LENGTH = 16; // struct timespec: tv_sec (i64), tv_nsec (i64)
const TV_NSEC = 8;
const MS_PER_SECOND = 1000;
const NS_PER_MS = 1e6;
/** The longest timed wait, in whole seconds written as the low half of tv_sec (the high half stays 0). */
const MAX_SECONDS = 0x7fffffff;

/** Native memory of `length` bytes that lives as long as the process, and its address. */
function nativeMemory(length: number): { buffer: Buffer; address: number } {
  const address = load({ library: LIBRARY, funcName: 'calloc', retType: DataType.BigInt, paramsType: [DataType.U64, DataType.U64], paramsValue: [1, length] });
  if (address === 0n) throw new Error('calloc failed for the futex timespec');
  const pointer = unwrapPointer(createPointer({ paramsType: [DataType.BigInt], paramsValue: [address] }))[0]!;
  return { buffer: createExternalBuffer(pointer, length), address: Number(address) };
}

const timespec = nativeMemory(TIMESPEC_LENGTH);

/** syscall(SYS_futex, address, FUTEX_WAIT, expected, timespec): the address and expected value change per call. */
const WAIT_CALL = {
  library: LIBRARY,
  funcName: 'syscall',
  retType: DataType.I32,
  paramsType: [DataType.I64, DataType.I64, DataType.I32, DataType.I32, DataType.I64],
  paramsValue: [SYS_FUTEX, 0, FUTEX_WAIT, 0, timespec.address] as number[],
};
const WAIT_ADDRESS = 1;
const WAIT_EXPECTED = 3;
const WAIT_TIMEOUT = 4;

const WAKE_CALL = {
  library: LIBRARY,
  funcName: 'syscall',
  retType: DataType.I32,
  paramsType: [DataType.I64, DataType.I64, DataType.I32, DataType.I32],
  paramsValue: [SYS_FUTEX, 0, FUTEX_WAKE, WAKE_EVERYONE] as number[],
};
const WAKE_ADDRESS = 1;

/** Writes a relative timeout into `spec` without allocating (two 32-bit halves per field). */
function setTimespec(spec: Buffer, timeoutMs: number): void {
  const ms = Math.max(0, timeoutMs);
  const seconds = Math.min(MAX_SECONDS, Math.floor(ms / MS_PER_SECOND));
  spec.writeUInt32LE(seconds, 0);
  spec.writeUInt32LE(0, 4);
  spec.writeUInt32LE(Math.min(999_999_999, Math.round((ms - seconds * MS_PER_SECOND) * NS_PER_MS)), TV_NSEC);
  spec.writeUInt32LE(0, TV_NSEC + 4);
}

/**
 * Sleeps while the 32-bit word at `address` holds `expected`, at most `timeoutMs` (Infinity:
 * no limit). Returns on a wake, a timeout, a signal or a changed word alike: callers re-check.
 */
export function futexWaitAt(address: number, expected: number, timeoutMs: number): void {
  const params = WAIT_CALL.paramsValue;
  params[WAIT_ADDRESS] = address;
  params[WAIT_EXPECTED] = expected | 0;
  if (timeoutMs === Infinity) {
    params[WAIT_TIMEOUT] = 0;
  } else {
    setTimespec(timespec.buffer, timeoutMs);
    params[WAIT_TIMEOUT] = timespec.address;
  }
  load(WAIT_CALL);
}

/** Wakes every thread of every process sleeping on the word at `address`. */
export function futexWakeAt(address: number): void {
  WAKE_CALL.paramsValue[WAKE_ADDRESS] = address;
  load(WAKE_CALL);
}

/**
 * futexWaitAt on a thread ffi-rs starts for the call, so the event loop runs on. Starting that
 * thread costs about 100 µs: this is the fallback for async waits where the bell cannot be
 * watched (see bell-sleeper.ts), not the usual path.
 */
export async function futexWaitAtAsync(address: number, expected: number, timeoutMs: number): Promise<void> {
  const spec = Buffer.alloc(TIMESPEC_LENGTH);
  setTimespec(spec, timeoutMs === Infinity ? MAX_SECONDS * MS_PER_SECOND : timeoutMs);
  await load({
    library: LIBRARY,
    funcName: 'syscall',
    retType: DataType.I32,
    paramsType: [DataType.I64, DataType.I64, DataType.I32, DataType.I32, DataType.U8Array],
    paramsValue: [SYS_FUTEX, address, FUTEX_WAIT, expected | 0, spec],
    runInNewThread: true,
  });
}
