/**
 * Who holds a ring up, in words: the claims still open (senders' unpublished positions, members'
 * unfinished runs) with their owners' pids and states, and what a blocked sender or member waits
 * for. Used by `stat` and by the one-line error of a send or receive that timed out. Liveness is
 * the caller's (entry locks); pids are shown marked when they belong to another PID namespace.
 */
import { listGroups, type GroupInfo } from '../ring/groups.js';
import { readRingState, type RingState } from '../ring/inspect.js';
import { listParticipants, type IsAlive, type Participant } from '../ring/participants.js';
import { viewsOf } from '../ring/views.js';
import type { RingGeometry } from '../layout/ring-layout.js';
import { describeParticipant, pidText, type ParticipantState, type PidNamespaceRelation } from './participant-state.js';

/** One owner's open claim: positions it has not published (sender) or finished (member). */
export interface ClaimHolder {
  readonly kind: 'send' | 'receive';
  readonly pid: number;
  readonly state: ParticipantState;
  readonly namespace: PidNamespaceRelation;
  readonly group?: string;
  readonly from: number;
  readonly count: number;
  /** How long the claim has stood (ms), when known. */
  readonly ageMs: number | null;
}

export function claimHolders(memory: Buffer, geometry: RingGeometry, isAlive: IsAlive, now = Date.now(), state?: RingState): ClaimHolder[] {
  const views = viewsOf(memory, geometry);
  const ring = state ?? readRingState(memory, geometry);
  const entries = listParticipants(views);
  const byIndex = new Map(entries.map((entry) => [entry.index, entry]));
  const groups = new Map(listGroups(views, geometry).map((group) => [group.index, group]));
  const holders: ClaimHolder[] = [];
  const describe = (entry: Participant) => describeParticipant(entry, isAlive(entry.index));
  // Sender claims: open positions grouped by owner.
  const perOwner = new Map<string, { pid: number; state: ParticipantState; namespace: PidNamespaceRelation; positions: number[]; since: number }>();
  for (const claim of ring.openClaims) {
    const owners = claim.owners === 'unknown' ? [] : claim.owners.map((index) => byIndex.get(index)).filter((e): e is Participant => e !== undefined);
    const key = claim.owners === 'unknown' ? 'unknown' : owners.map((e) => e.pid).join(',') || 'gone';
    const pid = owners[0]?.pid ?? 0;
    const described = owners[0] ? describe(owners[0]) : { state: 'dead' as const, namespace: 'unknown' as const };
    const existing = perOwner.get(key) ?? { pid, ...described, positions: [], since: claim.since };
    existing.positions.push(claim.position);
    perOwner.set(key, existing);
  }
  for (const owner of perOwner.values()) {
    holders.push({
      kind: 'send',
      pid: owner.pid,
      state: owner.state,
      namespace: owner.namespace,
      from: owner.positions[0]!,
      count: owner.positions.length,
      ageMs: owner.since > 0 ? Math.max(0, now - owner.since) : null,
    });
  }
  for (const entry of entries) {
    if (entry.run.count === 0) continue;
    const group = groups.get(entry.group);
    holders.push({
      kind: 'receive',
      pid: entry.pid,
      ...describe(entry),
      group: group?.name,
      from: entry.run.start,
      count: entry.run.count,
      ageMs: entry.run.since > 0 ? Math.max(0, now - entry.run.since) : null,
    });
  }
  return holders;
}

const ageText = (ms: number | null) => (ms === null ? '' : ` for ${Math.round(ms / 1000)} s`);
const whoText = (holder: ClaimHolder) => (holder.pid === 0 ? 'pid ? (owner unknown)' : pidText(holder.pid, holder));

/**
 * Why senders cannot go on, in a few words: the slowest lossless group and what holds its floor
 * (a member's unfinished run, a sender's unpublished claim it waits on, or no member at all).
 */
export function whySendersWait(
  memory: Buffer,
  geometry: RingGeometry,
  isAlive: IsAlive,
  now = Date.now(),
  state: RingState = readRingState(memory, geometry),
  known?: readonly ClaimHolder[],
): string | undefined {
  if (state.waiting < geometry.slotCount) return undefined;
  const holders = known ?? claimHolders(memory, geometry, isAlive, now, state);
  const slowest = state.groups.filter((group) => !group.lossy && group.floor === state.gate);
  for (const group of slowest) {
    const run = holders.find((h) => h.kind === 'receive' && h.group === group.name && h.from === group.floor);
    if (run) return `blocked by ${whoText(run)}${ageText(run.ageMs)}, a member of group ${group.name} holding ${run.count} message(s)`;
    const claim = holders.find((h) => h.kind === 'send' && h.from === group.floor);
    if (claim) return `blocked by ${whoText(claim)}${ageText(claim.ageMs)}, a sender that has not finished writing position ${claim.from}`;
    if (group.members.length === 0) return `blocked by group ${group.name}, which has no members and holds ${group.lag} message(s) (receive with --group ${group.name}, or mmapipc group rm ${group.name})`;
    return `blocked by ${membersText(memory, geometry, group.members, isAlive)}, ${group.members.length === 1 ? 'the member' : 'the members'} of group ${group.name}, ${group.lag} message(s) behind`;
  }
  return undefined;
}

/** "pid 4242 (stopped)" for each member (participant entry index) of a group, with its state. */
function membersText(memory: Buffer, geometry: RingGeometry, members: readonly number[], isAlive: IsAlive): string {
  const entries = new Map(listParticipants(viewsOf(memory, geometry)).map((entry) => [entry.index, entry]));
  const described = members.map((index) => entries.get(index)).filter((entry): entry is Participant => entry !== undefined);
  if (described.length === 0) return `${members.length} member(s)`;
  return described.map((entry) => pidText(entry.pid, describeParticipant(entry, isAlive(entry.index)))).join(', ');
}

/** Why a member of `group` finds nothing: a sender's unpublished claim at its cursor, if any. */
export function whyMemberWaits(memory: Buffer, geometry: RingGeometry, groupName: string, isAlive: IsAlive, now = Date.now()): string | undefined {
  const state = readRingState(memory, geometry);
  const group: GroupInfo | undefined = state.groups.find((g) => g.name === groupName);
  if (!group || group.dispatch >= state.tail) return undefined;
  const claim = claimHolders(memory, geometry, isAlive, now, state).find((h) => h.kind === 'send' && h.from <= group.dispatch && group.dispatch < h.from + h.count);
  if (!claim) return undefined;
  return `blocked by ${whoText(claim)}${ageText(claim.ageMs)}, a sender that has not finished writing position ${group.dispatch}`;
}
