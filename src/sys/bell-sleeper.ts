/**
 * The ring's Sleeper: every sleep is on the ring file's bell where it can be (no ffi-rs call to
 * sleep or to wake): blocking sleeps read an inotify instance of their thread
 * (blocking-bell.ts), async sleeps watch the file in the event loop (ring-bell.ts). Blocking
 * sleeps fall back to a futex (one lean ffi-rs call each way) until the bell's alarm thread runs
 * or where the bell cannot be had; async ones to a futex in a thread. Counters beside
 * the waiting word (wake-words.ts) tell a waker which of the two it must do, so a waker whose
 * peers only wait one way pays for that way alone. The protocol, for other implementations, is
 * docs/format.md §8; the measurements that chose it are in docs/performance.md.
 *
 * No lost wake-up: a sleeper registers (adds to its counter, and for the bell is already
 * watching) before it reads the waiting word, and a waker reads the counters only after swapping
 * the waiting word to 0. So either the waker sees the sleeper's count, or the sleeper sees the 0
 * (or a 1 stored since by another sleeper that checked the ring after this waker's commit).
 */
import type { Sleeper } from '../ring/blocking.js';
import { futexWaitAt, futexWaitAtAsync, futexWakeAt } from './lean-futex.js';
import type { Mapping } from './libc.js';
import { BlockingBell } from './blocking-bell.js';
import { DeadlineTimer } from './deadline-timer.js';
import { faultHook } from './fault-hook.js';
import { RingBell } from './ring-bell.js';
import { BELL_BYTE_DELTA, BELL_LISTENERS_DELTA, FUTEX_SLEEPERS_DELTA } from './wake-words.js';

export interface RingSleeper extends Sleeper {
  /** How the next blocking sleep waits: on the futex, or on the bell (once set up and its alarm runs). */
  readonly blockingWay: 'futex' | 'bell';
  /** Wakes every sleeper on the waiting word at `wordOffset`, in every process (after the ring swapped it to 0). */
  wake(wordOffset: number): void;
  /** Ends every async wait of this handle now (each looks at the ring and its signals again). */
  interrupt(): void;
  /** Stops watching the bell; ends this process's async waits at once. */
  close(): void;
}

/**
 * Blocking sleeps of a ring on the futex before its blocking bell is set up. The bell needs a
 * thread of its own per JavaScript thread (its alarm: ~25 ms of CPU to start and ~11 MB), which
 * pays for itself only in a process that sleeps often (a service answering requests), not in
 * one that blocks once or twice.
 */
export const BELL_AFTER_SLEEPS = 16;

const WORD_SHIFT = 2;

interface Listener {
  readonly wordOffset: number;
  /** performance.now() by which the wait ends anyway. */
  readonly deadline: number;
  readonly finish: () => void;
}

class BellSleeper implements RingSleeper {
  readonly #words: Int32Array;
  /** Address of the mapping, for futex calls. */
  readonly #base: number;
  readonly #bell: RingBell;
  readonly #fd: number;
  /** The blocking bell of this ring: undefined until BELL_AFTER_SLEEPS blocking sleeps, null where it cannot be had. */
  #blocking: BlockingBell | null | undefined;
  #blockingSleeps = 0;
  /** MMAPIPC_FAULT's hook: 'sleep-checked' stops a bell sleeper between its check and its wait. */
  readonly #fault = faultHook();
  /** This process's async waits on the bell; each holds one count in its word's bell listeners. */
  readonly #listeners = new Set<Listener>();
  /** Async waits on a futex in an ffi-rs thread (where the bell cannot be watched), per waiting word. */
  readonly #threadWaits = new Map<number, number>();
  readonly #onRing = (): void => this.#finishAll();
  /** One timer for all of this process's async waits on this ring (deadline-timer.ts). */
  readonly #timer = new DeadlineTimer<Listener>(() => this.#listeners, (listener) => listener.finish());

  constructor(mapping: Mapping, fd: number) {
    const { buffer } = mapping;
    this.#words = new Int32Array(buffer.buffer, buffer.byteOffset, buffer.length >> WORD_SHIFT);
    this.#base = Number(mapping.address);
    this.#bell = new RingBell(fd);
    this.#fd = fd;
  }

