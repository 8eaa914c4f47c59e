/**
 * The shared counter over a plain view of memory: no fs, no FFI. Locking is the caller's job
 * (a process-shared semaphore in production); this module only reads and writes the words the
 * semaphore guards, and knows the layout (./counter-layout.ts).
 *
 * Invariants: with the lock held, `add` makes the counter's new value the previous one plus
 * `step` and appends a log entry whose `before` is the previous entry's `after`. Each process
 * writes only its own process-table entry. The log index is claimed with Atomics.add, so even
 * unlocked steps never overwrite each other's entries (only their counter values collide).
 */
import {
  CHILDREN_OFFSET,
  CHILD_DELAY_OFFSET,
  CHILD_ITERATIONS_OFFSET,
  CHILD_STEP_OFFSET,
  COUNTER_MAGIC,
  COUNTER_MAGIC_LENGTH,
  COUNTER_OFFSET,
  COUNTER_VERSION,
  FLAGS_OFFSET,
  FLAG_NO_LOCK,
  FLAG_QUIET,
  GO_OFFSET,
  HOLDER_PID_OFFSET,
  LOG_AFTER,
  LOG_BEFORE,
  LOG_CAPACITY_OFFSET,
  LOG_NEXT_OFFSET,
  LOG_PID,
  LOG_PROCESS,
  MAGIC_OFFSET,
  MAX_CHILDREN,
  MAX_LOG_CAPACITY,
  PROCESS_PID,
  PROCESS_STATE,
  PROCESS_STEPS,
  READY_COUNT_OFFSET,
  STATE_DONE,
  STATE_READY,
  VERSION_OFFSET,
  WINDOW_OFFSET,
  WORD,
  LOG_OFFSET,
  logEntryOffset,
  processEntryOffset,
  regionLength,
} from './counter-layout.js';

/** What every child learns from the region instead of from a fork. */
export interface CounterConfig {
  readonly children: number;
  readonly childIterations: number;
  readonly childStep: number;
  readonly childDelayMs: number;
  readonly logCapacity: number;
  readonly noLock: boolean;
  /** Without the lock: milliseconds between reading the counter and writing it back. */
  readonly windowMs: number;
  readonly quiet: boolean;
}

export interface LogEntry {
  readonly pid: number;
  /** Process table index: 0 the parent, i child i. */
  readonly process: number;
  readonly before: number;
  readonly after: number;
}

export interface ProcessRecord {
  readonly index: number;
  readonly pid: number;
  readonly state: number;
  readonly steps: number;
}

const HOLDER = HOLDER_PID_OFFSET / WORD;
const COUNTER = COUNTER_OFFSET / WORD;
const LOG_NEXT = LOG_NEXT_OFFSET / WORD;
const READY_COUNT = READY_COUNT_OFFSET / WORD;
const GO = GO_OFFSET / WORD;

export class SharedCounter {
  readonly memory: Buffer;
  readonly config: CounterConfig;
  /** Word view over the whole region; every shared word goes through Atomics. */
  readonly #words: Int32Array;

  private constructor(memory: Buffer, config: CounterConfig) {
    this.memory = memory;
    this.config = config;
    this.#words = new Int32Array(memory.buffer, memory.byteOffset, Math.floor(memory.length / WORD));
  }

  /** Writes the configuration into zeroed memory of at least regionLength(logCapacity) bytes; magic last. */
  static initialise(memory: Buffer, config: CounterConfig): SharedCounter {
    const problem = configProblem(config) ?? lengthProblem(memory.length, config.logCapacity);
    if (problem) throw new RangeError(problem);
    memory.writeUInt32LE(COUNTER_VERSION, VERSION_OFFSET);
    memory.writeUInt32LE(config.logCapacity, LOG_CAPACITY_OFFSET);
    memory.writeUInt32LE(config.children, CHILDREN_OFFSET);
    memory.writeUInt32LE((config.noLock ? FLAG_NO_LOCK : 0) | (config.quiet ? FLAG_QUIET : 0), FLAGS_OFFSET);
    memory.writeUInt32LE(config.childIterations, CHILD_ITERATIONS_OFFSET);
    memory.writeUInt32LE(config.childStep, CHILD_STEP_OFFSET);
    memory.writeDoubleLE(config.childDelayMs, CHILD_DELAY_OFFSET);
    memory.writeDoubleLE(config.windowMs, WINDOW_OFFSET);
    memory.write(COUNTER_MAGIC, MAGIC_OFFSET, COUNTER_MAGIC_LENGTH, 'latin1');
    return new SharedCounter(memory, config);
  }

  /** Reads the configuration a parent wrote; returns why not when the memory is not a counter region. */
  static attach(memory: Buffer): SharedCounter | string {
    if (memory.length < LOG_OFFSET) return `the region is ${memory.length} bytes, shorter than the ${LOG_OFFSET}-byte counter header`;
    const magic = memory.toString('latin1', MAGIC_OFFSET, MAGIC_OFFSET + COUNTER_MAGIC_LENGTH);
    if (magic !== COUNTER_MAGIC) return `the region is not a counter region (magic ${JSON.stringify(magic)}, expected "${COUNTER_MAGIC}")`;
    const version = memory.readUInt32LE(VERSION_OFFSET);
    if (version !== COUNTER_VERSION) return `the counter region has version ${version}, expected ${COUNTER_VERSION}`;
    const flags = memory.readUInt32LE(FLAGS_OFFSET);
    const config: CounterConfig = {
      children: memory.readUInt32LE(CHILDREN_OFFSET),
      childIterations: memory.readUInt32LE(CHILD_ITERATIONS_OFFSET),
      childStep: memory.readUInt32LE(CHILD_STEP_OFFSET),
      childDelayMs: memory.readDoubleLE(CHILD_DELAY_OFFSET),
      logCapacity: memory.readUInt32LE(LOG_CAPACITY_OFFSET),
      noLock: (flags & FLAG_NO_LOCK) !== 0,
      windowMs: memory.readDoubleLE(WINDOW_OFFSET),
      quiet: (flags & FLAG_QUIET) !== 0,
    };
    const problem = configProblem(config) ?? lengthProblem(memory.length, config.logCapacity);
    return problem ?? new SharedCounter(memory, config);
  }

