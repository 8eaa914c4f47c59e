/**
 * Blocking send and receive on top of the non-blocking ring: spin briefly, then announce a
 * sleeper, check again, and sleep in the kernel until the other side wakes us or the deadline
 * passes. Pure: how to sleep is supplied by the caller (a futex in production).
 */
import { MEMBERS_WAITING_OFFSET, SENDERS_WAITING_OFFSET } from '../layout/ring-layout.js';
import type { Message, Ring, WakeTarget } from './ring.js';
import { SpinPolicy } from './spin-policy.js';

export interface Sleeper {
  /** Sleeps while the word at `wordOffset` holds `expected`, at most `timeoutMs`. May return early. */
  sleep(wordOffset: number, expected: number, timeoutMs: number): void;
  /** The same without blocking the event loop. */
  sleepAsync(wordOffset: number, expected: number, timeoutMs: number): Promise<void>;
  /** Wakes whoever sleeps on the word (used to cut an async sleep short on abort). */
  wakeAll(wordOffset: number): void;
  /**
   * The async sleep without a promise: calls `onWake` once, from the event loop, when the word
   * may have changed, `timeoutMs` passed, or wakeAll/close ended it. 'changed': the word no
   * longer holds `expected` (nothing registered, look again now); 'unavailable': this sleeper
   * cannot listen (use sleepAsync).
   */
  listen(wordOffset: number, expected: number, timeoutMs: number, onWake: () => void): 'listening' | 'changed' | 'unavailable';
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
 * What the owner of a ring (RingFile) adds to an async wait: a signal of its own that ends it
 * (close), checked like options.signal but with no listener per wait (the owner wakes the
 * sleeper itself when it aborts), and `done`, called once just before the wait's promise settles.
 */
export interface AsyncWaitHooks {
  readonly closing?: AbortSignal;
  readonly done?: () => void;
}

/**
 * The longest a wait keeps trying before it sleeps: long enough to ride out a peer on another CPU
 * that is mid-message, short enough not to hold a core a woken peer needs. Measured on 2 cores
 * (bench/one.mjs): a 50 µs spin doubled the sleeping ping-pong's round trip and bought no
 * throughput. Whether a wait tries at all is learned per ring and side (spin-policy.ts).
 * MMAPIPC_SPIN_MS overrides it, for experiments.
 */
const SPIN_MS = Number(process.env.MMAPIPC_SPIN_MS ?? 0.005);
/** Attempts between two looks at the clock while spinning. */
const SPIN_BATCH = 32;

/** Tries until `tryOnce` gives a result or `ms` is up (ms = 0: not at all). */
function spin<T>(ms: number, tryOnce: () => T | undefined): T | undefined {
  if (ms <= 0) return undefined;
  const until = performance.now() + ms;
  do {
    for (let i = 0; i < SPIN_BATCH; i++) {
      const result = tryOnce();
      if (result !== undefined) return result;
    }
  } while (performance.now() < until);
  return undefined;
}
/**
 * The longest an async wait yields to the event loop (trying between turns) before it sleeps.
 * Measured with `seq 1000000 | mmapipc send` into `mmapipc receive` on the default 100-slot ring:
 * the sender filled the ring and slept thousands of times, and the sleeps cost most of its CPU.
 * Learned like the spin (a yield on a CPU the peer needs delays the peer by as much).
 * MMAPIPC_ASYNC_YIELD_MS overrides it, for experiments.
 */
const ASYNC_YIELD_MS = Number(process.env.MMAPIPC_ASYNC_YIELD_MS ?? 0.2);
/** The longest single kernel sleep; waits are re-checked at least this often (a safety net, not polling). */
const MAX_SLEEP_MS = 1000;
/** The longest sleep while a claim is stuck on another process: recovery looks again this soon. */
const STUCK_SLEEP_MS = 50;

/** What each side of a ring has learned about trying before sleeping (blocking spins; async spins and yields). */
interface Policies {
  readonly spin: SpinPolicy;
  readonly yield: SpinPolicy;
}
const policies = new WeakMap<Ring, Record<WakeTarget, Policies>>();

function policiesOf(ring: Ring, side: WakeTarget): Policies {
  let both = policies.get(ring);
  if (both === undefined) {
    const make = (): Policies => ({ spin: new SpinPolicy(SPIN_MS), yield: new SpinPolicy(ASYNC_YIELD_MS) });
    both = { receivers: make(), senders: make() };
    policies.set(ring, both);
  }
  return both[side];
}

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
  // There already: no wait, and nothing learned (an answer found at the first look says
  // nothing about whether trying pays; counted, it kept a ping-pong spinning in vain).
  const already = tryOnce();
  if (already !== undefined) return already;
  const policy = policiesOf(ring, side).spin;
  const spun = spin(policy.next(), tryOnce);
  if (spun !== undefined) {
    policy.record(true);
    return spun;
  }
  const word = ringWaitWord(side);
  for (let slept = false; ; slept = true) {
    const stuck = recover?.() ?? false;
    const expected = ring.announceSleep(side);
    const result = tryOnce();
    if (result !== undefined) {
      policy.record(!slept);
      return result;
    }
    const remaining = deadline - performance.now();
    if (remaining <= 0) return undefined;
    sleeper.sleep(word, expected, Math.min(remaining, stuck ? STUCK_SLEEP_MS : MAX_SLEEP_MS));
  }
}

