/**
 * What the reader of a pipe has read: the bytes still unread in it (FIONREAD, which Linux answers
 * on the write end too) and a wait for the pipe to become empty. A pipe shrunk to one page
 * (F_SETPIPE_SZ) is writable (POLLOUT) only when it is empty, which turns "the reader has read
 * everything" into a kernel event: `receive` into a pipe finishes a message only then.
 */
import { ffi } from './ffi.js';
import { LIBRARY, call } from './libc.js';

const { DataType, load } = ffi;

const FIONREAD = 0x541b;
const F_SETPIPE_SZ = 1031;
/** The smallest pipe: one page, one pipe buffer. */
const ONE_PAGE = 4096;
const POLLOUT = 0x4;

/** Bytes written to the pipe on `fd` that its reader has not read yet; -1 when `fd` cannot tell. */
export function unreadBytes(fd: number): number {
  const count = Buffer.alloc(4);
  const result = call<number>('ioctl', DataType.I32, [DataType.I32, DataType.I64, DataType.U8Array], [fd, FIONREAD, count]);
  return result === -1 ? -1 : count.readInt32LE(0);
}

/** Shrinks the pipe on `fd` to one page, so that POLLOUT means empty; false when the kernel refused. */
export function shrinkPipe(fd: number): boolean {
  return call<number>('fcntl', DataType.I32, [DataType.I32, DataType.I32, DataType.I32], [fd, F_SETPIPE_SZ, ONE_PAGE]) === ONE_PAGE;
}

function pollParams(fd: number): { pollfd: Buffer; params: Parameters<typeof load>[0] } {
  const pollfd = Buffer.alloc(8);
  pollfd.writeInt32LE(fd, 0);
  pollfd.writeInt16LE(POLLOUT, 4);
  return {
    pollfd,
    params: { library: LIBRARY, funcName: 'poll', retType: DataType.I32, paramsType: [DataType.U8Array, DataType.I32, DataType.I32], paramsValue: [] },
  };
}

/**
 * Sleeps in the kernel until the pipe on `fd` is writable (for a one-page pipe: empty), its
 * reader has gone, a signal arrives or `timeoutMs` passes. Blocks the calling thread: callers
 * keep `timeoutMs` short and look at the pipe again afterwards.
 */
export function waitWritable(fd: number, timeoutMs: number): void {
  const { pollfd, params } = pollParams(fd);
  load({ ...params, paramsValue: [pollfd, 1, Math.max(0, Math.ceil(timeoutMs))] });
}

/** waitWritable on a thread of its own, so the event loop (and signal handling) runs on. */
export async function waitWritableAsync(fd: number, timeoutMs: number): Promise<void> {
  const { pollfd, params } = pollParams(fd);
  await load({ ...params, paramsValue: [pollfd, 1, Math.max(0, Math.ceil(timeoutMs))], runInNewThread: true });
}
