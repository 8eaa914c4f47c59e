/**
 * A directory beside a ring that follows the ring's sharing (docs/sharing.md, "Beside a shared
 * ring"): a bridge's state (`<ring>.bridge/`) and request/reply's reply rings (`<ring>.replies/`).
 * Who may use the ring may keep these there, so the directory and its files take the ring's group
 * and its group and read bits (never write for others); a directory a group reads is setgid, so
 * every file made in it gets the ring's group whoever makes it.
 *
 * What is found there is trusted only when nobody outside the ring's users could have put it
 * there or could change it: no symlink, nothing writable by others, group write only for the
 * ring's own group when the ring grants it, and an owner that is the caller, the ring's owner, or
 * (for a ring its group may write) a member of that group. Anything else is refused (exit 4).
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { MmapipcError, UnsafeFileError } from '../errors.js';
import { callerGroups, describeGroup, describeUser, userInGroup } from '../sys/accounts.js';
import { getegid, geteuid } from '../sys/libc.js';

const S_ISGID = 0o2000;
const PERMISSION_BITS = 0o7777;
const OTHERS_WRITE = 0o002;
const GROUP_WRITE = 0o020;
const GROUP_ALL = 0o070;
/** What files beside a ring may grant: read and write to owner and group, read to others. */
const FILE_BITS = 0o664;

/** What the directory is for, in messages. */
export interface Purpose {
  /** What is kept there: "refusing to keep <what> there". */
  readonly what: string;
  /** The directory, when it cannot be made: "cannot create <dirName>". */
  readonly dirName: string;
  /** How another user's directory is taken over, before "or ask them to chgrp it". */
  readonly takeOver: string;
}

/** What the ring's sharing asks of what is kept beside it. */
export interface StateSharing {
  /** The ring's owner (the caller when it is about to create the ring). */
  readonly ringUid: number;
  /** The ring's group. */
  readonly gid: number;
  /** The ring's mode, for messages. */
  readonly ringMode: number;
  /** Mode of the directory and of each file in it. */
  readonly dir: number;
  readonly file: number;
}

const octal = (mode: number) => (mode & PERMISSION_BITS).toString(8).padStart(4, '0');

/** The mode a directory of a file mode gets: search wherever read is granted, setgid when the group has any access. */
function dirModeFor(file: number): number {
  return file | ((file & 0o444) >> 2) | 0o700 | ((file & GROUP_ALL) !== 0 ? S_ISGID : 0);
}

/** The group a new file in `parent` gets: the directory's when it is setgid, else the caller's. */
export function newFileGroup(parent: string): number {
  try {
    const status = statSync(parent);
    return (status.mode & S_ISGID) !== 0 ? status.gid : getegid();
  } catch {
    return getegid();
  }
}

/** The sharing of a ring whose owner, group and mode are known (a ring being removed). */
export function sharingOf(ring: { readonly uid: number; readonly gid: number; readonly mode: number }): StateSharing {
  const ringMode = ring.mode & PERMISSION_BITS;
  const file = ringMode & FILE_BITS;
  return { ringUid: ring.uid, gid: ring.gid, ringMode, dir: dirModeFor(file), file };
}

/** Whether the ring's group may read and write it: then its members keep things beside it too. */
function groupShares(sharing: StateSharing): boolean {
  return (sharing.ringMode & 0o060) === 0o060;
}

/**
 * Refuses `status` (of the directory or of a file in it, found at `path`) when someone outside
 * the ring's users could have made it or could change it.
 */
export function checkStateEntry(path: string, status: Stats, sharing: StateSharing, kind: 'directory' | 'file', purpose: Purpose): void {
  const isKind = kind === 'directory' ? status.isDirectory() : status.isFile();
  if (!isKind) {
    throw new UnsafeFileError(`is not a ${kind === 'directory' ? 'directory' : 'regular file'} (a symlink or another kind of file); refusing to keep ${purpose.what} there. Remove it`, {
      subject: path,
    });
  }
  const mode = status.mode & PERMISSION_BITS;
  if ((mode & OTHERS_WRITE) !== 0) {
    throw new UnsafeFileError(`is writable by other users (mode ${octal(mode)}); refusing to keep ${purpose.what} there. Remove it, or chmod o-w it`, { subject: path });
  }
  const euid = geteuid();
  const trusted =
    status.uid === euid || status.uid === sharing.ringUid || (groupShares(sharing) && status.gid === sharing.gid && userInGroup(status.uid, sharing.gid));
  if (!trusted) {
    throw new UnsafeFileError(
      `is owned by ${describeUser(status.uid)}, who is neither you, the ring's owner (${describeUser(sharing.ringUid)}) nor a member of the group that shares the ring; another user may have planted it. Remove it, then start again`,
      { subject: path },
    );
  }
  if ((mode & GROUP_WRITE) !== 0 && (status.gid !== sharing.gid || !groupShares(sharing))) {
    throw new UnsafeFileError(
      `is writable by group ${describeGroup(status.gid)} (mode ${octal(mode)}), which the ring (group ${describeGroup(sharing.gid)}, mode ${octal(sharing.ringMode)}) does not share with; refusing to keep ${purpose.what} there. Remove it, or chmod g-w it`,
      { subject: path },
    );
  }
}

