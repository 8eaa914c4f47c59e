/**
 * Anonymous shared memory for related processes: a memfd (no name in any file system) that a
 * parent maps and hands to the children it spawns as an inherited descriptor. It stands in for
 * the tutorial's MAP_SHARED | MAP_ANONYMOUS region, which only fork() could share.
 */
import { ffi } from './ffi.js';
import { MmapipcError } from '../errors.js';
import { allocateFile, closeFile, fileStatus, mapShared, systemError, truncateFile, unmap, type Mapping } from './libc.js';

const { DataType, load } = ffi;

/** Close-on-exec: the memfd reaches a child only where spawn's stdio puts it (dup2 clears the flag). */
const MFD_CLOEXEC = 1;

export interface SharedMemory {
  readonly fd: number;
  readonly mapping: Mapping;
}

/** Creates, sizes, reserves (so a full tmpfs is an error now, not SIGBUS later) and maps a memfd. */
export function createSharedMemory(name: string, length: number): SharedMemory {
  const { value: fd, errnoCode } = load({
    library: 'libc',
    funcName: 'memfd_create',
    retType: DataType.I32,
    paramsType: [DataType.String, DataType.I32],
    paramsValue: [name, MFD_CLOEXEC],
    errno: true,
  }) as unknown as { value: number; errnoCode: number };
  if (fd === -1) throw systemError('memfd_create', errnoCode, name);
  try {
    truncateFile(fd, length, name);
    allocateFile(fd, length, name);
    return { fd, mapping: mapShared(fd, length, name) };
  } catch (error) {
    closeFile(fd);
    throw error;
  }
}

/** Maps the whole of an inherited memfd (its size says how much the parent made). */
export function mapInheritedMemory(fd: number, subject: string): SharedMemory {
  let size: number;
  try {
    size = fileStatus(fd, subject).size;
  } catch (error) {
    throw new MmapipcError(`no shared memory at file descriptor ${fd}; this mode is started by its parent, not by hand`, {
      subject,
      cause: error,
    });
  }
  if (size <= 0) {
    throw new MmapipcError(`file descriptor ${fd} holds no shared memory (size ${size}); this mode is started by its parent, not by hand`, {
      subject,
    });
  }
  return { fd, mapping: mapShared(fd, size, subject) };
}

export function releaseSharedMemory(memory: SharedMemory): void {
  unmap(memory.mapping);
  closeFile(memory.fd);
}
