/**
 * Joining an opened ring file as a participant: this process's entry in the participant table
 * (docs/format.md §5.1), the group it receives for (created if missing), and the pure Ring over
 * the mapping. On failure nothing is left behind: the entry is freed and the file closed.
 */
import { GroupError, MmapipcError } from '../errors.js';
import { DEFAULT_GROUP } from '../layout/ring-layout.js';
import { createGroup } from '../ring/groups.js';
import { registerParticipant, setParticipantGroup, unregisterParticipant } from '../ring/participants.js';
import { Ring } from '../ring/ring.js';
import type { RingViews } from '../ring/views.js';
import { faultHook } from '../sys/fault-hook.js';
import { errnoName } from '../sys/errno.js';
import { geteuid } from '../sys/libc.js';
import { pidNamespaceId, processStartTicks } from '../sys/process.js';
import type { FileEntryLocks } from './entry-locks.js';
import { closeRingFile, type OpenedRing } from './open.js';
import { ROLE_BITS, type RingFileOptions } from './ring-file-options.js';

export interface Attached {
  /** This process's participant entry, -1 for an observer that found none. */
  readonly participant: number;
  /** The group it receives for (undefined for a sender only). */
  readonly group: string | undefined;
  readonly ring: Ring;
}

/** Takes an entry for process `pid` in `opened` (whose views and entry locks are given), joins its group, and makes its Ring. */
export function attach(opened: OpenedRing, views: RingViews, locks: FileEntryLocks, pid: number, options: RingFileOptions): Attached {
  const role = options.role ?? 'both';
  const receives = role === 'receiver' || role === 'both' || options.group !== undefined;
  let participant = -1;
  try {
    const self = {
      pid,
      pidNamespace: pidNamespaceId(),
      uid: geteuid(),
      role: ROLE_BITS[role],
      startTicks: processStartTicks(pid) ?? 0,
      attachedAt: Date.now(),
    };
    const entry = registerParticipant(views, self, locks);
    participant = entry.index;
    if (entry.refused === 'locks-unavailable' && role !== 'observer') {
      const errno = locks.lastUntestableErrno;
      throw new MmapipcError(
        `cannot take a participant entry: its file system refuses open-file-description locks (fcntl F_OFD_SETLK: ${errno === undefined ? '?' : errnoName(errno)}), which mmapipc needs to tell live processes from dead ones; put the ring on a local file system (/dev/shm, /tmp); network file systems are unsupported`,
        { subject: opened.path },
      );
    }
    if (entry.index < 0 && role !== 'observer') {
      throw new MmapipcError('every entry of the participant table (64) is held by a live process or by a dead one\'s unresolved claims; close some', { subject: opened.path });
    }
    let group: { index: number; generation: number; name: string } | undefined;
    if (receives) {
      const name = options.group ?? DEFAULT_GROUP;
      const info = createGroup(views, opened.header, name, { lossy: options.lossy, from: options.from, now: Date.now() });
      group = { index: info.index, generation: info.generation, name: info.name };
      setParticipantGroup(views, entry.index, info.index, info.generation);
    }
    const ring = new Ring(opened.memory, opened.header, {
      identity: { pid, participant, generation: entry.generation },
      stamp: options.stamp ?? true,
      group,
      fault: faultHook(),
    });
    return { participant, group: group?.name, ring };
  } catch (error) {
    unregisterParticipant(views, participant, pid);
    closeRingFile(opened); // drops the entry lock with the descriptor
    if (error instanceof GroupError && error.subject === undefined) throw new GroupError(error.message, { subject: opened.path });
    throw error;
  }
}
