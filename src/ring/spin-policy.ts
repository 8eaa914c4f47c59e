/**
 * How long a waiting side keeps trying before it sleeps, learned from how its own recent waits
 * ended. Trying only pays when the answer comes from a peer running on another CPU at that
 * moment; when the peer shares our CPU, or is itself asleep (a service idling between requests),
 * every µs spent trying is a µs the peer cannot run, and the answer comes only after we sleep.
 * Measured on the project's 2-vCPU machine (docs/performance.md, "The woken round trip"): a fixed
 * 0.2 ms event-loop yield made `receiveAsync()` ping-pong bimodal (30 µs on two CPUs, 447 µs on
 * one), and a fixed 5 µs spin cost the sleeping ping-pong 6-9 µs a round trip on one CPU.
 *
 * So: a side that caught its answer while trying keeps trying (the full budget); after
 * MISSES_TO_STOP misses in a row it stops trying and sleeps at once, and tries again once every
 * PROBE_EVERY waits, to notice that the peer has become busy (a probe that catches restores the
 * budget). A probe tries for at most PROBE_MS: a busy peer on another CPU answers well within it,
 * and a probe that misses (the peer shares our CPU or sleeps) costs that long, not the whole
 * budget (a 0.2 ms event-loop yield every 16th wait put 0.2 ms into the async ping-pong's p99).
 * Bounded either way: never longer than the budget.
 */

/** Misses in a row after which a side stops trying: one miss may be a preempted peer. */
const MISSES_TO_STOP = 4;
/** While not trying, every this-many-th wait tries anyway. */
const PROBE_EVERY = 16;
/** The longest a probe tries, in ms. */
export const PROBE_MS = 0.02;

export class SpinPolicy {
  /** The longest a wait tries, in ms (the budget). */
  readonly budgetMs: number;
  /** Misses since the last catch; at MISSES_TO_STOP the side stops trying. */
  #misses = 0;
  /** Waits since the last probe, while not trying. */
  #sinceProbe = 0;

  constructor(budgetMs: number) {
    this.budgetMs = budgetMs;
  }

  /** How long the next wait should try before it sleeps (0: sleep at once). */
  next(): number {
    if (this.#misses < MISSES_TO_STOP) return this.budgetMs;
    if (++this.#sinceProbe < PROBE_EVERY) return 0;
    this.#sinceProbe = 0;
    return Math.min(this.budgetMs, PROBE_MS);
  }

  /** How the wait that asked next() ended: true if trying caught the answer, false if it slept. */
  record(caught: boolean): void {
    if (caught) this.#misses = 0;
    else if (this.#misses < MISSES_TO_STOP) this.#misses++;
  }
}
