/**
 * What every bridge has, whatever its direction and engine: counters, the state `bridge stat`
 * shows (written to the status file at most STATUS_INTERVAL_MS apart), log lines (human lines
 * on stderr, or with --json one JSON object per line on stdout), and the waits between retries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { getpid } from '../sys/libc.js';
import { pidNamespaceId, processStartTicks } from '../sys/process.js';
import { writeStatus, type BridgeState, type BridgeStatus } from './files.js';
import type { Engine } from './origin.js';

/** The status file is rewritten at most this often (and at every change of state). */
export const STATUS_INTERVAL_MS = 250;
/** States that alternate with every batch are logged at most this often. */
const FLAP_LOG_MS = 1000;
/** The same error, repeated by retries, is logged at most this often. */
const REPEAT_ERROR_LOG_MS = 5000;

/**
 * A failure the bridge rides out: it waits, learns again what the engine holds, and retries.
 * `kind` decides the state shown meanwhile.
 */
export class RetryableError extends Error {
  override name = 'RetryableError';
  readonly kind: 'disconnected' | 'full' | 'conflict';

  constructor(kind: 'disconnected' | 'full' | 'conflict', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

export interface LogSink {
  /** A human line (stderr). */
  readonly line: (text: string) => void;
  /** A JSON line (stdout). */
  readonly json: (text: string) => void;
}

export interface RuntimeOptions {
  readonly name: string;
  readonly direction: 'export' | 'import';
  readonly engine: Engine;
  readonly url: string;
  readonly stream: string;
  readonly ringPath: string;
  readonly json: boolean;
  /** A log line per committed batch. */
  readonly verbose: boolean;
  readonly log: LogSink;
  /** False for dry runs: nothing is written next to the ring. */
  readonly writeStatus: boolean;
}

type Counters = {
  messages: number;
  bytes: number;
  duplicatesSuppressed: number;
  loopSkipped: number;
  lostByRetention: number;
  resyncs: number;
  reconnects: number;
  inFlight: number;
  ringPosition: number | null;
  enginePosition: string | null;
  lag: number | null;
};

export class BridgeRuntime {
  readonly options: RuntimeOptions;
  readonly counters: Counters = {
    messages: 0,
    bytes: 0,
    duplicatesSuppressed: 0,
    loopSkipped: 0,
    lostByRetention: 0,
    resyncs: 0,
    reconnects: 0,
    inFlight: 0,
    ringPosition: null,
    enginePosition: null,
    lag: null,
  };
  #state: BridgeState = 'starting';
  #lastError: { message: string; at: string } | null = null;
  readonly #startedAt = new Date().toISOString();
  readonly #pid = getpid();
  readonly #startTicks = processStartTicks(getpid()) ?? 0;
  #timer: NodeJS.Timeout | undefined;
  #dirty = true;
  /** The id of the ring the status belongs to; nothing is written before it is known. */
  #ringId: string | undefined;

  constructor(options: RuntimeOptions) {
    this.options = options;
  }

  get state(): BridgeState {
    return this.#state;
  }

  /** Binds the status to the ring whose id this is (a status is written only once bound). */
  bindRing(id: string): void {
    this.#ringId = id;
  }

  /** Starts the periodic status writes. */
  start(): void {
    this.flush();
    this.#timer = setInterval(() => {
      if (this.#dirty) this.flush();
    }, STATUS_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(reason: string, options: { log: boolean } = { log: true }): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#state = 'stopped';
    if (options.log) this.event('stopped', { reason, ...this.totals() });
    this.flush();
  }

  /** Counters changed: the next periodic write carries them. */
  touch(): void {
    this.#dirty = true;
  }

  setState(state: BridgeState, fields: Record<string, unknown> = {}): void {
    if (state === this.#state) return;
    this.#state = state;
    // A ring that is the bottleneck flips between these two at every batch: log that at most once a second.
    const flapping = state === 'connected' || state === 'blocked-ring-full';
    const now = performance.now();
    if (!flapping || (this.#loggedStates.get(state) ?? -Infinity) + FLAP_LOG_MS <= now) {
      this.#loggedStates.set(state, now);
      this.event('state', { state, ...fields });
    }
    this.flush();
  }

  readonly #loggedStates = new Map<BridgeState, number>();

  /** Records a failure the bridge rides out (shown by `bridge stat` as the last error). */
  noteError(error: unknown, options: { log: boolean } = { log: true }): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#lastError = { message, at: new Date().toISOString() };
    // A failure ridden out with retries repeats: log it again only after a while.
    const now = performance.now();
    if (options.log && (message !== this.#loggedError || now - this.#loggedErrorAt >= REPEAT_ERROR_LOG_MS)) {
      this.#loggedError = message;
      this.#loggedErrorAt = now;
      this.event('error', { message });
    }
    this.touch();
  }

  #loggedError = '';
  #loggedErrorAt = -Infinity;

  /** One log line: `event` and its fields. */
  event(event: string, fields: Record<string, unknown> = {}): void {
    const { log, json, name } = this.options;
    if (json) {
      log.json(JSON.stringify({ time: new Date().toISOString(), bridge: name, event, ...fields }));
      return;
    }
    const details = Object.entries(fields)
      .map(([key, value]) => `${key}=${logfmtValue(value)}`)
      .join(' ');
    log.line(`mmapipc bridge ${name}: ${event}${details ? ` ${details}` : ''}`);
  }

  /** A batch crossed: counted, and logged with --verbose. */
  committed(messages: number, bytes: number, fields: Record<string, unknown>): void {
    this.counters.messages += messages;
    this.counters.bytes += bytes;
    if (this.options.verbose) this.event('commit', { messages, ...fields });
    this.touch();
  }

  status(): BridgeStatus {
    const { name, direction, engine, url, stream, ringPath } = this.options;
    return {
      ringId: this.#ringId ?? null,
      name,
      direction,
      engine,
      url,
      stream,
      ring: ringPath,
      pid: this.#pid,
      startTicks: this.#startTicks,
      pidNamespace: String(pidNamespaceId()),
      startedAt: this.#startedAt,
      updatedAt: new Date().toISOString(),
      state: this.#state,
      ...this.counters,
      lastError: this.#lastError,
    };
  }

  flush(): void {
    this.#dirty = false;
    if (!this.options.writeStatus || this.#ringId === undefined) return;
    try {
      writeStatus(this.options.ringPath, this.status());
    } catch (error) {
      // The status is for display; a full disk must not stop the messages.
      this.#lastError = { message: `cannot write the status file: ${(error as Error).message}`, at: new Date().toISOString() };
    }
  }

  /** Totals for the last log line. */
  totals(): Record<string, unknown> {
    const { messages, bytes, duplicatesSuppressed, loopSkipped, lostByRetention, resyncs, reconnects } = this.counters;
    return { messages, bytes, duplicatesSuppressed, loopSkipped, lostByRetention, resyncs, reconnects };
  }
}

/**
 * A log value as logfmt writes it: bare when it is a plain word, else in double quotes with
 * JSON escapes (spaces, `=`, quotes, backslashes, control characters, or nothing at all).
 */
export function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text === '' || /[\s="\\\x00-\x1f\x7f]/.test(text) ? JSON.stringify(text) : text;
}

/** Waits `ms`, or less if `signal` aborts. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted
  }
}

/** Doubling waits between retries, from 50 ms up to 2 s; reset() after a success. */
export class Backoff {
  #next = 50;

  async wait(signal: AbortSignal): Promise<void> {
    const ms = this.#next;
    this.#next = Math.min(this.#next * 2, 2000);
    await pause(ms, signal);
  }

  reset(): void {
    this.#next = 50;
  }
}

/** Calls `ask` until it answers; undefined when aborted first. */
export async function untilAnswered<T>(ask: () => Promise<T>, runtime: BridgeRuntime, backoff: Backoff, signal: AbortSignal): Promise<T | undefined> {
  for (;;) {
    try {
      const answer = await ask();
      backoff.reset();
      return answer;
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      runtime.noteError(error);
      runtime.setState(error.kind === 'full' ? 'blocked-stream-full' : 'reconnecting');
      if (signal.aborted) return undefined;
      await backoff.wait(signal);
      if (signal.aborted) return undefined;
    }
  }
}

export class DrainTimeout extends Error {
  override name = 'DrainTimeout';
}

/** `work`, but once `signal` aborts, given only `drainMs` more to finish. */
export async function drainable<T>(work: Promise<T>, signal: AbortSignal, drainMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const arm = () => {
      timer = setTimeout(() => reject(new DrainTimeout(`in-flight work did not finish within ${drainMs} ms`)), drainMs);
    };
    if (signal.aborted) arm();
    else signal.addEventListener('abort', (onAbort = arm), { once: true });
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    work.catch(() => {}); // settled later, if the deadline won
  }
}
