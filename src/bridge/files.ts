/**
 * A bridge's files live with its ring, in the directory `<ring>.bridge/`, which takes the ring's
 * group and mode (state-dir.ts: 0700 for a ring of its owner alone, 2770 for a 0660 ring, ...):
 *   <name>.lock          locked while the bridge runs (bridge-lock.ts): two bridges of one name
 *                        cannot both run, and `bridge stat` sees the lock from any PID namespace
 *   <name>.cursor.json   import only: the last engine position committed into the ring,
 *                        replaced by write-temp + rename, and only AFTER the ring commit it
 *                        describes: a crash between the two delivers that one commit again,
 *                        never loses it. With --sync the ring is msync'ed first and the cursor
 *                        fsync'ed (file and directory): only then does the order hold across an
 *                        OS crash too. (An fsync'ed cursor over a ring that is not synced would
 *                        be worse than none: it could survive a crash that the commit did not.)
 *   <name>.status.json   what `bridge stat` shows, rewritten a few times a second (no fsync)
 * Every file takes the directory's file mode (its bits less search: 0660 in a 2770 directory)
 * and group, whichever user of the ring writes it; a file found there is read only when
 * state-dir.ts trusts it (no symlink, nothing another user could have planted).
 * Export keeps no position of its own: the ring holds what is not yet acknowledged, and the
 * engine says what it stored (see nats-export.ts, redis-export.ts).
 *
 * The cursor and the status name the ring they belong to by its id (16 random bytes in its
 * header, new at every creation): a ring removed and created again at the same path is another
 * ring, and a cursor of the old one is never resumed on it (see readCursor). `mmapipc rm`
 * removes the directory with the ring (removeBridgeState).
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BridgeStateError, EngineConfigError, MmapipcError, UsageError } from '../errors.js';
import { checkStateDir, checkStateEntry, ensureStateDir, openNoFollow, openStateFile, sharingOf, stateSharing, type StateSharing } from './state-dir.js';
import type { Engine } from './origin.js';

export const BRIDGE_DIR_SUFFIX = '.bridge';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function bridgeDir(ringPath: string): string {
  return `${ringPath}${BRIDGE_DIR_SUFFIX}`;
}

/** A name usable as a file name: letters, digits, '.', '_', '-'. */
export function checkBridgeName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(`option '--name <name>' expected letters, digits, '.', '_' or '-' (up to 100), got '${name}'`);
  }
  return name;
}

