/**
 * One process's share of the counter run (the parent's and every child's): `iterations` steps
 * of `step`, `delayMs` apart, each under the process-shared semaphore, or without it through a
 * read-then-write window. The loop is async and returns to the event loop between steps and
 * between wait slices, so signals and child-exit events are handled while it runs.
 */
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { SharedCounter } from '../counter/counter.js';
import { semPost, semTimedWait } from '../sys/libc.js';

/** The longest single blocking wait for the semaphore: a dead holder or a signal is noticed within it. */
export const WAIT_SLICE_MS = 100;

export interface WorkerPlan {
  /** Process table index: 0 the parent, i child i. */
  readonly index: number;
  readonly pid: number;
  readonly iterations: number;
  readonly step: number;
  readonly delayMs: number;
  /** Without the semaphore: ms between read and write (0: one turn of the event loop). */
  readonly windowMs?: number;
  readonly noLock: boolean;
}

export interface WorkerHooks {
  readonly signal: AbortSignal;
  /** Throws when the run must stop (a peer died); called between steps and wait slices. */
  readonly check: () => void;
  /** Called after each step; while the semaphore is still held when locked, so output follows the counter. */
  readonly onStep?: (before: number, after: number) => void;
  /** Test hook: hold the semaphore this long on the first step, after calling onHold. */
  readonly holdMs?: number;
  readonly onHold?: () => void;
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted: the loop checks the signal
  }
}

/** Acquires the semaphore in short slices; false when aborted first. */
async function acquire(sem: Buffer, hooks: WorkerHooks): Promise<boolean> {
  for (;;) {
    if (semTimedWait(sem, WAIT_SLICE_MS)) return true;
    await yieldToEventLoop();
    hooks.check();
    if (hooks.signal.aborted) return false;
  }
}

/** Runs the plan's steps; returns the number completed (fewer only when aborted). */
export async function runSteps(counter: SharedCounter, sem: Buffer, plan: WorkerPlan, hooks: WorkerHooks): Promise<number> {
  const { index, pid, step, noLock } = plan;
  let done = 0;
  for (let i = 0; i < plan.iterations; i++) {
    hooks.check();
    if (hooks.signal.aborted) break;
    if (noLock) {
      const before = counter.value;
      // The window: another process may write between this read and the write below.
      if (plan.windowMs) await pause(plan.windowMs, hooks.signal);
      else await yieldToEventLoop();
      counter.commit(index, pid, before, step);
      hooks.onStep?.(before, before + step);
    } else {
      if (!(await acquire(sem, hooks))) break;
      counter.recordHolder(pid);
      try {
        const before = counter.add(index, pid, step);
        hooks.onStep?.(before, before + step);
        if (i === 0 && hooks.holdMs) {
          hooks.onHold?.();
          await pause(hooks.holdMs, hooks.signal);
        }
      } finally {
        counter.clearHolder();
        semPost(sem);
      }
    }
    done++;
    if (plan.delayMs > 0) await pause(plan.delayMs, hooks.signal);
    else await yieldToEventLoop();
  }
  return done;
}
