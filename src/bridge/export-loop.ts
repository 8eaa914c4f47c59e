/**
 * Ring -> engine, whatever the engine. The protocol in one sentence: a batch is held in the
 * ring (claimed, not freed), stored by the engine, and only then freed; after any failure or
 * restart the engine says which ring sequence it holds last, and held messages up to it are
 * freed without being sent again. So nothing is lost (a slot outlives every failure until the
 * engine has its message) and nothing is duplicated (what the engine has is never sent twice),
 * in ring order.
 */
import type { RingFile } from '../ring-file/ring-file.js';
import type { Message } from '../ring/ring.js';
import { originStreamName, viaOf, type Engine } from './origin.js';
import { Backoff, DrainTimeout, RetryableError, drainable, pause, untilAnswered, type BridgeRuntime } from './runtime.js';

/** A ring message on its way out: its payload, and where it came from. */
export interface Outgoing {
  readonly sequence: number;
  readonly pid: number;
  readonly sentAt: number;
  readonly data: Buffer;
  /** For a message this ring had imported: engine:stream:position. */
  readonly via: string | undefined;
}

/** The engine side of an export (nats-export.ts, redis-export.ts). */
export interface ExportSink {
  /**
   * The last ring sequence of this ring's current incarnation that the engine holds, or -1.
   * Throws RetryableError while the engine cannot say.
   */
  resync(): Promise<number>;
  /**
   * Stores `messages` in order; resolves once the engine has acknowledged every one. Throws
   * RetryableError when it may have stored only some (the loop then resyncs and retries).
   */
  store(messages: readonly Outgoing[]): Promise<void>;
  close(): Promise<void>;
}

export interface ExportLoopOptions {
  readonly batch: number;
  readonly maxInflight: number;
  readonly lingerMs: number;
  readonly once: boolean;
  readonly drainTimeoutMs: number;
  /** Log every resync (else they are counted only). */
  readonly verbose: boolean;
  /** Where the export writes: a message imported from there is not sent back (no loop). */
  readonly target: { readonly engine: Engine; readonly stream: string };
  readonly signal: AbortSignal;
  /** Called once the engine has said what it holds, before the first message is taken: the start is over. */
  readonly onConnected?: () => void;
}

export async function runExport(ring: RingFile, sink: ExportSink, runtime: BridgeRuntime, options: ExportLoopOptions): Promise<'drained' | 'once' | 'drain-timeout'> {
  const { signal } = options;
  /** Waits between failed stores (reset only by a store that succeeds), and between failed resyncs. */
  const backoff = new Backoff();
  const resyncBackoff = new Backoff();
  const known = await untilAnswered(() => sink.resync(), runtime, resyncBackoff, signal);
  if (known === undefined) return 'drained';
  let stored = known;
  runtime.counters.ringPosition = stored < 0 ? null : stored;
  options.onConnected?.();
  runtime.setState('connected');
  const max = options.batch * options.maxInflight;
  while (!signal.aborted) {
    const held = ring.hold(max);
    if (held === null) {
      runtime.counters.lag = ring.occupancy;
      runtime.touch();
      if (options.once) return 'once';
      if (await ring.waitForMessage({ signal, timeoutMs: 1000 })) {
        if (options.lingerMs > 0 && ring.occupancy < max) await pause(options.lingerMs, signal);
      }
      continue;
    }
    runtime.counters.inFlight = held.messages.length;
    let pending: readonly Message[] = held.messages;
    let carried: Outgoing[] = [];
    for (;;) {
      const fresh = pending.filter((message) => message.sequence > stored);
      runtime.counters.duplicatesSuppressed += pending.length - fresh.length;
      const { outgoing, skipped } = outgoingOf(fresh, options.target);
      try {
        if (outgoing.length > 0) await drainable(sink.store(outgoing), signal, options.drainTimeoutMs);
        carried = outgoing;
        runtime.counters.loopSkipped += skipped;
        backoff.reset();
        break;
      } catch (error) {
        if (error instanceof DrainTimeout) return 'drain-timeout'; // held stays unfreed: recovery hands it on
        if (!(error instanceof RetryableError)) throw error;
        runtime.noteError(error);
        runtime.setState(error.kind === 'full' ? 'blocked-stream-full' : error.kind === 'disconnected' ? 'reconnecting' : 'connected');
        if (signal.aborted) return 'drained'; // the engine is down and we are asked to stop: leave the batch held
        await backoff.wait(signal);
        const answer = await untilAnswered(() => sink.resync(), runtime, resyncBackoff, signal);
        if (answer === undefined) return 'drained';
        stored = answer;
        runtime.counters.resyncs++;
        if (options.verbose) runtime.event('resync', { stored });
        pending = fresh;
      }
    }
    held.ack();
    const last = held.messages[held.messages.length - 1]!;
    stored = Math.max(stored, last.sequence);
    runtime.setState('connected');
    runtime.counters.inFlight = 0;
    runtime.counters.ringPosition = stored;
    runtime.counters.lag = ring.occupancy;
    const bytes = carried.reduce((sum, message) => sum + message.data.length, 0);
    runtime.committed(carried.length, bytes, { ringSequence: stored });
  }
  return 'drained';
}

/** Drops what an import brought from the export's own target (the other half of a loop). */
function outgoingOf(messages: readonly Message[], target: ExportLoopOptions['target']): { outgoing: Outgoing[]; skipped: number } {
  const outgoing: Outgoing[] = [];
  let skipped = 0;
  let ownName: string | undefined; // the target's name as an origin shows it (a long one abbreviated)
  for (const message of messages) {
    const origin = message.origin;
    if (origin && origin.engine === target.engine && origin.stream === (ownName ??= originStreamName(target.stream))) {
      skipped++;
      continue;
    }
    outgoing.push({ sequence: message.sequence, pid: message.pid, sentAt: message.sentAt, data: message.data, via: origin ? viaOf(origin) : undefined });
  }
  return { outgoing, skipped };
}