/** The default name: direction, engine and stream, as a file name. */
export function defaultBridgeName(direction: 'export' | 'import', engine: Engine, stream: string): string {
  return `${direction}-${engine}-${stream.replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 100);
}

/**
 * Makes `<ring>.bridge/` when missing, with the group and mode of the ring (or of the ring
 * `creation` will make); refuses one another user could have planted (state-dir.ts).
 */
export function ensureBridgeDir(ringPath: string, creation: { readonly mode?: number; readonly fileGroup?: number } = {}): string {
  const dir = bridgeDir(ringPath);
  ensureStateDir(dir, stateSharing(ringPath, creation));
  return dir;
}

/** Opens (creating when missing) `<name>.lock`, checked and given the directory's mode. */
export function openLockFile(ringPath: string, name: string, creation: { readonly mode?: number; readonly fileGroup?: number } = {}): { fd: number; path: string } {
  ensureBridgeDir(ringPath, creation);
  const path = lockPath(ringPath, name);
  return { fd: openStateFile(path, constants.O_RDWR | constants.O_CREAT, stateSharing(ringPath, creation)), path };
}

export function lockPath(ringPath: string, name: string): string {
  return join(bridgeDir(ringPath), `${name}.lock`);
}

/**
 * Replaces `path` with `text` atomically; with `durable`, the data and the rename reach the disk.
 * The new file gets the directory's file mode and group (the directory was checked when the
 * bridge took its lock).
 */
function replaceFile(path: string, text: string, durable: boolean): void {
  const directory = statSync(dirname(path));
  const mode = directory.mode & 0o664;
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  removeIfThere(temporary); // a leftover of a process of this pid: never written through
  const fd = openNoFollow(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    if ((mode & 0o070) !== 0 && fstatSync(fd).gid !== directory.gid) fchownSync(fd, -1, directory.gid);
    fchmodSync(fd, mode);
    const bytes = Buffer.from(text);
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  if (durable) {
    const directoryFd = openSync(dirname(path), 'r');
    try {
      fsyncSync(directoryFd);
    } finally {
      closeSync(directoryFd);
    }
  }
}

/** A JSON file of the directory, read only when state-dir.ts trusts it; undefined when missing. */
function readJson(path: string, sharing: StateSharing): unknown {
  let fd: number;
  try {
    fd = openNoFollow(path, constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (error instanceof MmapipcError) throw error;
    throw new MmapipcError(`cannot read bridge state: ${(error as Error).message}; remove the file to start over`, { subject: path, cause: error });
  }
  try {
    checkStateEntry(path, fstatSync(fd), sharing, 'file');
    return JSON.parse(readFileSync(fd, 'utf8'));
  } catch (error) {
    if (error instanceof MmapipcError) throw error;
    throw new MmapipcError(`cannot read bridge state: ${(error as Error).message}; remove the file to start over`, { subject: path, cause: error });
  } finally {
    closeSync(fd);
  }
}

// ---- the import cursor ----

export interface Cursor {
  readonly version: 2;
  /** The id of the ring the cursor's commits went into (hex). */
  readonly ringId: string;
  readonly name: string;
  readonly engine: Engine;
  /** The NATS stream or the Redis key. */
  readonly stream: string;
  /** The last engine position committed into the ring: a NATS sequence, or a Redis entry ID. */
  readonly position: string;
  /** Redis: how many entries the stream had ever been given up to `position` (to count removed ones). */
  readonly ordinal?: number;
  /** Messages the engine removed (retention) before the bridge could import them, so far. */
  readonly lost: number;
  readonly updatedAt: string;
}

export function cursorPath(ringPath: string, name: string): string {
  return join(bridgeDir(ringPath), `${name}.cursor.json`);
}

/** What to do about state of another ring, said the same way everywhere. */
const START_OVER = 'pass --reset-state to start over (as --from-start, --new or --start-... say), or remove the file';

/**
 * The cursor of bridge `name`, if any. `ringId` is the id of the ring now at `ringPath`
 * (undefined: there is none). A cursor of another ring (the ring was removed and created again),
 * of a ring that is gone, or from before cursors named their ring, is refused: resuming it
 * would skip messages that this ring never got.
 */
export function readCursor(ringPath: string, name: string, engine: Engine, stream: string, ringId: string | undefined): Cursor | undefined {
  const path = cursorPath(ringPath, name);
  const cursor = readJson(path, stateSharing(ringPath)) as (Omit<Cursor, 'version' | 'ringId'> & { version: number; ringId?: unknown }) | undefined;
  if (cursor === undefined) return undefined;
  if ((cursor.version !== 1 && cursor.version !== 2) || typeof cursor.position !== 'string') {
    throw new MmapipcError('is not a bridge cursor this mmapipc understands; remove it to start over', { subject: path });
  }
  if (typeof cursor.ringId !== 'string') {
    throw new BridgeStateError(`was written by an older mmapipc and does not say which ring it belongs to; ${START_OVER}`, { subject: path });
  }
  if (ringId === undefined) {
    throw new BridgeStateError(`belongs to ring ${cursor.ringId}, which is gone from ${ringPath}; ${START_OVER}`, { subject: path });
  }
  if (cursor.ringId !== ringId) {
    throw new BridgeStateError(`belongs to ring ${cursor.ringId}, not to the ring now at ${ringPath} (${ringId}: created again since); ${START_OVER}`, {
      subject: path,
    });
  }
  if (cursor.engine !== engine || cursor.stream !== stream) {
    throw new EngineConfigError(
      `belongs to ${cursor.engine} '${cursor.stream}', not ${engine} '${stream}'; pass another --name (or remove the file to start over)`,
      { subject: path },
    );
  }
  return cursor as Cursor;
}

/** --reset-state: forgets bridge `name`'s cursor and status (its lock stays: it is held). */
export function resetBridgeState(ringPath: string, name: string): void {
  for (const path of [cursorPath(ringPath, name), statusPath(ringPath, name)]) removeIfThere(path);
}

/**
 * After a start that failed before its ring existed: removes this bridge's lock and status (a
 * cursor stays: it is the user's to reset), and the directory when nothing else is left in it.
 */
export function forgetBridge(ringPath: string, name: string): void {
  removeIfThere(statusPath(ringPath, name));
  removeIfThere(lockPath(ringPath, name));
  try {
    rmdirSync(bridgeDir(ringPath));
  } catch {
    // not empty (another bridge's files), or gone already
  }
}

function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new MmapipcError(`cannot remove bridge state: ${(error as Error).message}`, { subject: path, cause: error });
    }
  }
}

/** The files a bridge keeps in `<ring>.bridge/` (and the temporaries of their atomic replacement). */
const STATE_FILE = /^(\.[A-Za-z0-9][A-Za-z0-9._-]*\.\d+\.tmp|[A-Za-z0-9][A-Za-z0-9._-]*\.(lock|cursor\.json|status\.json))$/;

/**
 * Removes `<ring>.bridge/` with the ring (`mmapipc rm`): the bridge files in it, then the
 * directory. `ring`: the owner, group and mode the ring had. Returns what happened: 'none' (there
 * was none), 'removed', or 'kept' when it is not a directory the ring's users made (state-dir.ts)
 * or holds other files (they are left alone).
 */
export function removeBridgeState(ringPath: string, ring: { readonly uid: number; readonly gid: number; readonly mode: number }): 'none' | 'removed' | 'kept' {
  const dir = bridgeDir(ringPath);
  const status = lstatSync(dir, { throwIfNoEntry: false });
  if (!status) return 'none';
  try {
    checkStateEntry(dir, status, sharingOf(ring), 'directory');
  } catch {
    return 'kept';
  }
  for (const file of readdirSync(dir)) if (STATE_FILE.test(file)) removeIfThere(join(dir, file));
  try {
    rmdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (error as NodeJS.ErrnoException).code === 'EEXIST') return 'kept';
    throw new MmapipcError(`cannot remove the bridge directory: ${(error as Error).message}`, { subject: dir, cause: error });
  }
  return 'removed';
}

/** Replaces the cursor (fsync'ed when `durable`). Call only after the ring commit it describes. */
export function writeCursor(ringPath: string, cursor: Cursor, durable: boolean): void {
  replaceFile(cursorPath(ringPath, cursor.name), `${JSON.stringify(cursor)}\n`, durable);
}

// ---- the status file ----

export type BridgeState = 'starting' | 'connected' | 'reconnecting' | 'blocked-ring-full' | 'blocked-stream-full' | 'stopping' | 'stopped';

export interface BridgeStatus {
  /** The id of the ring this status belongs to (hex, from the ring's header); null from an older mmapipc. */
  readonly ringId: string | null;
  readonly name: string;
  readonly direction: 'export' | 'import';
  readonly engine: Engine;
  /** The engine's address without credentials. */
  readonly url: string;
  readonly stream: string;
  readonly ring: string;
  /** For people: a pid of the PID namespace `pidNamespace` (whether it runs is told by its lock). */
  readonly pid: number;
  readonly startTicks: number;
  /** The bridge's PID namespace (the inode of /proc/self/ns/pid, decimal; "0": unknown); absent from an older mmapipc. */
  readonly pidNamespace?: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly state: BridgeState;
  readonly messages: number;
  readonly bytes: number;
  /** Export: held messages the engine already had (not sent again). Import: always 0. */
  readonly duplicatesSuppressed: number;
  /** Messages not carried because they came from the other side of the same loop. */
  readonly loopSkipped: number;
  /** Import: messages the engine removed before they were imported. */
  readonly lostByRetention: number;
  readonly resyncs: number;
  readonly reconnects: number;
  readonly inFlight: number;
  /** Export: the last ring sequence the engine acknowledged; import: the last committed into the ring. */
  readonly ringPosition: number | null;
  /** The engine's position: stream sequence or entry ID. */
  readonly enginePosition: string | null;
  /** Messages waiting to cross: export, in the ring; import, in the engine (null: unknown). */
  readonly lag: number | null;
  readonly lastError: { readonly message: string; readonly at: string } | null;
}

export function statusPath(ringPath: string, name: string): string {
  return join(bridgeDir(ringPath), `${name}.status.json`);
}

export function writeStatus(ringPath: string, status: BridgeStatus): void {
  replaceFile(statusPath(ringPath, status.name), `${JSON.stringify(status)}\n`, false);
}

export function readStatus(ringPath: string, name: string): BridgeStatus | undefined {
  try {
    return readJson(statusPath(ringPath, name), stateSharing(ringPath)) as BridgeStatus | undefined;
  } catch {
    return undefined;
  }
}

/** Every bridge's status on the ring, by name. */
export function listStatuses(ringPath: string): BridgeStatus[] {
  let names: string[];
  try {
    if (!checkStateDir(bridgeDir(ringPath), stateSharing(ringPath))) return [];
    names = readdirSync(bridgeDir(ringPath));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new MmapipcError(`cannot list bridges: ${(error as Error).message}`, { subject: bridgeDir(ringPath), cause: error });
  }
  return names
    .filter((file) => file.endsWith('.status.json'))
    .sort()
    .map((file) => readStatus(ringPath, file.slice(0, -'.status.json'.length)))
    .filter((status): status is BridgeStatus => status !== undefined);
}
