/**
 * Blocking sleeps on the ring file's bell (docs/format.md §8, "bell way"), for a thread that may
 * block: mmapipc's blocking send() and receive(). The thread reads an inotify instance of its own
 * with fs.readSync, which blocks in read(2) until a watched file is written: a ring's bell (a
 * waker's pwrite) or this thread's alarm file (alarm.ts, at the sleep's deadline). No ffi-rs call
 * per sleep or per wake: a futex sleep and wake cost one ffi-rs call each (2-5 µs, more on a cold
 * cache), which made the sleeping round trip 1.6-2.7x a Unix socket's (docs/performance.md, "The
 * woken round trip").
 *
 * One instance per thread, one watch per ring file (counted: two handles of one file share the
 * watch), one alarm. An event of any watch ends the read; the sleeper re-checks, as after any
 * wake. Until the alarm thread runs, or where inotify or the alarm cannot be had, ready() is
 * false and the caller sleeps on the futex instead.
 */
import { readSync } from 'node:fs';
import { Alarm } from './alarm.js';
import { inotifyInit, inotifyUnwatch, inotifyWatch } from './inotify.js';
import { closeFile } from './libc.js';

/** Room for 256 events of a watched file (16 bytes each: no name): one read drains most queues. */
const EVENTS = Buffer.alloc(4096);

interface Instance {
  readonly fd: number;
  readonly alarm: Alarm;
  /** Watch descriptor -> handles using it. */
  readonly uses: Map<number, number>;
}

/** This thread's instance: undefined before the first use, null once it could not be had. */
let instance: Instance | null | undefined;

function theInstance(): Instance | null {
  if (instance !== undefined) return instance;
  instance = null;
  let fd = -1;
  let alarm: Alarm | undefined;
  try {
    fd = inotifyInit();
    alarm = Alarm.start();
    if (alarm === undefined) throw new Error('no alarm');
    inotifyWatch(fd, `/proc/self/fd/${alarm.fd}`);
    instance = { fd, alarm, uses: new Map() };
  } catch {
    alarm?.stop();
    if (fd >= 0) closeFile(fd);
  }
  return instance;
}

/**
 * The deadline (CLOCK_MONOTONIC ms, as process.hrtime) this thread's alarm waits for now: 0 when
 * none, undefined before the instance exists. For tests that need the alarm settled.
 */
export function alarmWaitingUntil(): number | undefined {
  return instance ? instance.alarm.waitingUntil : undefined;
}

/** One ring file's use of this thread's instance. */
export class BlockingBell {
  readonly #instance: Instance;
  readonly #watch: number;
  #closed = false;
  /** Set when a read failed: the caller sleeps another way from then on. */
  #broken = false;

  private constructor(instance: Instance, watch: number) {
    this.#instance = instance;
    this.#watch = watch;
  }

  /**
   * Watches the ring file open at `fd` (/proc/self/fd/N: the file this process opened and checked,
   * never a path that could have been replaced since), starting this thread's instance and alarm
   * on first use. Undefined where inotify, the alarm file or a thread cannot be had.
   */
  static watch(fd: number): BlockingBell | undefined {
    const shared = theInstance();
    if (shared === null) return undefined;
    try {
      const watch = inotifyWatch(shared.fd, `/proc/self/fd/${fd}`);
      shared.uses.set(watch, (shared.uses.get(watch) ?? 0) + 1);
      return new BlockingBell(shared, watch);
    } catch {
      return undefined;
    }
  }

  /** True when a sleep may block on the bell now (the alarm thread runs). */
  get ready(): boolean {
    return !this.#closed && !this.#broken && this.#instance.alarm.ready;
  }

  /**
   * Blocks until an event of this thread's instance (a ring of any watched file, or the alarm at
   * `timeoutMs`). The caller has counted itself among the word's bell listeners and found the
   * word unchanged since; it re-checks afterwards. False when the read failed (sleep another
   * way from now on).
   */
  block(timeoutMs: number): boolean {
    const { alarm, fd } = this.#instance;
    alarm.arm(timeoutMs);
    try {
      readSync(fd, EVENTS, 0, EVENTS.length, null);
      return true;
    } catch {
      this.#broken = true;
      return false;
    } finally {
      alarm.disarm();
    }
  }

  /** Stops watching this handle's file (when no other handle of this thread uses the watch). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const { uses, fd } = this.#instance;
    const left = (uses.get(this.#watch) ?? 1) - 1;
    if (left > 0) {
      uses.set(this.#watch, left);
      return;
    }
    uses.delete(this.#watch);
    inotifyUnwatch(fd, this.#watch);
  }
}
