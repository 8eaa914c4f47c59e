/**
 * The words beside each waiting word that the wake protocol adds (docs/format.md §8). Relative to
 * the waiting word, inside its block of BLOCK_LENGTH (128) bytes, whose first word is the ring's:
 *
 *   +0    +4              +8              +12 ........ +64   +65 ....... +128
 *   +-----+---------------+---------------+----------+-----+-----------+
 *   | wait| futex sleepers| bell listeners| (zero)   |bell | (zero)    |
 *   +-----+---------------+---------------+----------+-----+-----------+
 *
 * - wait: the ring's waiting word, an event count (bit 0: someone may sleep; see ring/wait-word.ts).
 * - futex sleepers: threads inside (or entering) FUTEX_WAIT on the waiting word. A sleeper adds 1
 *   before its futex call and subtracts 1 after it; a waker calls FUTEX_WAKE only when it is not 0.
 * - bell listeners: async waits watching the ring file for IN_MODIFY. A listener adds 1 before it
 *   looks at the waiting word and subtracts 1 when its wait ends; a waker rings only when not 0.
 * - bell: a waker rings by pwrite(2)-ing one byte (1) here, on its own descriptor of the ring file;
 *   the write raises IN_MODIFY for every inotify watch on the file. Its value means nothing.
 *
 * The offsets live in src/layout (the format's authority); this module names them for src/sys.
 */
export {
  WAIT_FUTEX_SLEEPERS_DELTA as FUTEX_SLEEPERS_DELTA,
  WAIT_BELL_LISTENERS_DELTA as BELL_LISTENERS_DELTA,
  WAIT_BELL_BYTE_DELTA as BELL_BYTE_DELTA,
} from '../layout/ring-layout.js';
