/**
 * Blocking send and receive on top of the non-blocking ring: spin briefly, then announce a
 * sleeper, check again, and sleep in the kernel until the other side wakes us or the deadline
 * passes. Pure: how to sleep is supplied by the caller (a futex in production).
 */
import { MEMBERS_WAITING_OFFSET, SENDERS_WAITING_OFFSET } from '../layout/ring-layout.js';
import type { Message, Ring, WakeTarget } from './ring.js';

export interface Sleeper {
  /** Sleeps while the word at `wordOffset` holds `expected`, at most `timeoutMs`. May return early. */
  sleep(wordOffset: number, expected: number, timeoutMs: number): void;
  /** The same without blocking the event loop. */
  sleepAsync(wordOffset: number, expected: number, timeoutMs: number): Promise<void>;
  /** Wakes whoever sleeps on the word (used to cut an async sleep short on abort). */
  wakeAll(wordOffset: number): void;
}

/**
 * Called by a waiting process before it sleeps: resolves claims of dead processes (recovery.ts).
 * Returns true when something is stuck on another process, so the next look should come soon.
 */
export type Recover = () => boolean;

export interface WaitOptions {
  /** Give up after this many milliseconds (default: wait forever). */
  readonly timeoutMs?: number;
  /** Async waits only: stop waiting when this signal aborts. */
  readonly signal?: AbortSignal;
}

/**
 * How long to keep trying before sleeping: long enough to ride out a peer that is mid-message,
 * short enough not to hold a core a woken peer needs. Measured on 2 cores (bench/one.mjs): a
 * 50 µs spin doubled the sleeping ping-pong's round trip (206 µs against 93-117 µs at 0-10 µs)
 * and bought no throughput. MMAPIPC_SPIN_MS overrides it, for experiments.
 */
const SPIN_MS = Number(process.env.MMAPIPC_SPIN_MS ?? 0.005);
/** Attempts between two looks at the clock while spinning. */
const SPIN_BATCH = 32;

/** Tries until `tryOnce` gives a result or the spin time is up. */
function spin<T>(tryOnce: () => T | undefined): T | undefined {
  const until = performance.now() + SPIN_MS;
  do {
    for (let i = 0; i < SPIN_BATCH; i++) {
      const result = tryOnce();
      if (result !== undefined) return result;
    }
  } while (performance.now() < until);
  return undefined;
}
/**
 * How long an async wait keeps yielding to the event loop before it sleeps. Measured with
 * `seq 1000000 | mmapipc send` into `mmapipc receive` on the default 100-slot ring: the sender
 * filled the ring and slept thousands of times, and the sleeps cost most of its CPU.
 * MMAPIPC_ASYNC_YIELD_MS overrides it, for experiments.
 */
const ASYNC_YIELD_MS = Number(process.env.MMAPIPC_ASYNC_YIELD_MS ?? 0.2);
/** The longest single kernel sleep; waits are re-checked at least this often (a safety net, not polling). */
const MAX_SLEEP_MS = 1000;
/** The longest sleep while a claim is stuck on another process: recovery looks again this soon. */
const STUCK_SLEEP_MS = 50;

function deadlineOf(timeoutMs: number | undefined): number {
  return timeoutMs === undefined || timeoutMs === Infinity ? Infinity : performance.now() + Math.max(0, timeoutMs);
}

function attempt<T>(
  side: WakeTarget,
  ring: Ring,
  sleeper: Sleeper,
  deadline: number,
  tryOnce: () => T | undefined,
  recover?: Recover,
): T | undefined {
  const spun = spin(tryOnce);
  if (spun !== undefined) return spun;
  const word = ringWaitWord(side);
  for (;;) {
    const stuck = recover?.() ?? false;
    const expected = ring.announceSleep(side);
    const result = tryOnce();
    if (result !== undefined) return result;
    const remaining = deadline - performance.now();
    if (remaining <= 0) return undefined;
    sleeper.sleep(word, expected, Math.min(remaining, stuck ? STUCK_SLEEP_MS : MAX_SLEEP_MS));
  }
}

