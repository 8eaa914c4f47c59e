/**
 * When a RingFile looks for dead peers' claims (../ring/recovery.ts): a waiting process does so
 * at most once per interval, more often while something is stuck, and at once when asked.
 */
import type { EntryLocks } from '../ring/participants.js';
import type { RecoveryReport } from '../ring/recovery.js';
import type { Ring } from '../ring/ring.js';

/** How often a waiting process looks for dead peers when nothing is stuck, and when something is. */
const RECOVERY_INTERVAL_MS = 1000;
const STUCK_RECOVERY_INTERVAL_MS = 50;

export class RecoverySchedule {
  readonly #ring: Ring;
  readonly #locks: EntryLocks;
  #nextRecovery = 0;
  #stuck = false;

  constructor(ring: Ring, locks: EntryLocks) {
    this.#ring = ring;
    this.#locks = locks;
  }

  /** Runs recovery at most once per interval (more often while something is stuck); true while something is. Handed to the waits. */
  readonly ifDue = (): boolean => {
    const now = performance.now();
    if (now < this.#nextRecovery) return this.#stuck;
    const report = this.#ring.recover(this.#locks);
    this.#stuck = report.stuck || report.released > 0 || report.adopted > 0;
    this.#nextRecovery = now + (this.#stuck ? STUCK_RECOVERY_INTERVAL_MS : RECOVERY_INTERVAL_MS);
    return this.#stuck;
  };

  /** Runs recovery now; returns what it did. */
  now(): RecoveryReport {
    const report = this.#ring.recover(this.#locks);
    this.#stuck = report.stuck || report.released > 0 || report.adopted > 0;
    this.#nextRecovery = performance.now() + (this.#stuck ? STUCK_RECOVERY_INTERVAL_MS : RECOVERY_INTERVAL_MS);
    return report;
  }
}
