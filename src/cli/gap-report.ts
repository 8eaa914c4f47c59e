/**
 * A lossy group's gaps on stderr, aggregated: one line per burst rather than one per gap. Gaps
 * are added up until the receiver has caught up (nothing waiting), it ends, or REPORT_EVERY_MS
 * has passed since the first gap of the line, whichever comes first. `--json` records stay one
 * per gap (see receive.ts).
 */
import type { Gap } from '../ring/member.js';
import { note, type Output } from './output.js';

const REPORT_EVERY_MS = 1000;

export class GapReport {
  readonly #output: Output;
  readonly #path: string;
  #group = '';
  #count = 0;
  #gaps = 0;
  #from = 0;
  #to = 0;
  #since = 0;

  constructor(output: Output, path: string) {
    this.#output = output;
    this.#path = path;
  }

  add(gap: Gap): void {
    if (this.#gaps > 0 && gap.group !== this.#group) this.flush();
    if (this.#gaps === 0) {
      this.#group = gap.group;
      this.#from = gap.from;
      this.#since = performance.now();
    }
    this.#gaps++;
    this.#count += gap.count;
    this.#to = gap.from + gap.count - 1;
    if (performance.now() - this.#since >= REPORT_EVERY_MS) this.flush();
  }

  /** Prints the gaps added since the last line, if any. */
  flush(): void {
    if (this.#gaps === 0) return;
    const range = this.#gaps === 1 ? `from sequence ${this.#from}` : `in ${this.#gaps} gaps between sequence ${this.#from} and ${this.#to}`;
    const line = `mmapipc: ${this.#path}: group ${this.#group} missed ${this.#count} message(s) ${range} (senders overwrote them before it read them)`;
    this.#gaps = 0;
    this.#count = 0;
    note(this.#output, line);
  }
}
