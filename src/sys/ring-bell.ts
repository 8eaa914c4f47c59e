/**
 * The bell of a ring file: a waker writes one byte into the file with pwrite(2), and every
 * process watching the file with inotify gets an IN_MODIFY event in its event loop. The bell is
 * the ring file itself, on the descriptor the process already holds, so it needs no file of its
 * own: no name to create, plant, replace or remove, and nobody who cannot open the ring (its
 * owner, mode 0600 or 0660, checked when opened) can ring it. Writes through the mapping raise no
 * inotify events; only the bell's pwrite does.
 */
import { watch, writeSync, type FSWatcher } from 'node:fs';

const RING_VALUE = Buffer.from([1]);

export class RingBell {
  readonly #fd: number;
  #watcher: FSWatcher | undefined;
  /** Set once watching has failed: the caller then waits another way. */
  #broken = false;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /**
   * Rings: one pwrite of one byte at `byteOffset`. A failure (the descriptor closed under us, an
   * I/O error) is not the waker's problem: listeners then wake at their timeout.
   */
  ring(byteOffset: number): void {
    try {
      writeSync(this.#fd, RING_VALUE, 0, 1, byteOffset);
    } catch {
      // See above: a bounded delay for the listeners, never a failed send.
    }
  }

  /**
   * Starts watching (once) and calls `onRing` on every ring from then on, from the event loop.
   * Watches /proc/self/fd/N, the file this process opened and checked, never a path that could
   * have been replaced since. False when inotify is not available (no /proc, the per-user limit of
   * inotify instances reached, ...): the caller falls back to another way of waiting.
   */
  listen(onRing: () => void, onBroken: () => void): boolean {
    if (this.#watcher) return true;
    if (this.#broken) return false;
    try {
      // persistent: false, so a quiet watch never keeps the process alive; a wait's own timer does.
      const watcher = watch(`/proc/self/fd/${this.#fd}`, { persistent: false }, onRing);
      watcher.on('error', () => {
        this.#broken = true;
        this.close();
        onBroken();
      });
      this.#watcher = watcher;
      return true;
    } catch {
      this.#broken = true;
      return false;
    }
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
