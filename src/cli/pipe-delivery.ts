/**
 * Delivery into a pipe, one message at a time: `receive` finishes a message only once the
 * reader of its stdout pipe has read it (the pipe is empty again). A reader that stops early
 * (`| head -1`) leaves every message it did not read in the ring, for the next receiver.
 * Only for a FIFO: a write to a file or terminal is delivered when it returns, and a socket's
 * reader cannot be watched this way (receive takes runs there).
 */
import { fstatSync } from 'node:fs';
import { readerGone } from '../sys/libc.js';
import { shrinkPipe, unreadBytes, waitWritable } from '../sys/pipe.js';
import { ClosedOutputError } from './output.js';

/** How long one look blocks the thread before the event loop (signals) gets a turn. */
const LOOK_MS = 100;
/** Without a one-page pipe there is no event for "empty": look again after this long. */
const RELOOK_MS = 1;

export class PipeDelivery {
  readonly #fd: number;
  /** The pipe was shrunk to one page: writable (POLLOUT) means empty. */
  readonly #oneBuffer: boolean;

  /** The delivery for `fd`, or undefined when `fd` is not a pipe. */
  static for(fd: number): PipeDelivery | undefined {
    try {
      if (!fstatSync(fd).isFIFO()) return undefined;
    } catch {
      return undefined;
    }
    return new PipeDelivery(fd);
  }

  private constructor(fd: number) {
    this.#fd = fd;
    this.#oneBuffer = shrinkPipe(fd);
  }

  /** True when the reader has gone: take nothing more. */
  get readerGone(): boolean {
    return readerGone(this.#fd);
  }

  /**
   * Resolves once the reader has read everything written so far; ClosedOutputError when it left
   * without reading it all; false when `signal` aborted first (the message stays unfinished).
   */
  async drained(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      const unread = unreadBytes(this.#fd);
      if (unread <= 0) return true; // empty, or the kernel cannot tell (then the write is the delivery)
      if (readerGone(this.#fd)) throw new ClosedOutputError('output closed');
      if (signal.aborted) return false;
      if (this.#oneBuffer) waitWritable(this.#fd, LOOK_MS);
      // A turn of the event loop between looks: a signal's handler runs there.
      await new Promise((resolve) => (this.#oneBuffer ? setImmediate(resolve) : setTimeout(resolve, RELOOK_MS)));
    }
  }
}
