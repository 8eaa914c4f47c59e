/**
 * Waiting on a classic ring. The tutorial's protocol has no way to wake a waiter (no futex word,
 * no semaphore: the C programs call usleep(1000) in a loop), so this is the one place in mmapipc
 * that polls: every CLASSIC_POLL_MS, bounded by a timeout and cut short by the signal.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The tutorial's usleep(1000). */
export const CLASSIC_POLL_MS = 1;

export interface PollOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Resolves true once `ready()` is true; false on timeout or abort. */
export async function pollUntil(ready: () => boolean, options: PollOptions = {}): Promise<boolean> {
  const deadline = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
  for (;;) {
    if (ready()) return true;
    if (options.signal?.aborted || performance.now() >= deadline) return false;
    try {
      await sleep(CLASSIC_POLL_MS, undefined, { signal: options.signal });
    } catch {
      return false; // aborted
    }
  }
}