async function attemptAsync<T>(
  side: WakeTarget,
  ring: Ring,
  sleeper: Sleeper,
  options: WaitOptions,
  tryOnce: () => T | undefined,
  recover?: Recover,
): Promise<T | undefined> {
  const deadline = deadlineOf(options.timeoutMs);
  const { signal } = options;
  const spun = spin(tryOnce);
  if (spun !== undefined) return spun;
  // Before an async sleep (a thread hand-off through FFI, tens of µs each way), yield to the
  // event loop for a short while: a busy peer on the other core usually answers within it.
  const yieldUntil = performance.now() + Math.min(ASYNC_YIELD_MS, Math.max(0, deadline - performance.now()));
  while (performance.now() < yieldUntil && !signal?.aborted) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const result = tryOnce();
    if (result !== undefined) return result;
  }
  const word = ringWaitWord(side);
  const onAbort = () => sleeper.wakeAll(word);
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (signal?.aborted) return undefined;
      const stuck = recover?.() ?? false;
      const expected = ring.announceSleep(side);
      const result = tryOnce();
      if (result !== undefined) return result;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return undefined;
      await sleeper.sleepAsync(word, expected, Math.min(remaining, stuck ? STUCK_SLEEP_MS : MAX_SLEEP_MS));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

function ringWaitWord(side: WakeTarget): number {
  return side === 'receivers' ? MEMBERS_WAITING_OFFSET : SENDERS_WAITING_OFFSET;
}

const SENT = true as const;

/** Sends, sleeping while the ring is full. Returns false when the timeout ran out first. */
export function sendBlocking(
  ring: Ring,
  sleeper: Sleeper,
  message: Buffer | Uint8Array | string,
  options: WaitOptions = {},
  recover?: Recover,
): boolean {
  return attempt('senders', ring, sleeper, deadlineOf(options.timeoutMs), () => (ring.trySend(message) ? SENT : undefined), recover) === SENT;
}

export async function sendAsync(
  ring: Ring,
  sleeper: Sleeper,
  message: Buffer | Uint8Array | string,
  options: WaitOptions = {},
  recover?: Recover,
): Promise<boolean> {
  return (await attemptAsync('senders', ring, sleeper, options, () => (ring.trySend(message) ? SENT : undefined), recover)) === SENT;
}

/** Receives, sleeping while the ring is empty. Returns null when the timeout ran out first. */
export function receiveBlocking(ring: Ring, sleeper: Sleeper, options: WaitOptions = {}, recover?: Recover): Message | null {
  return attempt('receivers', ring, sleeper, deadlineOf(options.timeoutMs), () => ring.tryReceive() ?? undefined, recover) ?? null;
}

export async function receiveAsync(ring: Ring, sleeper: Sleeper, options: WaitOptions = {}, recover?: Recover): Promise<Message | null> {
  return (await attemptAsync('receivers', ring, sleeper, options, () => ring.tryReceive() ?? undefined, recover)) ?? null;
}

/** Waits until at least one message is there, without taking it. False on timeout or abort. */
export async function waitForMessage(ring: Ring, sleeper: Sleeper, options: WaitOptions = {}, recover?: Recover): Promise<boolean> {
  return (await attemptAsync('receivers', ring, sleeper, options, () => (ring.hasMessage ? SENT : undefined), recover)) === SENT;
}

/** Waits until there is room for at least one message. False on timeout or abort. */
export async function waitForRoom(ring: Ring, sleeper: Sleeper, options: WaitOptions = {}, recover?: Recover, length = 0): Promise<boolean> {
  return (await attemptAsync('senders', ring, sleeper, options, () => (ring.hasRoomFor(length) ? SENT : undefined), recover)) === SENT;
}
