/**
 * "Is anybody there?" for request/reply: the live members of a serving group, and whether a reply
 * ring's client is alive. Every liveness question of request/reply goes through isParticipantAlive
 * (docs/format.md §5.2), so a change in how liveness is proven changes one function.
 */
import type { RingGeometry } from '../layout/ring-layout.js';
import { findGroup } from '../ring/groups.js';
import { listParticipants, type Participant } from '../ring/participants.js';
import { viewsOf } from '../ring/views.js';
import { processLiveness } from '../sys/process.js';

/** True while the process recorded in `entry` lives (running or stopped). */
export function isParticipantAlive(entry: Participant): boolean {
  return processLiveness(entry.pid, entry.startTicks) === 'alive';
}

/** Live members of group `name` in the ring mapped at `memory` (0 when the group does not exist). */
export function liveMembers(memory: Buffer, geometry: RingGeometry, name: string, except = -1): number {
  const views = viewsOf(memory, geometry);
  const group = findGroup(views, geometry, name);
  if (!group) return 0;
  let live = 0;
  for (const entry of listParticipants(views)) {
    if (entry.index === except || entry.group !== group.index || entry.groupGeneration !== (group.generation & 0xffffff)) continue;
    if (isParticipantAlive(entry)) live++;
  }
  return live;
}

/** True when the serving group exists in the ring. */
export function hasGroup(memory: Buffer, geometry: RingGeometry, name: string): boolean {
  return findGroup(viewsOf(memory, geometry), geometry, name) !== undefined;
}

/** (pid, start time) alive, for recovery (docs/format.md §5.2). */
export function isAlive(pid: number, startTicks: number): boolean {
  return processLiveness(pid, startTicks) === 'alive';
}
