/**
 * What `mmapipc stat` prints for a snapshot: a JSON record with stable field names (documented
 * in docs/stat.md and in `stat --help`), and the human block. Pure: snapshot in, text out.
 */
import type { ChalkInstance } from 'chalk';
import { roleName, type RoleName } from '../../ring/inspect.js';
import { ROLE_RECEIVER, ROLE_SENDER } from '../../layout/ring-layout.js';
import type { ParticipantView, RingSnapshot } from '../../ring-file/observe.js';

/** At or above this share of the slots in use, the ring is "nearly full" (yellow). */
export const NEARLY_FULL = 0.8;
const BAR_WIDTH = 30;

export interface StatRecord {
  file: string;
  fileBytes: number;
  formatVersion: number;
  slots: number;
  slotSize: number;
  /** The largest message the ring takes (one that fills every slot). */
  maxMessageBytes: number;
  waiting: number;
  free: number;
  full: boolean;
  /** The oldest position the slowest lossless group has not finished (tail when there is none). */
  head: number;
  tail: number;
  sent: number;
  /** Positions the slowest lossless group is past (= head): moves back when a group starts earlier. */
  received: number;
  /** Messages finished by the members of every group since the ring was created: only grows. */
  delivered: number;
  senders: { alive: number; dead: number };
  receivers: { alive: number; dead: number };
  participants: Array<{
    pid: number;
    /** Whether `pid` is a pid of the viewer's PID namespace (its liveness comes from the entry's lock either way). */
    pidNamespace: 'same' | 'other' | 'unknown';
    role: RoleName;
    alive: boolean;
    state: string;
    group: string | null;
    attachedAt: string | null;
  }>;
  groups: Array<{
    name: string;
    lossy: boolean;
    position: number;
    floor: number;
    lag: number;
    inFlight: number;
    redelivered: number;
    missed: number;
    gaps: number;
    delivered: number;
    createdAt: string | null;
    members: { alive: number; dead: number; pids: number[] };
  }>;
  claims: Array<{
    kind: 'send' | 'receive';
    pid: number;
    pidNamespace: 'same' | 'other' | 'unknown';
    state: string;
    group: string | null;
    from: number;
    count: number;
    ageMs: number | null;
  }>;
  blockedBy: string | null;
  lastActivity: string | null;
  idleMs: number | null;
  releasedSlots: number;
  redelivered: number;
  creatorPid: number;
  creatorAlive: boolean;
  createdAt: string | null;
  time: string;
}

const isoTime = (ms: number): string | null => (ms > 0 && Number.isFinite(ms) ? new Date(ms).toISOString() : null);

function countRole(participants: readonly ParticipantView[], bit: number): { alive: number; dead: number } {
  const holders = participants.filter((entry) => (entry.role & bit) !== 0);
  const alive = holders.filter((entry) => entry.liveness !== 'dead').length;
  return { alive, dead: holders.length - alive };
}

export function statRecord(snapshot: RingSnapshot): StatRecord {
  const { header, state } = snapshot;
  return {
    file: snapshot.path,
    fileBytes: snapshot.fileBytes,
    formatVersion: header.version,
    slots: header.slotCount,
    slotSize: header.slotSize,
    maxMessageBytes: header.maxMessageLength,
    waiting: state.waiting,
    free: header.slotCount - state.waiting,
    full: state.waiting >= header.slotCount,
    head: state.gate,
    tail: state.tail,
    sent: state.sent,
    received: state.gate,
    delivered: snapshot.delivered,
    senders: countRole(snapshot.participants, ROLE_SENDER),
    receivers: countRole(snapshot.participants, ROLE_RECEIVER),
    participants: snapshot.participants.map((entry) => ({
      pid: entry.pid,
      pidNamespace: entry.namespace,
      role: roleName(entry.role),
      alive: entry.liveness !== 'dead',
      state: entry.state,
      group: state.groups.find((g) => g.index === entry.group && (g.generation & 0xffffff) === entry.groupGeneration)?.name ?? null,
      attachedAt: isoTime(entry.attachedAt),
    })),
    groups: state.groups.map((group) => {
      const members = snapshot.participants.filter((entry) => group.members.includes(entry.index));
      const alive = members.filter((entry) => entry.liveness !== 'dead');
      return {
        name: group.name,
        lossy: group.lossy,
        position: group.dispatch,
        floor: group.floor,
        lag: group.lag,
        inFlight: group.inFlight,
        redelivered: group.redelivered,
        missed: group.missed,
        gaps: group.gaps,
        delivered: group.delivered,
        // The default group is made with the ring and stores no time of its own: the ring's.
        createdAt: isoTime(group.createdAt > 0 ? group.createdAt : header.createdAt),
        members: { alive: alive.length, dead: members.length - alive.length, pids: members.map((entry) => entry.pid) },
      };
    }),
    claims: snapshot.holders.map((holder) => ({
      kind: holder.kind,
      pid: holder.pid,
      pidNamespace: holder.namespace,
      state: holder.state,
      group: holder.group ?? null,
      from: holder.from,
      count: holder.count,
      ageMs: holder.ageMs,
    })),
    blockedBy: snapshot.blockedBy ?? null,
    lastActivity: isoTime(state.lastActivity),
    idleMs: state.lastActivity > 0 ? Math.max(0, Math.round(snapshot.takenAt - state.lastActivity)) : null,
    releasedSlots: state.releasedSlots,
    redelivered: state.redelivered,
    creatorPid: header.pid,
    creatorAlive: snapshot.creatorLiveness === 'alive',
    createdAt: isoTime(header.createdAt),
    time: new Date(snapshot.takenAt).toISOString(),
  };
}

/** 1234567 -> "1,234,567". */
const grouped = (n: number): string => n.toLocaleString('en-US');