/** Yields to the event loop (one turn: setImmediate), then tries; undefined when `ms` ran out or the signal aborted. */
async function yieldFor<T>(ms: number, aborted: () => boolean, tryOnce: () => T | undefined): Promise<T | undefined> {
  const until = performance.now() + ms;
  while (performance.now() < until && !aborted()) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const result = tryOnce();
    if (result !== undefined) return result;
  }
  return undefined;
}

/**
 * The async wait: try (spin, then yield to the event loop) as the side's policies say, then
 * announce, check, and sleep on the bell until woken, the deadline, or an abort. `missed` is what
 * a wait that ends without a result returns, so callers need no await of their own.
 *
 * No async function and one promise per wait: a woken sleeper looks at the ring from the bell's
 * callback itself and settles the caller's promise directly, so the message reaches the caller
 * one microtask after the bell (docs/performance.md, "The woken round trip").
 */
function attemptAsync<T, M>(
  side: WakeTarget,
  ring: Ring,
  sleeper: Sleeper,
  options: WaitOptions,
  tryOnce: () => T | undefined,
  missed: M,
  recover?: Recover,
  hooks: AsyncWaitHooks = {},
): Promise<T | M> {
  const deadline = deadlineOf(options.timeoutMs);
  const { signal } = options;
  const { closing, done } = hooks;
  const aborted = (): boolean => (signal?.aborted ?? false) || (closing?.aborted ?? false);
  const { spin: spinPolicy, yield: yieldPolicy } = policiesOf(ring, side);
  let spinMs: number;
  try {
    // There already: no wait, and nothing learned (see attempt).
    const already = tryOnce();
    if (already !== undefined) {
      done?.();
      return Promise.resolve(already);
    }
    spinMs = spinPolicy.next();
    const spun = spin(spinMs, tryOnce);
    if (spun !== undefined) {
      spinPolicy.record(true);
      done?.();
      return Promise.resolve(spun);
    }
  } catch (error) {
    done?.();
    return Promise.reject(error);
  }
  if (spinMs > 0) spinPolicy.record(false);
  const yieldMs = Math.min(yieldPolicy.next(), Math.max(0, deadline - performance.now()));
  const sleep = (): Promise<T | M> =>
    new Promise<T | M>((resolve, reject) => {
      const word = ringWaitWord(side);
      const onAbort = () => sleeper.wakeAll(word);
      signal?.addEventListener('abort', onAbort);
      const settle = (): void => {
        signal?.removeEventListener('abort', onAbort);
        done?.();
      };
      let slept = false;
      const look = (): void => {
        try {
          for (;;) {
            if (aborted()) return void (settle(), resolve(missed));
            const stuck = recover?.() ?? false;
            const expected = ring.announceSleep(side);
            const result = tryOnce();
            if (result !== undefined) {
              // There without a sleep, though this wait did not try: the peer is busy, so trying pays.
              if (!slept && spinMs === 0) spinPolicy.record(true);
              if (!slept && yieldMs === 0) yieldPolicy.record(true);
              return void (settle(), resolve(result));
            }
            const remaining = deadline - performance.now();
            if (remaining <= 0) return void (settle(), resolve(missed));
            const ms = Math.min(remaining, stuck ? STUCK_SLEEP_MS : MAX_SLEEP_MS);
            slept = true;
            const how = sleeper.listen(word, expected, ms, look);
            if (how === 'listening') return;
            if (how === 'unavailable') {
              sleeper.sleepAsync(word, expected, ms).then(look, (error: unknown) => {
                settle();
                reject(error);
              });
              return;
            }
          }
        } catch (error) {
          settle();
          reject(error);
        }
      };
      look();
    });
  if (yieldMs <= 0) return sleep();
  return yieldFor(yieldMs, aborted, tryOnce).then(
    (yielded) => {
      yieldPolicy.record(yielded !== undefined);
      if (yielded === undefined) return sleep();
      done?.();
      return yielded;
    },
    (error: unknown) => {
      done?.();
      throw error;
    },
  );
}