  get value(): number {
    return Atomics.load(this.#words, COUNTER);
  }

  /** Pid recorded as holding the semaphore, 0 when none. */
  get holder(): number {
    return Atomics.load(this.#words, HOLDER);
  }

  /** Called right after acquiring the semaphore. */
  recordHolder(pid: number): void {
    Atomics.store(this.#words, HOLDER, pid);
  }

  /** Called right before posting the semaphore. */
  clearHolder(): void {
    Atomics.store(this.#words, HOLDER, 0);
  }

  /** One step under the lock: counter += step, logged. Returns the value before the step. */
  add(process: number, pid: number, step: number): number {
    const before = Atomics.load(this.#words, COUNTER);
    this.commit(process, pid, before, step);
    return before;
  }

  /**
   * Writes `before + step` and logs it: the write half of a step. Without the lock, `before`
   * may be stale by now, and the write then erases other processes' updates (the lost update).
   */
  commit(process: number, pid: number, before: number, step: number): void {
    const after = before + step;
    Atomics.store(this.#words, COUNTER, after);
    const index = Atomics.add(this.#words, LOG_NEXT, 1);
    if (index < this.config.logCapacity) {
      const entry = logEntryOffset(index) / WORD;
      this.#words[entry + LOG_PID / WORD] = pid;
      this.#words[entry + LOG_PROCESS / WORD] = process;
      this.#words[entry + LOG_BEFORE / WORD] = before;
      this.#words[entry + LOG_AFTER / WORD] = after;
    }
    Atomics.add(this.#words, (processEntryOffset(process) + PROCESS_STEPS) / WORD, 1);
  }

  /** Entries claimed so far: the steps taken, logged or not. */
  get stepsLogged(): number {
    return Math.min(Atomics.load(this.#words, LOG_NEXT), this.config.logCapacity);
  }

  get stepsTaken(): number {
    return Atomics.load(this.#words, LOG_NEXT);
  }

  log(): LogEntry[] {
    const entries: LogEntry[] = [];
    for (let index = 0; index < this.stepsLogged; index++) {
      const entry = logEntryOffset(index) / WORD;
      entries.push({
        pid: this.#words[entry + LOG_PID / WORD]!,
        process: this.#words[entry + LOG_PROCESS / WORD]!,
        before: this.#words[entry + LOG_BEFORE / WORD]!,
        after: this.#words[entry + LOG_AFTER / WORD]!,
      });
    }
    return entries;
  }

  // ---- the process table and the start barrier ----

  /** A child (or the parent, index 0) records itself; children count themselves ready. */
  register(index: number, pid: number): void {
    const entry = processEntryOffset(index) / WORD;
    Atomics.store(this.#words, entry + PROCESS_PID / WORD, pid);
    Atomics.store(this.#words, entry + PROCESS_STATE / WORD, STATE_READY);
    if (index > 0) Atomics.add(this.#words, READY_COUNT, 1);
  }

  markDone(index: number): void {
    Atomics.store(this.#words, (processEntryOffset(index) + PROCESS_STATE) / WORD, STATE_DONE);
  }

  process(index: number): ProcessRecord {
    const entry = processEntryOffset(index) / WORD;
    return {
      index,
      pid: Atomics.load(this.#words, entry + PROCESS_PID / WORD),
      state: Atomics.load(this.#words, entry + PROCESS_STATE / WORD),
      steps: Atomics.load(this.#words, entry + PROCESS_STEPS / WORD),
    };
  }

  get readyCount(): number {
    return Atomics.load(this.#words, READY_COUNT);
  }

  get started(): boolean {
    return Atomics.load(this.#words, GO) !== 0;
  }

  /** The parent lets everyone begin (after every child is ready). */
  start(): void {
    Atomics.store(this.#words, GO, 1);
  }
}

function configProblem(config: CounterConfig): string | undefined {
  const { children, logCapacity } = config;
  if (!Number.isInteger(children) || children < 0 || children > MAX_CHILDREN) {
    return `children must be an integer from 0 to ${MAX_CHILDREN}, got ${children}`;
  }
  if (!Number.isInteger(logCapacity) || logCapacity < 0 || logCapacity > MAX_LOG_CAPACITY) {
    return `log capacity must be an integer from 0 to ${MAX_LOG_CAPACITY}, got ${logCapacity}`;
  }
  return undefined;
}

function lengthProblem(length: number, logCapacity: number): string | undefined {
  const needed = regionLength(logCapacity);
  return length < needed ? `the region is ${length} bytes; a log of ${logCapacity} entries needs ${needed}` : undefined;
}

/** Counter value at the end when no update is lost. */
export function expectedTotal(parent: { iterations: number; step: number }, children: number, child: { iterations: number; step: number }): number {
  return parent.iterations * parent.step + children * child.iterations * child.step;
}

/** Whether each log entry starts where the previous one ended (true for every locked run). */
export function logChains(entries: readonly LogEntry[], initial = 0): boolean {
  let value = initial;
  for (const entry of entries) {
    if (entry.before !== value) return false;
    value = entry.after;
  }
  return true;
}
