/**
 * errno numbers (Linux, x86-64 and arm64 agree on these) with their names and a sentence a
 * person understands. Unknown numbers fall back to "E<number>".
 */
const ERRNO: Record<number, readonly [name: string, sentence: string]> = {
  1: ['EPERM', 'operation not permitted'],
  2: ['ENOENT', 'no such file or directory'],
  3: ['ESRCH', 'no such process'],
  4: ['EINTR', 'interrupted by a signal'],
  5: ['EIO', 'input/output error'],
  9: ['EBADF', 'bad file descriptor'],
  11: ['EAGAIN', 'resource temporarily unavailable'],
  12: ['ENOMEM', 'out of memory'],
  13: ['EACCES', 'permission denied'],
  16: ['EBUSY', 'device or resource busy'],
  17: ['EEXIST', 'file already exists'],
  19: ['ENODEV', 'the file system does not support memory mapping'],
  20: ['ENOTDIR', 'a component of the path is not a directory'],
  21: ['EISDIR', 'is a directory'],
  22: ['EINVAL', 'invalid argument'],
  23: ['ENFILE', 'too many open files in the system'],
  24: ['EMFILE', 'too many open files'],
  26: ['ETXTBSY', 'text file busy'],
  27: ['EFBIG', 'file too large'],
  28: ['ENOSPC', 'no space left on device'],
  30: ['EROFS', 'read-only file system'],
  36: ['ENAMETOOLONG', 'file name too long'],
  38: ['ENOSYS', 'function not implemented'],
  40: ['ELOOP', 'is a symbolic link (refused: symlinks could redirect the ring elsewhere)'],
  95: ['EOPNOTSUPP', 'operation not supported on this file system'],
  110: ['ETIMEDOUT', 'timed out'],
  122: ['EDQUOT', 'disk quota exceeded'],
};

export function errnoName(errno: number): string {
  return ERRNO[errno]?.[0] ?? `E${errno}`;
}

export function errnoSentence(errno: number): string {
  return ERRNO[errno]?.[1] ?? `system error ${errno}`;
}

export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EAGAIN = 11;
export const EPERM = 1;
export const EEXIST = 17;
export const EWOULDBLOCK = EAGAIN;
export const ETIMEDOUT = 110;
export const ELOOP = 40;
export const EOPNOTSUPP = 95;
export const EINVAL = 22;
