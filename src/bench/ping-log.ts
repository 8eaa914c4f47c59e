/** The pinger's record of a ping-pong run: what to send next, the check of each reply, the round-trip times. */
import { sequenceOf, stamp, template } from './payload.js';
import type { LatencyConfig } from './protocol.js';

/** A word nobody changes: Atomics.wait on it is a plain timed sleep of the thread. */
const PAUSE_WORD = new Int32Array(new SharedArrayBuffer(4));

export class PingLog {
  readonly #size: number;
  readonly #warmup: number;
  readonly #total: number;
  readonly #message: Buffer;
  readonly #pauseMs: number;
  /** Round-trip times in microseconds of the measured rounds. */
  readonly samples: Float64Array;
  #round = 0;
  #sentAt = 0;
  error: string | undefined;

  constructor(config: LatencyConfig) {
    this.#size = config.size;
    this.#warmup = config.warmup;
    this.#total = config.warmup + config.rounds;
    this.#message = template(config.size, 0);
    this.#pauseMs = config.pauseUs / 1000;
    this.samples = new Float64Array(config.rounds);
  }

  get done(): boolean {
    return this.#round >= this.#total || this.error !== undefined;
  }

  get replies(): number {
    return Math.max(0, this.#round - this.#warmup);
  }

  /**
   * The next ping (the same Buffer each time: send it before asking for another), and starts its
   * clock. Every transport's pinger calls this, so each gets the same pause before each ping: the
   * thread sleeps in the kernel (not in the event loop), outside the measured time.
   */
  ping(): Buffer {
    if (this.#pauseMs > 0) Atomics.wait(PAUSE_WORD, 0, 0, this.#pauseMs);
    stamp(this.#message, this.#round);
    this.#sentAt = performance.now();
    return this.#message;
  }

  /** Records the reply to the last ping; false when it is not that ping's echo. */
  pong(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    const elapsedUs = (performance.now() - this.#sentAt) * 1000;
    if (length !== this.#size || sequenceOf(data, offset) !== this.#round) {
      this.error = `round ${this.#round}: reply of ${length} bytes with sequence ${sequenceOf(data, offset)}, expected ${this.#size} bytes with ${this.#round}`;
      return false;
    }
    if (this.#round >= this.#warmup) this.samples[this.#round - this.#warmup] = elapsedUs;
    this.#round++;
    return true;
  }

  get total(): number {
    return this.#total;
  }
}

/** The value below which `fraction` of the sorted samples fall (nearest rank). */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}
