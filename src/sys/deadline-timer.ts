/**
 * One timer for many waits, each with a deadline (performance.now() ms): due at the earliest
 * deadline or before. A timer per wait (setTimeout and clearTimeout each time) cost 3-12 µs a
 * wait on the project's machine; re-referencing a pending one costs well under one. It keeps the
 * process alive only while a wait is pending: its owner calls idle() when none is left.
 */

/** The longest delay setTimeout takes (ms). */
const MAX_TIMER_MS = 0x7fffffff;

export class DeadlineTimer<T extends { readonly deadline: number }> {
  readonly #waits: () => Iterable<T>;
  readonly #expire: (wait: T) => void;
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() at which #timer fires. */
  #due = 0;

  /** `waits`: the pending waits, looked through when the timer fires; `expire`: ends one whose deadline passed. */
  constructor(waits: () => Iterable<T>, expire: (wait: T) => void) {
    this.#waits = waits;
    this.#expire = expire;
  }

  /** Makes sure the timer fires by `deadline` (Infinity: nothing to do) and keeps the process alive. */
  arm(deadline: number): void {
    if (deadline === Infinity) return;
    if (this.#timer !== undefined && this.#due <= deadline) {
      this.#timer.ref();
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#due = deadline;
    this.#timer = setTimeout(this.#fire, Math.min(MAX_TIMER_MS, Math.max(0, deadline - performance.now())));
  }

  /** No wait is pending: the timer no longer keeps the process alive. */
  idle(): void {
    this.#timer?.unref();
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    let next = Infinity;
    const due: T[] = [];
    for (const wait of this.#waits()) {
      if (wait.deadline <= now) due.push(wait);
      else next = Math.min(next, wait.deadline);
    }
    this.arm(next); // before expiring: an expired wait may arm again from its callback
    for (const wait of due) this.#expire(wait);
  };
}
