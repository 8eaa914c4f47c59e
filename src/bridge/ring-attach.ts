/**
 * How a bridge attaches to its ring, and how it names the ring to the engine.
 *
 * Export must see every message of the ring, in order, exactly once. With consumer groups (ring
 * format v2) it joins a group of its own, `bridge-<name>`, and other receivers may share the
 * ring. The v1 ring has no groups: the export must be its only receiver, and refuses to start
 * while another live receiver is attached. Switching to groups is RING_HAS_GROUPS = true.
 */
import { existsSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { MmapipcError } from '../errors.js';
import { ROLE_RECEIVER } from '../layout/ring-layout.js';
import { RingFile } from '../ring-file/ring-file.js';
import { listParticipants } from '../ring/participants.js';
import { getpid } from '../sys/libc.js';
import { processLiveness } from '../sys/process.js';

/** v2 (consumer groups): set to true, and the export joins exportGroup(name) instead of refusing other receivers. */
export const RING_HAS_GROUPS = false;

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
}

/** Opens (creating if missing) the ring as the export's receiver (its group's member, with groups). */
export function openForExport(path: string, name: string, creation: RingCreation): RingFile {
  const groupOptions = RING_HAS_GROUPS ? { group: exportGroup(name), from: 'earliest' as const } : {};
  const ring = RingFile.open(path, { role: 'receiver', create: true, ...creation, ...groupOptions });
  if (!RING_HAS_GROUPS) {
    try {
      refuseOtherReceivers(ring);
    } catch (error) {
      ring.close();
      throw error;
    }
  }
  return ring;
}

/** Bounds the wait for a dead receiver's messages: past the ring's stall timeout (10 s) by a margin. */
const RESCUE_WAIT_MS = 15_000;
const RESCUE_POLL_MS = 50;

/**
 * v1: before the first hold, take over what a previous export (or receiver) died holding, so
 * that it is sent first, in ring order. Claims recovery cannot name at once (the process died
 * before marking them) are taken over only after the stall timeout: wait for them, else they
 * would arrive after newer messages, when the engine seems to hold them already. Returns how
 * many were still held elsewhere when the wait ended (0 normally).
 */
export async function rescueBeforeExport(ring: RingFile, signal: AbortSignal, onWait: (held: number) => void): Promise<number> {
  if (RING_HAS_GROUPS) return 0; // the group's recovery hands a dead member's messages on
  const deadline = performance.now() + RESCUE_WAIT_MS;
  let told = false;
  for (;;) {
    ring.recover();
    const held = ring.ring.heldElsewhere;
    if (held === 0 || performance.now() > deadline || signal.aborted) return held;
    if (!told) onWait(held);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, RESCUE_POLL_MS));
  }
}

/** v1: another live receiver would take messages the engine then never sees. */
function refuseOtherReceivers(ring: RingFile): void {
  const self = getpid();
  const others = listParticipants(ring.ring.memory).filter(
    (entry) => entry.pid !== self && (entry.role & ROLE_RECEIVER) !== 0 && processLiveness(entry.pid, entry.startTicks) === 'alive',
  );
  if (others.length > 0) {
    throw new MmapipcError(
      `another receiver is attached (pid ${others.map((entry) => entry.pid).join(', ')}); an export must be the ring's only receiver until rings have consumer groups: stop it first`,
      { subject: ring.path },
    );
  }
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
