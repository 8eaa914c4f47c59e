/** What a running bridge talks to (its log, stdout, the stop signal) and how a run ends. */
import type { LogSink } from './runtime.js';

export interface BridgeIo {
  readonly log: LogSink;
  /** The plan of a dry run (stdout). */
  readonly print: (text: string) => void;
  readonly signal: AbortSignal;
}

/** How the run ended: 'once' (all moved), 'drained' (stopped by a signal, in-flight work done), 'drain-timeout'. */
export type BridgeEnd = 'once' | 'drained' | 'drain-timeout' | 'dry-run';
