/**
 * A server that creates its group takes the place of an idle `default` (docs/format.md §9a), as
 * `bridge export` does: a ring that serves requests usually has only the `default` group every
 * ring starts with, and nobody reads it; lossless, it would hold clients back after one ring's
 * worth of requests. `default` goes only when lossless, memberless and holding nothing.
 */
import { DEFAULT_GROUP } from '../layout/ring-layout.js';
import { readRingState } from '../ring/inspect.js';
import type { RingHandle } from './handle.js';

export type DefaultOutcome = 'none' | 'replaced' | 'kept';

export function replaceIdleDefault(ring: RingHandle, own: string): DefaultOutcome {
  const state = readRingState(ring.ring.memory, ring.header);
  const standing = state.groups.find((group) => group.name === DEFAULT_GROUP && !group.lossy);
  if (!standing || own === DEFAULT_GROUP) return 'none';
  if (standing.members.length > 0 || standing.inFlight > 0 || standing.lag > 0) return 'kept';
  ring.removeGroup(DEFAULT_GROUP);
  return 'replaced';
}
