/**
 * Reply rings on disk (docs/format.md §9a): `<request ring path>.replies/<32 hex digits>`, one per
 * client, named after its ring id. A client makes its own lazily, removes it when it closes, and
 * sweeps the directory of stale ones (no process holds them open: flock LOCK_EX succeeds) when it
 * makes one. `mmapipc rm` of the request ring removes the directory.
 */
import { newRingId } from '../sys/ring-id.js';
import { fstatSync, lstatSync, readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SystemCallError } from '../errors.js';
import { ensureStateDir, sharingOf, type Purpose, type StateSharing } from '../sharing/beside-dir.js';
import { REPLIES_DIR_SUFFIX, RING_ID_LENGTH } from '../layout/request-layout.js';
import { LOCK_EX, LOCK_NB, O_NOFOLLOW, O_NONBLOCK, O_RDWR, closeFile, geteuid, lockFile, openFile } from '../sys/libc.js';

const REPLY_RING_NAME = /^[0-9a-f]{32}$/;
/**
 * A file younger than this is never swept: between its creator's open(2) and flock(2), and
 * while its creator turns its exclusive lock into a shared one, nobody holds it (flock changes
 * are not atomic). Its creator is done with both within milliseconds.
 */
const SWEEP_MIN_AGE_MS = 1000;

export function repliesDir(requestPath: string): string {
  return `${requestPath}${REPLIES_DIR_SUFFIX}`;
}

export function replyRingPath(requestPath: string, id: Buffer): string {
  if (id.length !== RING_ID_LENGTH) throw new RangeError(`a ring id is ${RING_ID_LENGTH} bytes, got ${id.length}`);
  return join(repliesDir(requestPath), id.toString('hex'));
}

/** A new reply ring's id and path. */
export function newReplyRingName(requestPath: string): { id: Buffer; path: string } {
  const id = newRingId();
  return { id, path: replyRingPath(requestPath, id) };
}

/**
 * The permissions reply rings get: those of the request ring (who may ask may be answered), never
 * writable or readable by others. Their directory follows the request ring's sharing like every
 * directory beside a ring (src/sharing/beside-dir.ts): a 0660 ring's `<ring>.replies/` is 2770 in
 * the ring's group, so every member of the group makes its reply rings there.
 */
export function replyModes(requestPath: string): { file: number; sharing: StateSharing } {
  const sharing = sharingOf(statSync(requestPath));
  return { file: sharing.file & 0o660, sharing };
}

const REPLIES: Purpose = {
  what: 'reply rings',
  dirName: 'the directory for reply rings',
  takeOver: "make a request as that user once (the directory then takes the ring's group and mode), ",
};

/**
 * Makes `<ring>.replies/` when missing (owner-only at first, then the ring's group and mode), or
 * checks the one there: refuses a symlink, or one another user could have planted or changes.
 */
export function ensureRepliesDir(requestPath: string, sharing: StateSharing): string {
  const dir = repliesDir(requestPath);
  ensureStateDir(dir, sharing, REPLIES);
  return dir;
}

/** Removes the reply ring at `path` if nobody holds it open and it is not being made; true when removed. */
function removeIfStale(path: string, now: number): boolean {
  let fd: number;
  try {
    fd = openFile(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (error instanceof SystemCallError) return false; // gone already, or not ours to judge
    throw error;
  }
  try {
    if (!lockFile(fd, LOCK_EX | LOCK_NB, path)) return false;
    const opened = fstatSync(fd);
    if (now - opened.mtimeMs < SWEEP_MIN_AGE_MS || !opened.isFile() || opened.uid !== geteuid()) return false;
    const named = lstatSync(path, { throwIfNoEntry: false });
    if (!named || named.ino !== opened.ino || named.dev !== opened.dev) return false;
    unlinkSync(path);
    return true;
  } finally {
    closeFile(fd);
  }
}

/** Removes every stale reply ring of the request ring at `requestPath`; returns how many. */
export function sweepReplyRings(requestPath: string): number {
  const dir = repliesDir(requestPath);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const now = Date.now();
  let removed = 0;
  for (const name of names) if (REPLY_RING_NAME.test(name) && removeIfStale(join(dir, name), now)) removed++;
  return removed;
}

/** Removes the reply ring this process made, if its path still names that file. */
export function removeReplyRing(path: string, ino: number, dev: number): void {
  try {
    const named = lstatSync(path, { throwIfNoEntry: false });
    if (named && named.ino === ino && named.dev === dev) unlinkSync(path);
  } catch {
    // best effort: a later client's sweep removes it
  }
}

/**
 * With the request ring removed (mmapipc rm): its stale reply rings, then the directory when
 * nothing else is left in it. 'kept' when a live client's ring (or another file) remains.
 */
export function removeRepliesDir(requestPath: string): 'none' | 'removed' | 'kept' {
  const dir = repliesDir(requestPath);
  const status = lstatSync(dir, { throwIfNoEntry: false });
  if (!status) return 'none';
  if (!status.isDirectory() || status.uid !== geteuid()) return 'kept';
  for (const name of readdirSync(dir)) if (REPLY_RING_NAME.test(name)) removeIfStale(join(dir, name), Infinity);
  try {
    rmdirSync(dir);
  } catch {
    return 'kept';
  }
  return 'removed';
}
