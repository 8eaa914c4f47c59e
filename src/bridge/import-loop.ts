/**
 * Engine -> ring, whatever the engine. The protocol in one sentence: read a batch after the
 * cursor, commit it into the ring (waiting while the ring is full: back-pressure, never a drop),
 * and only then move the cursor, durably; so a crash between the two delivers that one commit
 * again, and each message carries its origin (stream and position) for a receiver to drop the
 * repeat. Messages the engine removed before they were read are counted and reported.
 */
import { BridgeMessageTooLargeError } from '../errors.js';
import type { RingFile } from '../ring-file/ring-file.js';
import { writeCursor, type Cursor } from './files.js';
import { KIND_IMPORTED, ORIGIN_EXTENSION_LENGTH, OriginWriter, type Engine } from './origin.js';
import { Backoff, untilAnswered, type BridgeRuntime } from './runtime.js';

export interface Incoming {
  /** NATS: the stream sequence in decimal; Redis: the entry ID. */
  readonly position: string;
  readonly data: Uint8Array;
  /** The Mmapipc-Ring of a message an export put there (to stop loops), if any. */
  readonly fromRing: string | undefined;
  /** Redis: entries ever added up to this one, when known. */
  readonly ordinal?: number;
}

export interface IncomingBatch {
  readonly messages: readonly Incoming[];
  /** Messages removed by the engine before they could be read, found while reading this batch. */
  readonly lost: number;
  /** The engine position after this batch (may move past removed messages even with none read). */
  readonly position: string;
  /** Redis: entries ever added up to `position`, when known. */
  readonly ordinal?: number;
  /** Messages still waiting in the engine after this batch, when known. */
  readonly lag: number | null;
}

/** The engine side of an import (nats-import.ts, redis-import.ts). */
export interface ImportSource {
  /**
   * Up to `max` messages after the position (waiting up to `waitMs` for the first); none on
   * timeout. Throws RetryableError while the engine is unreachable.
   */
  next(max: number, waitMs: number): Promise<IncomingBatch>;
  /** For --once: true when every message that was there at the start has been read. */
  caughtUp(): boolean;
  close(): Promise<void>;
}

export interface ImportLoopOptions {
  readonly name: string;
  readonly ringPath: string;
  readonly engine: Engine;
  readonly stream: string;
  readonly batch: number;
  readonly once: boolean;
  /** Give each message its origin, in its extension (default; --no-origin sends plain messages). */
  readonly origin: boolean;
  /** msync the ring, then fsync the cursor, at each commit (a disk ring that must survive an OS crash). */
  readonly sync: boolean;
  readonly drainTimeoutMs: number;
  /** This ring's identity: messages an export of this very ring put in the engine are not brought back. */
  readonly ringIdentity: string;
  readonly signal: AbortSignal;
}

const WAIT_SLICE_MS = 1000;

