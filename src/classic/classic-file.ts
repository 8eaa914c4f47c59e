/**
 * Opening a classic (tutorial layout) file: the same safety checks as a ring file (no symlinks,
 * regular files only, yours, not writable by others), a length of at least the struct, and words
 * in range, before anything is written. A file mmapipc creates is exactly the struct's length,
 * zero-filled (an empty ring), with mode 0600 unless told otherwise. No lock is taken: the
 * tutorial's C programs take none either.
 */
import { fchmodSync } from 'node:fs';
import { MmapipcError, RingFormatError, SystemCallError } from '../errors.js';
import { MAGIC, MAGIC_LENGTH } from '../layout/ring-layout.js';
import { DEFAULT_MODE, DEFAULT_READY_TIMEOUT_MS, checkFileSafety, createExclusive, openExisting } from '../ring-file/open.js';
import { ENOENT } from '../sys/errno.js';
import {
  allocateFile,
  closeFile,
  fileStatus,
  mapShared,
  syncMapping,
  unmap,
  type Mapping,
} from '../sys/libc.js';
import { sleepSync } from '../sys/sleep.js';
import { CLASSIC_FILE_LENGTH, CLASSIC_STRUCT_LENGTH } from './classic-layout.js';
import { ClassicRing } from './classic-ring.js';

export interface OpenClassicOptions {
  /** Create the file when it does not exist (default false). */
  readonly create?: boolean;
  /** Permission bits of a new file (default 0600). */
  readonly mode?: number;
  /** How long a file still being created (length 0) is waited for (default 2000 ms). */
  readonly readyTimeoutMs?: number;
}

export class ClassicFile {
  readonly path: string;
  readonly ring: ClassicRing;
  readonly created: boolean;
  /** The file's length when opened. */
  readonly fileLength: number;
  readonly #fd: number;
  readonly #mapping: Mapping;
  #closed = false;

  private constructor(path: string, fd: number, mapping: Mapping, created: boolean, fileLength: number) {
    this.path = path;
    this.#fd = fd;
    this.#mapping = mapping;
    this.created = created;
    this.fileLength = fileLength;
    this.ring = new ClassicRing(mapping.buffer, path);
  }

  static open(path: string, options: OpenClassicOptions = {}): ClassicFile {
    const deadline = performance.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    for (;;) {
      const fd = openExisting(path);
      if (fd === undefined) {
        if (!options.create) {
          throw new SystemCallError('open', ENOENT, 'ENOENT', 'no such file (start a sender first)', path);
        }
        const created = createExclusive(path, options.mode ?? DEFAULT_MODE);
        if (created !== undefined) return ClassicFile.#initialise(path, created, options.mode ?? DEFAULT_MODE);
        if (performance.now() >= deadline) {
          throw new MmapipcError('keeps appearing and disappearing (another process is creating and removing it)', { subject: path });
        }
        continue; // someone else created it just now: open theirs
      }
      const opened = ClassicFile.#attach(path, fd);
      if (opened !== undefined) return opened;
      if (performance.now() >= deadline) {
        throw new RingFormatError('is empty: its creator is still at work or died before sizing it; remove it', { subject: path });
      }
      sleepSync(RETRY_MS);
    }
  }

  /** Zero-filled is an empty ring: count 0, both indices 0. */
  static #initialise(path: string, fd: number, mode: number): ClassicFile {
    try {
      fchmodSync(fd, mode); // exactly the mode asked for, whatever the umask
      allocateFile(fd, CLASSIC_FILE_LENGTH, path);
      return new ClassicFile(path, fd, mapShared(fd, CLASSIC_STRUCT_LENGTH, path), true, CLASSIC_FILE_LENGTH);
    } catch (error) {
      closeFile(fd);
      throw error;
    }
  }

  /** The checked file, or undefined while it is still empty (being created). */
  static #attach(path: string, fd: number): ClassicFile | undefined {
    let mapping: Mapping | undefined;
    try {
      const status = fileStatus(fd, path);
      checkFileSafety(path, status);
      if (status.size === 0) {
        closeFile(fd);
        return undefined;
      }
      if (status.size < CLASSIC_STRUCT_LENGTH) {
        throw new RingFormatError(
          `is ${status.size} bytes, shorter than the tutorial's struct message_buffer (${CLASSIC_STRUCT_LENGTH} bytes); remove it, or make the C sender size the file to the whole struct`,
          { subject: path },
        );
      }
      mapping = mapShared(fd, CLASSIC_STRUCT_LENGTH, path);
      if (mapping.buffer.subarray(0, MAGIC_LENGTH).toString('latin1') === MAGIC) {
        throw new RingFormatError('is an mmapipc ring file (format v1), not a classic one; drop --layout classic', { subject: path });
      }
      const file = new ClassicFile(path, fd, mapping, false, status.size);
      file.ring.validate();
      return file;
    } catch (error) {
      if (mapping) unmap(mapping);
      closeFile(fd);
      throw error;
    }
  }

  /** msync: the struct is on disk when this returns. */
  sync(): void {
    syncMapping(this.#mapping, this.path);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    unmap(this.#mapping);
    closeFile(this.#fd);
  }
}

const RETRY_MS = 5;

