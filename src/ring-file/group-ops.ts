/**
 * A RingFile's group operations: each changes the group table (../ring/groups.ts), names the
 * ring file in a GroupError, and wakes the side that may be waiting on the change.
 */
import { GroupError } from '../errors.js';
import type { RingHeader } from '../layout/header.js';
import { createGroup, removeGroup, resetGroup, setGroupLossy, type GroupInfo, type GroupStart } from '../ring/groups.js';
import type { Ring } from '../ring/ring.js';
import type { RingViews } from '../ring/views.js';

/** The ring file a group operation acts on. */
export interface GroupTarget {
  readonly path: string;
  readonly header: RingHeader;
  readonly views: RingViews;
  readonly ring: Ring;
}

export function createRingGroup(target: GroupTarget, name: string, options: { from?: GroupStart; lossy?: boolean }): GroupInfo {
  const group = withSubject(target, () => createGroup(target.views, target.header, name, { ...options, now: Date.now() }));
  target.ring.notify('receivers');
  return group;
}

export function removeRingGroup(target: GroupTarget, name: string): GroupInfo {
  const group = withSubject(target, () => removeGroup(target.views, target.header, name));
  // Both sides: senders may have been held back by it, and its waiting members must learn it is gone.
  target.ring.notify('receivers');
  target.ring.notify('senders');
  return group;
}

export function resetRingGroup(target: GroupTarget, name: string, to: GroupStart): number {
  const position = withSubject(target, () => resetGroup(target.views, target.header, name, to));
  target.ring.notify('receivers');
  target.ring.notify('senders');
  return position;
}

export function setRingGroupLossy(target: GroupTarget, name: string, lossy: boolean): GroupInfo {
  const group = withSubject(target, () => setGroupLossy(target.views, target.header, name, lossy));
  target.ring.notify('senders');
  return group;
}

function withSubject<T>(target: GroupTarget, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof GroupError && error.subject === undefined) throw new GroupError(error.message, { subject: target.path });
    throw error;
  }
}