export async function runImport(
  ring: RingFile,
  source: ImportSource,
  cursor: Cursor,
  runtime: BridgeRuntime,
  options: ImportLoopOptions,
): Promise<'drained' | 'once' | 'drain-timeout'> {
  const { signal } = options;
  const backoff = new Backoff();
  const largest = ring.maxMessageLength;
  const origins = options.origin ? new OriginWriter(options.engine, options.stream) : undefined;
  const lostBefore = cursor.lost;
  /** Moves the cursor to `position`, durably; called only after the ring commit it describes. */
  const save = (position: string, ordinal: number | undefined): Cursor => {
    if (options.sync) ring.flush();
    const next: Cursor = { ...cursor, position, ordinal: ordinal ?? cursor.ordinal, lost: lostBefore + runtime.counters.lostByRetention, updatedAt: new Date().toISOString() };
    writeCursor(options.ringPath, next, options.sync);
    runtime.counters.enginePosition = position;
    runtime.touch();
    return next;
  };
  runtime.counters.enginePosition = cursor.position;
  runtime.setState('connected');
  while (!signal.aborted) {
    if (options.once && source.caughtUp()) return 'once';
    const room = ring.capacity - ring.occupancy;
    if (room <= 0) {
      runtime.setState('blocked-ring-full');
      await ring.waitForRoom({ signal, timeoutMs: WAIT_SLICE_MS });
      continue;
    }
    const batch = await untilAnswered(() => source.next(Math.min(options.batch, room), WAIT_SLICE_MS), runtime, backoff, signal);
    if (batch === undefined) break;
    runtime.setState('connected');
    runtime.counters.lag = batch.lag;
    if (batch.lost > 0) {
      runtime.counters.lostByRetention += batch.lost;
      runtime.event('lost', { count: batch.lost, before: batch.position, total: runtime.counters.lostByRetention });
    }
    const { incoming, bytes, skipped, oversize } = admitted(batch.messages, options, largest);
    runtime.counters.loopSkipped += skipped;
    const sent = await sendAll(ring, incoming, origins, runtime, options);
    if (sent < incoming.length) {
      // Stopped at the drain deadline with part of the batch in the ring: the cursor says exactly that much.
      const last = sent > 0 ? incoming[sent - 1] : undefined;
      if (last !== undefined) cursor = save(last.position, last.ordinal);
      return 'drain-timeout';
    }
    // Everything before an oversize message is in the ring; the cursor stops before it.
    const last = oversize === undefined ? batch : oversize > 0 ? batch.messages[oversize - 1]! : undefined;
    if (last !== undefined && (last.position !== cursor.position || batch.lost > 0)) cursor = save(last.position, last.ordinal);
    if (sent > 0) {
      runtime.counters.ringPosition = ring.ring.lastSentSequence;
      runtime.committed(sent, bytes, { enginePosition: cursor.position, ringSequence: runtime.counters.ringPosition });
    }
    if (oversize !== undefined) {
      const message = batch.messages[oversize]!;
      throw new BridgeMessageTooLargeError(
        `${options.engine === 'nats' ? 'stream' : 'key'} '${options.stream}' message ${message.position} takes ${message.data.length} bytes, more than the ${largest} bytes this ring takes: create the ring with more room (--size) (the cursor stays before it)`,
        { subject: options.ringPath },
      );
    }
  }
  return 'drained';
}

/** The messages to commit (those an export of this very ring put there are skipped), up to the first too large for the ring. */
function admitted(messages: readonly Incoming[], options: ImportLoopOptions, largest: number) {
  const incoming: Incoming[] = [];
  let bytes = 0;
  let skipped = 0;
  let oversize: number | undefined;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (message.fromRing === options.ringIdentity) {
      skipped++; // an export of this very ring put it there: bringing it back would loop
      continue;
    }
    // The origin takes none of the payload's room: it goes in the extension every ring keeps room for.
    if (message.data.length > largest) {
      oversize = i;
      break;
    }
    incoming.push(message);
    bytes += message.data.length;
  }
  return { incoming, bytes, skipped, oversize };
}

/**
 * Commits `incoming` into the ring, each with its origin (kind 3) unless --no-origin, waiting
 * while it is full; returns how many (all unless the drain timed out). One claim per message.
 */
async function sendAll(ring: RingFile, incoming: Incoming[], origins: OriginWriter | undefined, runtime: BridgeRuntime, options: ImportLoopOptions): Promise<number> {
  const sender = ring.ring;
  const trySendFrom = (start: number): number => {
    let next = start;
    if (origins) {
      while (next < incoming.length) {
        const message = incoming[next]!;
        if (!sender.trySendRecord(KIND_IMPORTED, origins.at(message.position), message.data)) break;
        next++;
      }
    } else {
      while (next < incoming.length && sender.trySend(incoming[next]!.data)) next++;
    }
    return next;
  };
  let sent = trySendFrom(0);
  let drainDeadline = Infinity;
  while (sent < incoming.length) {
    runtime.setState('blocked-ring-full');
    if (options.signal.aborted && drainDeadline === Infinity) drainDeadline = performance.now() + options.drainTimeoutMs;
    const remaining = drainDeadline - performance.now();
    if (remaining <= 0) return sent;
    // Not cut short by the signal: a batch begun is finished (or given up at the drain deadline).
    // Room for the next message as it goes in (with its origin), not just one slot: no spinning on a ring almost full.
    const length = incoming[sent]!.data.length + (origins ? ORIGIN_EXTENSION_LENGTH : 0);
    await ring.waitForRoom({ timeoutMs: Math.min(WAIT_SLICE_MS, remaining), length });
    sent = trySendFrom(sent);
  }
  if (incoming.length > 0) {
    sender.touch();
    runtime.setState('connected');
  }
  return sent;
}
