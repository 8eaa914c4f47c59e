/**
 * `mmapipc bridge stat`: every bridge of a ring, from its status file, as lines or JSON. Whether
 * a bridge runs is told by its lock (bridge-lock.ts), seen alike from every PID namespace; the
 * pid is shown for people, marked when it belongs to another PID namespace than the viewer's.
 */
import type { PidNamespaceRelation } from '../ring-file/participant-state.js';
import { pidNamespaceId, procShowsOwnNamespace, processLiveness } from '../sys/process.js';
import type { BridgeStatus } from './files.js';

/** What the bridge's lock says: held (it runs), free, unknown (the file system cannot tell), none (no lock file). */
export type BridgeLockState = 'held' | 'free' | 'unknown' | 'none';

export interface BridgeView extends BridgeStatus {
  /** The bridge's process still runs (its state is current). */
  readonly running: boolean;
  /** Whether `pid` is a pid of the viewer's PID namespace. */
  readonly pidNamespace: PidNamespaceRelation;
  /** Age of the status, and of the last error, in ms. */
  readonly statusAgeMs: number;
  readonly lastErrorAgeMs: number | null;
}

function namespaceOf(status: BridgeStatus): PidNamespaceRelation {
  const own = pidNamespaceId();
  if (own === 0n || status.pidNamespace === undefined || status.pidNamespace === '0') return 'unknown';
  return String(own) === status.pidNamespace ? 'same' : 'other';
}

/**
 * Running: the lock is held. Only where the lock cannot be tested (a file system without OFD
 * locks) does /proc stand in, and only for a pid of the viewer's own namespace.
 */
function isRunning(status: BridgeStatus, lock: BridgeLockState, namespace: PidNamespaceRelation): boolean {
  if (status.state === 'stopped') return false;
  if (lock === 'held') return true;
  if (lock !== 'unknown') return false;
  return namespace === 'same' && procShowsOwnNamespace() && processLiveness(status.pid, status.startTicks) === 'alive';
}

export function bridgeViews(statuses: readonly BridgeStatus[], lockState: (name: string) => BridgeLockState, now = Date.now()): BridgeView[] {
  return statuses.map((status) => {
    const pidNamespace = namespaceOf(status);
    const running = isRunning(status, lockState(status.name), pidNamespace);
    return {
      ...status,
      running,
      pidNamespace,
      state: running ? status.state : 'stopped',
      statusAgeMs: Math.max(0, now - Date.parse(status.updatedAt)),
      lastErrorAgeMs: status.lastError ? Math.max(0, now - Date.parse(status.lastError.at)) : null,
    };
  });
}

function age(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

const number = (value: number) => value.toLocaleString('en-US');

function pidLabel(view: BridgeView): string {
  return view.pidNamespace === 'other' ? `pid ${view.pid}, another pid namespace` : `pid ${view.pid}`;
}

export function bridgeLines(views: readonly BridgeView[], ringPath: string): string[] {
  if (views.length === 0) return [`no bridges on ${ringPath}`];
  const lines: string[] = [];
  for (const view of views) {
    const where = `${view.engine} ${view.url} ${view.engine === 'nats' ? 'stream' : 'key'} ${view.stream}`;
    const arrow = view.direction === 'export' ? `ring → ${where}` : `${where} → ring`;
    lines.push(`${view.name}: ${view.direction} ${arrow}`);
    lines.push(
      `  state ${view.state}${view.running ? ` (${pidLabel(view)}, updated ${age(view.statusAgeMs)} ago)` : ` (not running; last seen ${age(view.statusAgeMs)} ago)`}`,
    );
    lines.push(`  moved ${number(view.messages)} messages, ${number(view.bytes)} bytes; in flight ${number(view.inFlight)}; lag ${view.lag === null ? 'unknown' : number(view.lag)}`);
    lines.push(`  position: ring ${view.ringPosition ?? '-'}, engine ${view.enginePosition ?? '-'}`);
    lines.push(
      `  duplicates suppressed ${number(view.duplicatesSuppressed)}, loop skipped ${number(view.loopSkipped)}, lost by retention ${number(view.lostByRetention)}, resyncs ${number(view.resyncs)}, reconnects ${number(view.reconnects)}`,
    );
    if (view.lastError) lines.push(`  last error ${age(view.lastErrorAgeMs ?? 0)} ago: ${view.lastError.message}`);
  }
  return lines;
}
