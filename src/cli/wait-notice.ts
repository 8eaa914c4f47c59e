/**
 * Never silent on a terminal: a wait that lasts longer than NOTICE_AFTER_MS prints one line on
 * stderr saying what it waits for and who holds it up. The line is printed again when what it
 * says changes (looked at every RECHECK_MS) or, unchanged, every REPEAT_MS while the wait lasts.
 * Whole lines rather than a line redrawn in place: a long one may wrap, and it stays in the
 * scrollback for whoever comes back to the terminal.
 */
import { write, type Stream } from './output.js';

export const NOTICE_AFTER_MS = 1000;
const RECHECK_MS = 1000;
const REPEAT_MS = 30_000;

export class WaitNotice {
  readonly #err: Stream;
  readonly #enabled: boolean;
  #timer: NodeJS.Timeout | undefined;
  #last = '';
  #lastAt = 0;

  /** Prints nothing unless `enabled` (stderr is a terminal, or --verbose). */
  constructor(err: Stream, enabled: boolean) {
    this.#err = err;
    this.#enabled = enabled;
  }

  /** Runs `wait`, printing `describe()` (asked afresh at each look) if it takes long. */
  async during<T>(describe: () => string, wait: () => Promise<T>): Promise<T> {
    if (!this.#enabled) return wait();
    this.#schedule(describe, NOTICE_AFTER_MS);
    try {
      return await wait();
    } finally {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #schedule(describe: () => string, ms: number): void {
    this.#timer = setTimeout(() => this.#look(describe), ms);
    this.#timer.unref();
  }

  #look(describe: () => string): void {
    let line: string;
    try {
      line = describe();
    } catch {
      return; // the ring closed under us: the wait is ending anyway
    }
    const now = performance.now();
    const gist = line.replace(/ for \d+ s\b/g, ''); // a claim's age alone is no news
    if (gist !== this.#last || now - this.#lastAt >= REPEAT_MS) {
      write(this.#err, `${this.#err.color.yellow(line)}\n`);
      this.#last = gist;
      this.#lastAt = now;
    }
    this.#schedule(describe, RECHECK_MS);
  }
}
