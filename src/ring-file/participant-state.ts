/**
 * What a participant entry's process is doing, for people (stat, blocker lines). Liveness comes
 * from the entry's lock (./entry-locks.ts); the pid and /proc only describe it, and only when
 * the entry was recorded in the viewer's own PID namespace: across namespaces a pid names another
 * process here, or none.
 */
import type { Participant, Liveness } from '../ring/participants.js';
import { pidNamespaceId, procShowsOwnNamespace, processState } from '../sys/process.js';

/** running/stopped: alive, described from /proc; alive: lock held, another namespace; unknown: the lock cannot be tested. */
export type ParticipantState = 'running' | 'stopped' | 'alive' | 'dead' | 'unknown';
/** Whether the entry's pid is one of the viewer's PID namespace. */
export type PidNamespaceRelation = 'same' | 'other' | 'unknown';

export interface ParticipantDescription {
  readonly state: ParticipantState;
  readonly namespace: PidNamespaceRelation;
}

export function namespaceRelation(entry: Participant): PidNamespaceRelation {
  const own = pidNamespaceId();
  if (own === 0n || entry.pidNamespace === 0n) return 'unknown';
  return own === entry.pidNamespace ? 'same' : 'other';
}

export function describeParticipant(entry: Participant, liveness: Liveness): ParticipantDescription {
  const namespace = namespaceRelation(entry);
  if (liveness !== 'alive') return { state: liveness, namespace };
  if (namespace !== 'same' || !procShowsOwnNamespace()) return { state: 'alive', namespace };
  // The lock says alive; /proc only tells running from stopped.
  return { state: processState(entry.pid, entry.startTicks) === 'stopped' ? 'stopped' : 'running', namespace };
}

/** "pid 7 (stopped)", "pid 7 (another pid namespace, alive)", "pid 7 (liveness unknown)". */
export function pidText(pid: number, description: ParticipantDescription): string {
  const state = description.state === 'unknown' ? 'liveness unknown' : description.state;
  return description.namespace === 'other' ? `pid ${pid} (another pid namespace, ${state})` : `pid ${pid} (${state})`;
}
