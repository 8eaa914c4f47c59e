/**
 * The alarm clock of this thread's blocking bell reads (blocking-bell.ts). A blocking read of an
 * inotify descriptor cannot time out by itself, and every sleep mmapipc makes is timed (the
 * caller's deadline, the 1 s safety cap, recovery's 50 ms). So a small thread of its own (a
 * Worker, ~25 ms to start, once per thread that blocks) sleeps in Atomics.wait until the deadline
 * of the sleep in progress, and if that sleep is still going then, writes one byte into a private
 * unnamed file (O_TMPFILE) that the same inotify instance watches: the read returns, the sleeper
 * re-checks, as after any wake.
 *
 * Shared words (Int32, one SharedArrayBuffer): SLEEP, the generation of the sleep in progress (0:
 * none); IDLE, 1 while the alarm thread waits with no deadline; ONLINE, 1 once it runs. Beside
 * them, DEADLINE (Float64, CLOCK_MONOTONIC ms), written before SLEEP is stored, and WAITING_UNTIL
 * (Float64), the deadline the alarm thread waits for now (0: none; for tests). A sleeper stores
 * SLEEP and then reads IDLE; the alarm thread stores IDLE and then waits on SLEEP: with
 * sequentially consistent atomics one of them sees the other, so an idle alarm thread is always
 * notified. A busy one is notified only when the new deadline comes before any earlier one it may
 * be waiting for; otherwise it wakes at that earlier one, sees the newer sleep and waits again
 * (about once a second while the thread keeps sleeping, never while it is idle). It stays busy
 * until the last deadline armed has passed, even once that sleep has ended: short sleeps in a
 * row then arm it without a notify (a notify per sleep woke it, a context switch per sleep).
 */
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';

// Loaded only when a thread first blocks long enough to want an alarm (it pulls in streams: a
// one-shot command needs none of it).
const require = createRequire(import.meta.url);

const SLEEP = 0;
const IDLE = 1;
const ONLINE = 2;
const WORDS = 4;
/** Byte offset of the DEADLINE double, after the Int32 words. */
const DEADLINE_BYTE = WORDS * 4;
/** Byte offset of the WAITING_UNTIL double. */
const WAITING_BYTE = DEADLINE_BYTE + 8;
const SHARED_BYTES = WAITING_BYTE + 8;
/** O_TMPFILE | O_RDWR (Linux generic: x86-64, arm64): an unnamed file in a directory. */
const O_TMPFILE_RDWR = 0o20200000 | 0o2;

/** The alarm thread. Plain JavaScript, evaluated in the Worker (it cannot import this module). */
const THREAD = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { shared, fd } = workerData;
const words = new Int32Array(shared, 0, ${WORDS});
const deadline = new Float64Array(shared, ${DEADLINE_BYTE}, 1);
const waitingUntil = new Float64Array(shared, ${WAITING_BYTE}, 1);
const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const now = () => performance.now() + offset;
const ring = Buffer.from([1]);
Atomics.store(words, ${ONLINE}, 1);
for (;;) {
  // Until the last deadline armed has passed, wait for it, whether its sleep is still on (SLEEP
  // holds its number) or already over (0): a sleeper arms without a notify while this thread waits
  // for a deadline no later than its own, so short sleeps in a row never wake this thread (each
  // wake is a context switch, on one CPU taken from the very processes that are working).
  const sleep = Atomics.load(words, ${SLEEP});
  const due = deadline[0];
  if (Atomics.load(words, ${SLEEP}) !== sleep) continue;
  const remaining = due - now();
  if (remaining > 0) {
    waitingUntil[0] = due;
    Atomics.wait(words, ${SLEEP}, sleep, remaining);
    continue;
  }
  waitingUntil[0] = 0;
  // Rung for this sleep, if one is on (a read returns on any queued event, an overflow included);
  // then wait for the next one as an idle thread, so that its sleeper notifies whatever its deadline.
  if (sleep !== 0) try { writeSync(fd, ring, 0, 1, 0); } catch {}
  Atomics.store(words, ${IDLE}, 1);
  Atomics.wait(words, ${SLEEP}, sleep);
  Atomics.store(words, ${IDLE}, 0);
}
`;

/** CLOCK_MONOTONIC in ms, the clock both threads share (performance.now() has a per-thread origin). */
let clockOffset: number | undefined; // taken on first use: a command that never waits loads no perf_hooks
const monotonicMs = (): number => performance.now() + (clockOffset ??= Number(process.hrtime.bigint()) / 1e6 - performance.now());

export class Alarm {
  /** The private file the alarm rings; the sleeper's inotify instance watches it. */
  readonly fd: number;
  readonly #words: Int32Array;
  readonly #deadline: Float64Array;
  readonly #waitingUntil: Float64Array;
  #generation = 0;
  /** The latest deadline the alarm thread may be waiting for (it waits for no later one). */
  #latest = 0;
  #online = false;
  #dead = false;
  readonly #worker: Worker;

  private constructor(fd: number) {
    this.fd = fd;
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    this.#words = new Int32Array(shared, 0, WORDS);
    this.#deadline = new Float64Array(shared, DEADLINE_BYTE, 1);
    this.#waitingUntil = new Float64Array(shared, WAITING_BYTE, 1);
    const { Worker: WorkerThread } = require('node:worker_threads') as typeof import('node:worker_threads');
    const worker = new WorkerThread(THREAD, { eval: true, workerData: { shared, fd }, stdout: false, stderr: false });
    this.#worker = worker;
    worker.unref();
    worker.on('error', () => (this.#dead = true));
    worker.on('exit', () => (this.#dead = true));
  }

  /** Starts an alarm thread and its file; undefined where either cannot be had (then sleep another way). */
  static start(): Alarm | undefined {
    for (const dir of ['/dev/shm', tmpdir()]) {
      let fd: number;
      try {
        fd = openSync(dir, O_TMPFILE_RDWR, 0o600);
      } catch {
        continue;
      }
      try {
        return new Alarm(fd);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** The deadline (CLOCK_MONOTONIC ms) the alarm thread waits for now, 0 when none: for tests. */
  get waitingUntil(): number {
    return this.#waitingUntil[0]!;
  }

  /** True once the alarm thread runs (and until it dies): only then may a sleep block on a read. */
  get ready(): boolean {
    if (!this.#online) this.#online = Atomics.load(this.#words, ONLINE) === 1;
    return this.#online && !this.#dead;
  }

  /** Rings the alarm `timeoutMs` from now unless disarm() comes first. */
  arm(timeoutMs: number): void {
    const deadline = monotonicMs() + Math.max(0, timeoutMs);
    this.#deadline[0] = deadline;
    this.#generation = (this.#generation % 0x3fffffff) + 1;
    const words = this.#words;
    Atomics.store(words, SLEEP, this.#generation);
    if (Atomics.load(words, IDLE) === 1 || deadline < this.#latest) Atomics.notify(words, SLEEP);
    // Notified, the alarm thread waits for this deadline (or a newer sleep's) and no earlier one;
    // not notified, for one before this one at the latest.
    this.#latest = deadline;
  }

  disarm(): void {
    Atomics.store(this.#words, SLEEP, 0);
  }

  /** Ends the alarm thread (when its file cannot be watched after all). */
  stop(): void {
    this.#dead = true;
    void this.#worker.terminate();
  }
}
