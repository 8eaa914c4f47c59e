/**
 * A waiting word is an event count: bits 1-31 count wake-ups, bit 0 says "someone may be asleep".
 * A sleeper announces itself by setting bit 0 (keeping the count), checks the ring once more,
 * then sleeps while the word still holds the value it announced. A waker that finds bit 0 set
 * adds 1 (which clears bit 0 and bumps the count) and wakes every sleeper. Because the count
 * moves, a sleeper that announced before a wake can never go to sleep on a word another sleeper
 * set again afterwards: its expected value is stale, so its futex wait returns at once.
 * (A plain 0/1 flag loses that wake-up when two sleepers wait for different things — two groups.)
 */

/** Sets the sleeper bit; returns the value to sleep on. */
export function announce(words: Int32Array, index: number): number {
  for (;;) {
    const word = Atomics.load(words, index);
    if ((word & 1) !== 0) return word;
    if (Atomics.compareExchange(words, index, word, word | 1) === word) return word | 1;
  }
}

/** True when this call took the sleepers' bit (and bumped the count): the caller must wake them. */
export function takeSleepers(words: Int32Array, index: number): boolean {
  const word = Atomics.load(words, index);
  return (word & 1) !== 0 && Atomics.compareExchange(words, index, word, (word + 1) | 0) === word;
}
