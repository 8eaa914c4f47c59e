/**
 * The ring's Sleeper backed by the kernel: a futex on a word of the shared mapping, so a process
 * sleeping in one program is woken by a commit in another.
 */
import type { Sleeper } from '../ring/blocking.js';
import { futexWait, futexWaitAsync, futexWake } from './libc.js';

export function futexSleeper(memory: Buffer): Sleeper & { wake(wordOffset: number): void } {
  const words = new Map<number, Buffer>();
  const word = (offset: number): Buffer => {
    let view = words.get(offset);
    if (!view) {
      view = memory.subarray(offset, offset + 4);
      words.set(offset, view);
    }
    return view;
  };
  return {
    sleep: (offset, expected, timeoutMs) => futexWait(word(offset), expected, timeoutMs),
    sleepAsync: (offset, expected, timeoutMs) => futexWaitAsync(word(offset), expected, timeoutMs),
    wakeAll: (offset) => futexWake(word(offset)),
    wake: (offset) => futexWake(word(offset)),
  };
}