/** A duration for people: 0.4 s, 12 s, 5 min 3 s, 2 h 5 min, 3 d 4 h. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** "2026-11-28 21:06:06" in local time. */
function localTime(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** The occupancy bar: green normally, yellow when nearly full, red when full. */
export function occupancyBar(waiting: number, slots: number, color: ChalkInstance): string {
  const share = slots === 0 ? 0 : waiting / slots;
  const filled = waiting === 0 ? 0 : Math.max(1, Math.round(share * BAR_WIDTH));
  const paint = waiting >= slots ? color.red : share >= NEARLY_FULL ? color.yellow : color.green;
  const bar = `[${paint('#'.repeat(filled))}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const label = waiting >= slots ? ' full' : share >= NEARLY_FULL ? ' nearly full' : '';
  return `${bar} ${String(Math.round(share * 100)).padStart(3)}%${paint(label)}`;
}

const ROLE_WORDS: Record<RoleName, string> = {
  sender: 'sender',
  receiver: 'receiver',
  both: 'sender+receiver',
  observer: 'observer',
};

/** The human block, one string per line (no trailing newlines). */
export function statLines(record: StatRecord, color: ChalkInstance): string[] {
  const label = (text: string) => color.dim(text.padEnd(11));
  const alive = (yes: boolean) => (yes ? color.green('alive') : color.red('dead'));
  const side = (counts: { alive: number; dead: number }) => {
    if (counts.alive + counts.dead === 0) return 'none attached';
    const dead = counts.dead > 0 ? `, ${color.red(`${counts.dead} dead`)}` : '';
    return `${counts.alive} alive${dead}`;
  };
  const lines = [
    `${color.bold(record.file)}  ring format v${record.formatVersion}, ${grouped(record.slots)} slots × ${grouped(record.slotSize)} bytes, largest message ${grouped(record.maxMessageBytes)} bytes, file ${grouped(record.fileBytes)} bytes`,
    `  ${label('waiting')}${grouped(record.waiting)} of ${grouped(record.slots)}  ${occupancyBar(record.waiting, record.slots, color)}`,
    `  ${label('positions')}tail ${grouped(record.tail)}, slowest lossless group at ${grouped(record.head)}`,
    `  ${label('totals')}${grouped(record.sent)} sent`,
    `  ${label('senders')}${side(record.senders)}`,
    `  ${label('receivers')}${side(record.receivers)}`,
  ];
  for (const entry of record.participants) {
    const since = entry.attachedAt ? `  since ${localTime(entry.attachedAt)}` : '';
    const state =
      entry.state === 'stopped' ? color.yellow('stopped') : entry.state === 'unknown' ? color.yellow('liveness unknown') : alive(entry.alive);
    const group = entry.group ? `  group ${entry.group}` : '';
    const namespace = entry.pidNamespace === 'other' ? ` ${color.dim('(another pid namespace)')}` : '';
    lines.push(`  ${label('')}pid ${String(entry.pid).padEnd(8)} ${ROLE_WORDS[entry.role].padEnd(16)} ${state}${since}${group}${namespace}`);
  }
  for (const group of record.groups) {
    const kind = group.lossy ? 'lossy' : 'lossless';
    const members = group.members.alive + group.members.dead === 0 ? color.yellow('no members') : `${group.members.alive} member(s) alive${group.members.dead > 0 ? `, ${color.red(`${group.members.dead} dead`)}` : ''}`;
    const lost = group.missed > 0 ? `, ${color.yellow(`${grouped(group.missed)} missed in ${grouped(group.gaps)} gap(s)`)}` : '';
    lines.push(
      `  ${label('group')}${color.bold(group.name)} (${kind}) at ${grouped(group.position)}, lag ${grouped(group.lag)}, in flight ${grouped(group.inFlight)}, ${members}, ${grouped(group.redelivered)} redelivered${lost}`,
    );
  }
  for (const claim of record.claims) {
    const what = claim.kind === 'send' ? `sender claim at ${grouped(claim.from)}` : `run of group ${claim.group ?? '?'} from ${grouped(claim.from)}`;
    const age = claim.ageMs === null ? '' : `, for ${formatDuration(claim.ageMs)}`;
    const state = claim.state === 'running' ? claim.state : color.yellow(claim.state === 'unknown' ? 'liveness unknown' : claim.state);
    const who =
      claim.pid === 0 ? color.red('owner unknown') : `pid ${claim.pid} (${claim.pidNamespace === 'other' ? 'another pid namespace, ' : ''}${state})`;
    lines.push(`  ${label('claim')}${what}: ${claim.count} position(s), ${who}${age}`);
  }
  if (record.blockedBy) lines.push(`  ${label('blocked')}${color.yellow(record.blockedBy)}`);
  const activity =
    record.idleMs === null ? color.dim('unknown (no activity recorded)') : `${formatDuration(record.idleMs)} ago`;
  lines.push(`  ${label('activity')}${activity}`);
  const released = `${grouped(record.releasedSlots)} slot${record.releasedSlots === 1 ? '' : 's'} released after a dead sender`;
  const redelivered = `${grouped(record.redelivered)} message${record.redelivered === 1 ? '' : 's'} redelivered`;
  const paintIf = (n: number, text: string) => (n > 0 ? color.yellow(text) : text);
  lines.push(`  ${label('recovery')}${paintIf(record.releasedSlots, released)}, ${paintIf(record.redelivered, redelivered)}`);
  const created = record.createdAt ? localTime(record.createdAt) : 'at an unknown time';
  lines.push(`  ${label('created')}${created} by pid ${record.creatorPid} (${record.creatorAlive ? 'still running' : 'exited'})`);
  return lines;
}