/** Gives an entry of ours the group and mode the sharing asks for. */
function adopt(fd: number, status: Stats, sharing: StateSharing, mode: number, path: string): void {
  try {
    if ((mode & GROUP_ALL) !== 0 && status.gid !== sharing.gid) fchownSync(fd, -1, sharing.gid);
    if ((status.mode & PERMISSION_BITS) !== mode) fchmodSync(fd, mode);
  } catch (error) {
    throw new MmapipcError(
      `cannot give it the ring's group ${describeGroup(sharing.gid)} and mode ${octal(mode)}: ${(error as Error).message}; the ring's group must be one of yours (id -Gn)`,
      { subject: path, cause: error },
    );
  }
}

/** Opens `path` without following a symlink; a symlink is refused in one line. */
export function openNoFollow(path: string, flags: number, purpose: Purpose, mode?: number): number {
  try {
    return openSync(path, flags | constants.O_NOFOLLOW, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // O_DIRECTORY | O_NOFOLLOW on a symlink fails with ENOTDIR, not ELOOP.
    if (code === 'ELOOP' || (code === 'ENOTDIR' && lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink())) {
      throw new UnsafeFileError(`is a symbolic link; refusing to keep ${purpose.what} there. Remove it`, { subject: path, cause: error });
    }
    if (code === 'ENOTDIR') throw new UnsafeFileError(`is not a directory; refusing to keep ${purpose.what} there. Remove it`, { subject: path, cause: error });
    throw error;
  }
}

/**
 * Makes `dir` when missing, or checks the one there (checkStateEntry), and, when it is the
 * caller's, gives it the ring's group and mode (a directory of an earlier mmapipc was 0700).
 * Another user's directory is used when it lets the caller's group in.
 */
export function ensureStateDir(dir: string, sharing: StateSharing, purpose: Purpose): void {
  let made = false;
  try {
    // Owner-only at first: the group and mode are set on the open directory, never wider before.
    mkdirSync(dir, { mode: 0o700 });
    made = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new MmapipcError(`cannot create ${purpose.dirName}: ${(error as Error).message}`, { subject: dir, cause: error });
    }
  }
  const fd = openNoFollow(dir, constants.O_RDONLY | constants.O_DIRECTORY, purpose);
  try {
    const status = fstatSync(fd);
    if (!made) checkStateEntry(dir, status, sharing, 'directory', purpose);
    if (status.uid === geteuid()) {
      adopt(fd, status, sharing, sharing.dir, dir);
      return;
    }
    const mode = status.mode & PERMISSION_BITS;
    if (status.gid !== sharing.gid || (mode & GROUP_ALL) !== GROUP_ALL || !callerGroups().has(status.gid)) {
      throw new MmapipcError(
        `belongs to ${describeUser(status.uid)} (group ${describeGroup(status.gid)}, mode ${octal(mode)}) and does not let you keep ${purpose.what} there; ${purpose.takeOver}or ask them to chgrp it to ${describeGroup(sharing.gid)} and chmod 2770`,
        { subject: dir },
      );
    }
  } finally {
    closeSync(fd);
  }
}

/** Checks `dir` for a look (a stat) without changing it; false when there is none. */
export function checkStateDir(dir: string, sharing: StateSharing, purpose: Purpose): boolean {
  const status = lstatSync(dir, { throwIfNoEntry: false });
  if (!status) return false;
  checkStateEntry(dir, status, sharing, 'directory', purpose);
  return true;
}

/**
 * Opens a file of the directory (O_NOFOLLOW) and checks it; a file of the caller's gets the
 * directory's file mode and group. `create`: made when missing.
 */
export function openStateFile(path: string, flags: number, sharing: StateSharing, purpose: Purpose): number {
  const fd = openNoFollow(path, flags, purpose, 0o600);
  try {
    const status = fstatSync(fd);
    checkStateEntry(path, status, sharing, 'file', purpose);
    if (status.uid === geteuid() && (flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0) adopt(fd, status, sharing, sharing.file, path);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
