/**
 * "Is anybody there?" for request/reply: the live members of a serving group, and whether a reply
 * ring's client is alive. Liveness comes from the participant entries' locks (docs/format.md
 * §5.2), asked through the open handle; an entry whose liveness cannot be tested counts as alive
 * (never judged dead by a guess).
 */
import { findGroup } from '../ring/groups.js';
import { listParticipants } from '../ring/participants.js';
import { viewsOf } from '../ring/views.js';
import type { RingHandle } from './handle.js';

/** Live members of group `name` in the ring `handle` has open (0 when the group does not exist). */
export function liveMembers(handle: RingHandle, name: string, except = -1): number {
  const views = viewsOf(handle.ring.memory, handle.header);
  const group = findGroup(views, handle.header, name);
  if (!group) return 0;
  let live = 0;
  for (const entry of listParticipants(views)) {
    if (entry.index === except || entry.group !== group.index || entry.groupGeneration !== (group.generation & 0xffffff)) continue;
    if (handle.liveness(entry.index) !== 'dead') live++;
  }
  return live;
}

/** True when the serving group exists in the ring `handle` has open. */
export function hasGroup(handle: RingHandle, name: string): boolean {
  return findGroup(viewsOf(handle.ring.memory, handle.header), handle.header, name) !== undefined;
}