function ringWaitWord(side: WakeTarget): number {
  return side === 'receivers' ? MEMBERS_WAITING_OFFSET : SENDERS_WAITING_OFFSET;
}

const SENT = true as const;
const sent = (ring: Ring, message: Buffer | Uint8Array | string) => () => (ring.trySend(message) ? SENT : undefined);

/** Sends, sleeping while the ring is full. Returns false when the timeout ran out first. */
export function sendBlocking(
  ring: Ring,
  sleeper: Sleeper,
  message: Buffer | Uint8Array | string,
  options: WaitOptions = {},
  recover?: Recover,
): boolean {
  return attempt('senders', ring, sleeper, deadlineOf(options.timeoutMs), sent(ring, message), recover) === SENT;
}

export function sendAsync(
  ring: Ring,
  sleeper: Sleeper,
  message: Buffer | Uint8Array | string,
  options: WaitOptions = {},
  recover?: Recover,
  hooks?: AsyncWaitHooks,
): Promise<boolean> {
  return attemptAsync('senders', ring, sleeper, options, sent(ring, message), false, recover, hooks);
}

/** Receives, sleeping while the ring is empty. Returns null when the timeout ran out first. */
export function receiveBlocking(ring: Ring, sleeper: Sleeper, options: WaitOptions = {}, recover?: Recover): Message | null {
  return attempt('receivers', ring, sleeper, deadlineOf(options.timeoutMs), () => ring.tryReceive() ?? undefined, recover) ?? null;
}

export function receiveAsync(ring: Ring, sleeper: Sleeper, options: WaitOptions = {}, recover?: Recover, hooks?: AsyncWaitHooks): Promise<Message | null> {
  return attemptAsync('receivers', ring, sleeper, options, () => ring.tryReceive() ?? undefined, null, recover, hooks);
}

/** Waits until at least one message is there, without taking it. False on timeout or abort. */
export function waitForMessage(ring: Ring, sleeper: Sleeper, options: WaitOptions = {}, recover?: Recover, hooks?: AsyncWaitHooks): Promise<boolean> {
  return attemptAsync('receivers', ring, sleeper, options, () => (ring.hasMessage ? SENT : undefined), false, recover, hooks);
}

/** Waits until there is room for at least one message. False on timeout or abort. */
export function waitForRoom(
  ring: Ring,
  sleeper: Sleeper,
  options: WaitOptions = {},
  recover?: Recover,
  length = 0,
  hooks?: AsyncWaitHooks,
): Promise<boolean> {
  return attemptAsync('senders', ring, sleeper, options, () => (ring.hasRoomFor(length) ? SENT : undefined), false, recover, hooks);
}
