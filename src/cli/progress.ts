/**
 * A one-line progress display on a terminal's stderr for long piped sends: messages, rate, and
 * (when stdin is a regular file of known size) percent and ETA. Redrawn at most every 100 ms,
 * erased at the end; never shown when stderr is not a terminal.
 */
import { fstatSync } from 'node:fs';
import { write, type Stream } from './output.js';

const REDRAW_MS = 100;

export class Progress {
  readonly #err: Stream;
  readonly #totalBytes: number | undefined;
  readonly #started = performance.now();
  #lastDraw = 0;
  #drawn = false;

  constructor(err: Stream, stdinFd = 0) {
    this.#err = err;
    let total: number | undefined;
    try {
      const status = fstatSync(stdinFd);
      if (status.isFile() && status.size > 0) total = status.size;
    } catch {
      total = undefined;
    }
    this.#totalBytes = total;
  }

  /** Redraws if it is time: `messages` sent so far, `bytes` of stdin consumed so far. */
  update(messages: number, bytes: number): void {
    const now = performance.now();
    if (now - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = now;
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? messages / seconds : 0;
    let line = `sending: ${messages.toLocaleString('en-US')} messages, ${Math.round(rate).toLocaleString('en-US')}/s`;
    if (this.#totalBytes !== undefined && bytes > 0) {
      const fraction = Math.min(1, bytes / this.#totalBytes);
      const eta = fraction > 0 ? (seconds / fraction) * (1 - fraction) : 0;
      line += `, ${(fraction * 100).toFixed(0)}%, ETA ${eta.toFixed(0)} s`;
    }
    write(this.#err, `\r\x1b[2K${this.#err.color.dim(line)}`);
    this.#drawn = true;
  }

  /** Erases the line. */
  done(): void {
    if (this.#drawn) write(this.#err, '\r\x1b[2K');
    this.#drawn = false;
  }
}
