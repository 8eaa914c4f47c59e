/**
 * The counter's shared region: where every byte lives. Pure: no fs, no FFI.
 *
 * One region (a memfd, standing in for the tutorial's anonymous mapping) holds the run's
 * configuration, the process-shared semaphore with its holder, the counter, one entry per
 * process and the log. The parent writes everything before it starts a child (the
 * fork-equivalent of "the child sees the parent's memory"), and the magic last.
 * Little-endian 32-bit words and f64s, aligned for Atomics.
 *
 *   0        8        12       16       20       24       28       32       40       48       64
 *   +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
 *   | magic  |version |logCap  |children|flags   |chIter  |chStep  |chDelay |window  | spare  |  config
 *   +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
 *   64: sem_t (SEM_LENGTH = 32 bytes, 8-aligned)
 *   96: holder pid | counter | log next | ready count | go           (written under the semaphore,
 *   128: process table: PROCESS_CAPACITY entries                       or by one writer each)
 *        0        4        8        12       16
 *        +--------+--------+--------+--------+
 *        | pid    | state  | steps  | spare  |     entry 0 is the parent, entry i child i
 *        +--------+--------+--------+--------+
 *   LOG_OFFSET: log entries, logCap of them
 *        0        4        8        12       16
 *        +--------+--------+--------+--------+
 *        | pid    | process| before | after  |
 *        +--------+--------+--------+--------+
 *
 * Protocol in one sentence: a process adds to the counter only while it holds the semaphore and
 * has written its pid into the holder word (cleared again before it posts), so the log's before
 * and after values chain and a dead holder can be named.
 */

export const COUNTER_MAGIC = 'MMAPCNT1';
export const COUNTER_MAGIC_LENGTH = 8;
export const COUNTER_VERSION = 1;
export const WORD = 4;
export const DOUBLE = 8;
export const CACHE_LINE_LENGTH = 64;
/** sizeof(sem_t) on Linux x86-64 and arm64 (the same as src/sys/libc.ts SEM_LENGTH). */
export const SEM_LENGTH = 32;

// ---- configuration (written once by the parent, before any child starts; magic last) ----
let offset = 0;
export const MAGIC_OFFSET = offset;
offset += COUNTER_MAGIC_LENGTH;
export const VERSION_OFFSET = offset;
offset += WORD;
export const LOG_CAPACITY_OFFSET = offset; // entries the log holds
offset += WORD;
export const CHILDREN_OFFSET = offset;
offset += WORD;
export const FLAGS_OFFSET = offset; // FLAG_* bits
offset += WORD;
export const CHILD_ITERATIONS_OFFSET = offset;
offset += WORD;
export const CHILD_STEP_OFFSET = offset;
offset += WORD;
export const CHILD_DELAY_OFFSET = offset; // f64 ms between a child's steps
offset += DOUBLE;
export const WINDOW_OFFSET = offset; // f64 ms between read and write without the semaphore
offset += DOUBLE;
export const CONFIG_END = offset;

/** Run without the semaphore, with a read-then-write window. */
export const FLAG_NO_LOCK = 1;
/** Children print nothing per step (--json). */
export const FLAG_QUIET = 2;

// ---- the semaphore and the words it guards ----
offset = CACHE_LINE_LENGTH;
export const SEM_OFFSET = offset;
offset += SEM_LENGTH;
export const HOLDER_PID_OFFSET = offset; // pid holding the semaphore, 0 when free
offset += WORD;
export const COUNTER_OFFSET = offset; // the shared counter (int32)
offset += WORD;
export const LOG_NEXT_OFFSET = offset; // log entries claimed so far (may exceed the capacity)
offset += WORD;
export const READY_COUNT_OFFSET = offset; // children that have attached (futex word)
offset += WORD;
export const GO_OFFSET = offset; // 1 once the parent lets everyone start (futex word)
offset += WORD;

// ---- process table ----
offset = CACHE_LINE_LENGTH * 2;
export const PROCESSES_OFFSET = offset;
/** The parent and up to MAX_CHILDREN children. */
export const PROCESS_CAPACITY = 64;
export const MAX_CHILDREN = PROCESS_CAPACITY - 1;
export const PROCESS_PID = 0;
export const PROCESS_STATE = 4; // STATE_*
export const PROCESS_STEPS = 8; // steps this process has completed
export const PROCESS_ENTRY_LENGTH = 16;
export const STATE_EMPTY = 0;
export const STATE_READY = 1;
export const STATE_DONE = 2;
offset += PROCESS_CAPACITY * PROCESS_ENTRY_LENGTH;

// ---- log ----
export const LOG_OFFSET = offset;
export const LOG_PID = 0;
export const LOG_PROCESS = 4; // process table index: 0 the parent, i child i
export const LOG_BEFORE = 8;
export const LOG_AFTER = 12;
export const LOG_ENTRY_LENGTH = 16;
/** The log keeps at most this many entries (16 MiB); later steps are counted, not logged. */
export const MAX_LOG_CAPACITY = 1 << 20;

/** Counter values are int32: a run whose expected total exceeds this is refused. */
export const MAX_COUNTER_VALUE = 0x7fffffff;

export function processEntryOffset(index: number): number {
  return PROCESSES_OFFSET + index * PROCESS_ENTRY_LENGTH;
}

export function logEntryOffset(index: number): number {
  return LOG_OFFSET + index * LOG_ENTRY_LENGTH;
}

/** Bytes of a region whose log holds `logCapacity` entries. */
export function regionLength(logCapacity: number): number {
  return LOG_OFFSET + logCapacity * LOG_ENTRY_LENGTH;
}

/** Log entries needed for `totalSteps` steps: all of them, up to MAX_LOG_CAPACITY. */
export function logCapacityFor(totalSteps: number): number {
  return Math.min(Math.max(totalSteps, 0), MAX_LOG_CAPACITY);
}
