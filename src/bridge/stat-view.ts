/** `mmapipc bridge stat`: every bridge of a ring, from its status file, as lines or JSON. */
import { processLiveness } from '../sys/process.js';
import type { BridgeStatus } from './files.js';

export interface BridgeView extends BridgeStatus {
  /** The bridge's process still runs (its state is current). */
  readonly running: boolean;
  /** Age of the status, and of the last error, in ms. */
  readonly statusAgeMs: number;
  readonly lastErrorAgeMs: number | null;
}

export function bridgeViews(statuses: readonly BridgeStatus[], now = Date.now()): BridgeView[] {
  return statuses.map((status) => {
    const running = status.state !== 'stopped' && processLiveness(status.pid, status.startTicks) === 'alive';
    return {
      ...status,
      running,
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

export function bridgeLines(views: readonly BridgeView[], ringPath: string): string[] {
  if (views.length === 0) return [`no bridges on ${ringPath}`];
  const lines: string[] = [];
  for (const view of views) {
    const where = `${view.engine} ${view.url} ${view.engine === 'nats' ? 'stream' : 'key'} ${view.stream}`;
    const arrow = view.direction === 'export' ? `ring → ${where}` : `${where} → ring`;
    lines.push(`${view.name}: ${view.direction} ${arrow}`);
    lines.push(`  state ${view.state}${view.running ? ` (pid ${view.pid}, updated ${age(view.statusAgeMs)} ago)` : ` (not running; last seen ${age(view.statusAgeMs)} ago)`}`);
    lines.push(`  moved ${number(view.messages)} messages, ${number(view.bytes)} bytes; in flight ${number(view.inFlight)}; lag ${view.lag === null ? 'unknown' : number(view.lag)}`);
    lines.push(`  position: ring ${view.ringPosition ?? '-'}, engine ${view.enginePosition ?? '-'}`);
    lines.push(
      `  duplicates suppressed ${number(view.duplicatesSuppressed)}, loop skipped ${number(view.loopSkipped)}, lost by retention ${number(view.lostByRetention)}, resyncs ${number(view.resyncs)}, reconnects ${number(view.reconnects)}`,
    );
    if (view.lastError) lines.push(`  last error ${age(view.lastErrorAgeMs ?? 0)} ago: ${view.lastError.message}`);
  }
  return lines;
}
