/**
 * How a bridge attaches to its ring, and how it names the ring to the engine.
 *
 * A bridge first looks at its ring without taking part (lookAtRing: no participant entry, no
 * group, nothing written), checks the engine, and only then attaches: a start that fails on the
 * engine leaves the ring exactly as it was.
 *
 * Export must see every message of the ring, in order, exactly once: it joins a consumer group of
 * its own, `bridge-<name>` (lossless, created at the oldest message still in the ring), so other
 * receivers and groups may share the ring.
 */
import { existsSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { RingHeader } from '../layout/header.js';
import { DEFAULT_GROUP } from '../layout/ring-layout.js';
import { RingObserver } from '../ring-file/observe.js';
import { RingFile } from '../ring-file/ring-file.js';
import { readRingState, type GroupState } from '../ring/inspect.js';

/** Format v2 has consumer groups: the export joins exportGroup(name), and other receivers may share the ring. */
export const RING_HAS_GROUPS = true;

/** The ring consumer group an export bridge reads as (format v2). */
export function exportGroup(name: string): string {
  return `bridge-${name}`;
}

/** What the engine is told about the ring a message came from. */
export interface RingOrigin {
  /** hostname:realpath, percent-encoded outside printable ASCII: survives re-creation of the ring. */
  readonly identity: string;
  /** `${createdAt}-${creatorPid}`: changes when the ring is re-created (its sequence starts again). */
  readonly incarnation: string;
}

function identityOf(realPath: string): string {
  return `${hostname()}:${realPath}`.replace(/[^\x21-\x7e]/g, (character) => encodeURIComponent(character));
}

export function ringOrigin(ring: { readonly path: string; readonly header: RingHeader }): RingOrigin {
  return { identity: identityOf(realpathSync(ring.path)), incarnation: `${ring.header.createdAt}-${ring.header.pid}` };
}

/**
 * The origin a ring not created yet will have, for the checks made before it is: its identity
 * exactly, and an incarnation as long as any real one (ms since the epoch and a pid) that no
 * real one equals, so the engine holds nothing of it.
 */
export function provisionalOrigin(path: string): RingOrigin {
  return { identity: identityOf(join(realpathSync(dirname(path)), basename(path))), incarnation: '0000000000000.000-0000000' };
}

/** What a bridge learns from a look at its ring: undefined when there is no ring yet. */
export interface RingSight {
  readonly path: string;
  readonly header: RingHeader;
  readonly groups: readonly GroupState[];
  /** Messages the slowest lossless group has not finished. */
  readonly waiting: number;
}

/** Looks at the ring without taking part in it (no participant entry, no group, nothing written). */
export function lookAtRing(path: string): RingSight | undefined {
  if (!existsSync(path)) return undefined;
  const observer = RingObserver.open(path);
  try {
    const state = readRingState(observer.memory, observer.header);
    return { path, header: observer.header, groups: state.groups, waiting: state.waiting };
  } finally {
    observer.close();
  }
}

/** How to create the ring when it does not exist yet (as `send` would). */
export interface RingCreation {
  readonly slots?: number;
  readonly slotSize?: number;
  readonly mode?: number;
  /** gid for a new ring (--file-group). */
  readonly fileGroup?: number;
}

export interface ExportAttachment {
  readonly ring: RingFile;
  /** The export's group did not exist before: a start that fails from here removes it again. */
  readonly createdGroup: boolean;
}

/** Opens (creating if missing) the ring as a member of the export's own group. */
export function attachExport(path: string, name: string, creation: RingCreation): ExportAttachment {
  const own = exportGroup(name);
  const before = lookAtRing(path);
  const existed = before?.groups.some((group) => group.name === own) ?? false;
  const ring = RingFile.open(path, { role: 'receiver', create: true, ...creation, group: own, from: 'earliest' });
  return { ring, createdGroup: !existed };
}

/** Undoes attachExport for a start that failed: removes the group it created (and only that). */
export function detachFailedExport(attachment: ExportAttachment, name: string): void {
  if (attachment.createdGroup && !attachment.ring.closed) attachment.ring.removeGroup(exportGroup(name));
}

/** What happened to `default` when the export started. */
export type DefaultOutcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'replaced' }
  /** Kept: it has members, or messages wait for it. */
  | { readonly kind: 'kept'; readonly members: number; readonly waiting: number };

/**
 * A ring that feeds an export usually has only the `default` group every ring starts with, and
 * no member in it: lossless, it would hold the senders back after one ring's worth. Called once
 * the engine is known usable: when `default` is lossless, has no member and holds nothing (no
 * message waits for it, none is claimed), the export takes its place: its group, if created by
 * this start, moves to where `default` stood (so it exports exactly what nobody has received),
 * and `default` is removed (a plain receiver that comes later creates it again, at the newest
 * message). Otherwise `default` stays, and the caller says so.
 */
export function settleDefault(attachment: ExportAttachment, own: string): DefaultOutcome {
  const { ring } = attachment;
  const state = readRingState(ring.ring.memory, ring.header);
  const standing = state.groups.find((group) => group.name === DEFAULT_GROUP && !group.lossy);
  if (!standing) return { kind: 'none' };
  if (standing.members.length > 0 || standing.inFlight > 0 || standing.lag > 0) {
    return { kind: 'kept', members: standing.members.length, waiting: standing.lag };
  }
  const mine = state.groups.find((group) => group.name === own);
  // Only a group made now may move: an existing one may hold what an earlier run did not export.
  if (attachment.createdGroup && mine && mine.dispatch < standing.dispatch) ring.resetGroup(own, standing.dispatch);
  ring.removeGroup(DEFAULT_GROUP);
  return { kind: 'replaced' };
}

/** Opens (creating if missing) the ring to send imported messages into. */
export function openForImport(path: string, creation: RingCreation): RingFile {
  return RingFile.open(path, { role: 'sender', create: true, ...creation });
}