  sleep(wordOffset: number, expected: number, timeoutMs: number): void {
    if (this.#blocking === undefined && ++this.#blockingSleeps >= BELL_AFTER_SLEEPS) this.#blocking = BlockingBell.watch(this.#fd) ?? null;
    if (this.#blocking?.ready) {
      const words = this.#words;
      const count = (wordOffset + BELL_LISTENERS_DELTA) >> WORD_SHIFT;
      Atomics.add(words, count, 1);
      try {
        if (Atomics.load(words, wordOffset >> WORD_SHIFT) !== expected) return;
        this.#fault?.('sleep-checked');
        if (this.#blocking.block(timeoutMs)) return;
      } finally {
        Atomics.sub(words, count, 1);
      }
    }
    const sleepers = (wordOffset + FUTEX_SLEEPERS_DELTA) >> WORD_SHIFT;
    Atomics.add(this.#words, sleepers, 1);
    try {
      futexWaitAt(this.#base + wordOffset, expected, timeoutMs);
    } finally {
      Atomics.sub(this.#words, sleepers, 1);
    }
  }

  /** How the next blocking sleep waits: on the futex, or on the bell (once set up and its alarm runs). */
  get blockingWay(): 'futex' | 'bell' {
    return this.#blocking?.ready ? 'bell' : 'futex';
  }

  sleepAsync(wordOffset: number, expected: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const how = this.listen(wordOffset, expected, timeoutMs, resolve);
      if (how === 'changed') resolve();
      else if (how === 'unavailable') this.#sleepInThread(wordOffset, expected, timeoutMs).then(resolve, resolve);
    });
  }

  listen(wordOffset: number, expected: number, timeoutMs: number, onWake: () => void): 'listening' | 'changed' | 'unavailable' {
    if (!this.#bell.listen(this.#onRing, this.#onRing)) return 'unavailable';
    const words = this.#words;
    const count = (wordOffset + BELL_LISTENERS_DELTA) >> WORD_SHIFT;
    Atomics.add(words, count, 1);
    if (Atomics.load(words, wordOffset >> WORD_SHIFT) !== expected) {
      Atomics.sub(words, count, 1);
      return 'changed';
    }
    this.#fault?.('sleep-checked');
    const listener: Listener = {
      wordOffset,
      deadline: performance.now() + Math.max(0, timeoutMs),
      finish: () => {
        if (!this.#listeners.delete(listener)) return;
        Atomics.sub(words, count, 1);
        if (this.#listeners.size === 0) this.#timer.idle();
        onWake();
      },
    };
    this.#listeners.add(listener);
    this.#timer.arm(listener.deadline);
    return 'listening';
  }

  /** The async wait where the bell cannot be watched: a futex in a thread, counted as a futex sleeper. */
  async #sleepInThread(wordOffset: number, expected: number, timeoutMs: number): Promise<void> {
    const sleepers = (wordOffset + FUTEX_SLEEPERS_DELTA) >> WORD_SHIFT;
    Atomics.add(this.#words, sleepers, 1);
    this.#threadWaits.set(wordOffset, (this.#threadWaits.get(wordOffset) ?? 0) + 1);
    try {
      await futexWaitAtAsync(this.#base + wordOffset, expected, timeoutMs);
    } finally {
      this.#threadWaits.set(wordOffset, this.#threadWaits.get(wordOffset)! - 1);
      Atomics.sub(this.#words, sleepers, 1);
    }
  }

  wake(wordOffset: number): void {
    const words = this.#words;
    if (Atomics.load(words, (wordOffset + BELL_LISTENERS_DELTA) >> WORD_SHIFT) !== 0) this.#bell.ring(wordOffset + BELL_BYTE_DELTA);
    if (Atomics.load(words, (wordOffset + FUTEX_SLEEPERS_DELTA) >> WORD_SHIFT) !== 0) futexWakeAt(this.#base + wordOffset);
  }

  /** Ends this process's async waits on the word (an abort): nobody else need wake for that. */
  wakeAll(wordOffset: number): void {
    for (const listener of [...this.#listeners]) if (listener.wordOffset === wordOffset) listener.finish();
    if ((this.#threadWaits.get(wordOffset) ?? 0) > 0) futexWakeAt(this.#base + wordOffset);
  }

  interrupt(): void {
    this.#finishAll();
    for (const [wordOffset, waits] of this.#threadWaits) if (waits > 0) futexWakeAt(this.#base + wordOffset);
  }

  /** A ring (or a broken watch) ends every async wait of this process on this ring; each re-checks. */
  #finishAll(): void {
    for (const listener of [...this.#listeners]) listener.finish();
  }

  close(): void {
    this.#blocking?.close();
    this.#bell.close();
    this.#finishAll();
    this.#timer.close();
  }
}

/** The Sleeper of a ring mapped at `mapping` from the ring file open at `fd`. */
export function bellSleeper(mapping: Mapping, fd: number): RingSleeper {
  return new BellSleeper(mapping, fd);
}
