/**
 * How a bridge attaches to its ring, and how it names the ring to the engine.
 *
 * Export must see every message of the ring, in order, exactly once: it joins a consumer group of
 * its own, `bridge-<name>` (lossless, created at the oldest message still in the ring), so other
 * receivers and groups may share the ring.
 */
import { existsSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULT_GROUP } from '../layout/ring-layout.js';
import { RingFile } from '../ring-file/ring-file.js';
import { readRingState } from '../ring/inspect.js';

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

export function ringOrigin(ring: RingFile): RingOrigin {
  const identity = `${hostname()}:${realpathSync(ring.path)}`.replace(/[^\x21-\x7e]/g, (character) => encodeURIComponent(character));
  return { identity, incarnation: `${ring.header.createdAt}-${ring.header.pid}` };
}

/** How to create the ring when it does not exist yet (as `send` would). */
export interface RingCreation {
  readonly slots?: number;
  readonly slotSize?: number;
  readonly mode?: number;
  /** gid for a new ring (--file-group). */
  readonly fileGroup?: number;
}

/** Opens (creating if missing) the ring as the export's receiver (its group's member, with groups). */
export function openForExport(path: string, name: string, creation: RingCreation): RingFile {
  const ring = RingFile.open(path, { role: 'receiver', create: true, ...creation, group: exportGroup(name), from: 'earliest' });
  try {
    takeOverIdleDefault(ring, exportGroup(name));
  } catch (error) {
    ring.close();
    throw error;
  }
  return ring;
}

/**
 * What a previous export died holding is handed to this one by the group's recovery (before
 * anything newer: recovery runs before the first wait, and a taken-over run is handed out first).
 * Kept as a step so the export loop reads as before; returns how many are still held elsewhere.
 */
export async function rescueBeforeExport(ring: RingFile, _signal: AbortSignal, _onWait: (held: number) => void): Promise<number> {
  ring.recover();
  return 0;
}

/**
 * A ring that feeds an export usually has only the `default` group that every ring starts with,
 * and no member in it: lossless, it would hold the senders back after one ring's worth. When it
 * has no member and holds no run, the export takes its place: its own group moves to where
 * `default` stood (so it exports exactly what nobody has received), and `default` is removed (a
 * plain receiver that comes later creates it again, at the newest message).
 */
function takeOverIdleDefault(ring: RingFile, own: string): void {
  const state = readRingState(ring.ring.memory, ring.header);
  const idle = state.groups.find((group) => group.name === DEFAULT_GROUP && !group.lossy && group.members.length === 0 && group.inFlight === 0);
  if (!idle) return;
  const mine = state.groups.find((group) => group.name === own);
  if (mine && mine.dispatch < idle.dispatch) ring.resetGroup(own, idle.dispatch);
  ring.removeGroup(DEFAULT_GROUP);
}

/** Opens (creating if missing) the ring to send imported messages into. */
export function openForImport(path: string, creation: RingCreation): RingFile {
  return RingFile.open(path, { role: 'sender', create: true, ...creation });
}

/** Opens the ring to look at (dry runs): takes no messages; undefined when it does not exist. */
export function openToInspect(path: string): RingFile | undefined {
  if (!existsSync(path)) return undefined;
  return RingFile.open(path, { role: 'observer', create: false });
}
