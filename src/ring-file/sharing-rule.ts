/**
 * The sharing rule (docs/sharing.md, docs/format.md §4): which files a process may map, as a
 * participant (read and write) or as an observer (read only). Refuses what is not a regular file
 * or is writable by others, and another user's file unless its group is one of the caller's and
 * grants what is needed (or, for an observer, others may read it). Root is not special.
 */
import { lstatSync } from 'node:fs';
import { RingFormatError, UnsafeFileError } from '../errors.js';
import { callerGroups, describeGroup, describeUser } from '../sys/accounts.js';
import { geteuid, type FileStatus } from '../sys/libc.js';

/** What a process needs of a ring: a participant reads and writes it; an observer only reads. */
export type FileAccess = 'read-write' | 'read';

const octalMode = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/**
 * The sharing rule (docs/sharing.md): refuses what is not a regular file or is writable by
 * others; a file of another user is accepted only when its group is one of the caller's and
 * grants the group what `access` needs (read and write; for an observer, read), or, for an
 * observer, when others may read it. Root is not special.
 */
export function checkFileSafety(path: string, status: FileStatus, access: FileAccess = 'read-write'): void {
  if (status.isDirectory) throw new RingFormatError('is a directory, not a ring file; pass --file with a file path', { subject: path });
  if (!status.isRegular) {
    throw new UnsafeFileError('is not a regular file (a device, FIFO or socket); refusing to map it', { subject: path });
  }
  if ((status.mode & 0o002) !== 0) {
    throw new UnsafeFileError(`is writable by other users (mode ${octalMode(status.mode)}); anyone could inject messages. Run chmod o-w on it`, {
      subject: path,
    });
  }
  const euid = geteuid();
  if (status.uid === euid) return;
  const groupBits = access === 'read-write' ? 0o060 : 0o040;
  const inGroup = callerGroups().has(status.gid);
  if (inGroup && (status.mode & groupBits) === groupBits) return;
  if (access === 'read' && (status.mode & 0o004) !== 0) return;
  const owner = `is owned by ${describeUser(status.uid)} and group ${describeGroup(status.gid)}, mode ${octalMode(status.mode)}`;
  const why = inGroup ? `which does not give its group ${access === 'read-write' ? 'read and write (g+rw)' : 'read (g+r)'}` : `and you (uid ${euid}) are not in that group`;
  const rule =
    access === 'read-write'
      ? "another user's ring is used only through a group of yours that may read and write it. Ask its owner to chgrp it to a group you are in and chmod g+rw, or use a ring of your own"
      : "another user's ring is read only through a group of yours that may read it (g+r), or when others may read it (o+r). Ask its owner to chmod g+r or o+r, or use a ring of your own";
  throw new UnsafeFileError(`${owner}, ${why}; ${rule}`, { subject: path });
}

/**
 * The kernel refused the open: when the sharing rule refuses the file too (another user's ring
 * not shared with us), say so in its words, which tell what to do; otherwise EACCES stands.
 */
export function refuseByRule(path: string, access: FileAccess): void {
  const found = lstatSync(path, { throwIfNoEntry: false });
  if (!found || found.isSymbolicLink()) return;
  checkFileSafety(
    path,
    { mode: found.mode, uid: found.uid, gid: found.gid, size: found.size, nlink: found.nlink, isRegular: found.isFile(), isDirectory: found.isDirectory() },
    access,
  );
}

