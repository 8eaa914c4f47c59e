/**
 * What shell completion should know about an option that commander cannot tell it: words to offer
 * for a value it parses itself (`--layout` also takes an old alias, `--from` also a sequence
 * number, so they are not commander choices), and that it may be given more than once (its
 * parser collects the values). Kept on the Option object under a global symbol, so the
 * completion generator reads what the option's own module declared.
 */
import type { Option } from 'commander';

const HINTS = Symbol.for('mmapipc.completionHints');

interface Hints {
  values?: readonly string[];
  repeatable?: boolean;
}
type WithHints = Option & { [HINTS]?: Hints };

const hints = (option: Option): Hints => ((option as WithHints)[HINTS] ??= {});

/** Marks `option` so completion offers `words` for its value; returns the option. */
export function offerValues<T extends Option>(option: T, words: readonly string[]): T {
  hints(option).values = words;
  return option;
}

/** Marks `option` as one that may be given several times (zsh then offers it again). */
export function repeatable<T extends Option>(option: T): T {
  hints(option).repeatable = true;
  return option;
}

/** The words to offer for `option`'s value: its choices, else what offerValues gave it. */
export function offeredValues(option: Option): readonly string[] | undefined {
  return option.argChoices ?? (option as WithHints)[HINTS]?.values;
}

export const isRepeatable = (option: Option): boolean => (option as WithHints)[HINTS]?.repeatable === true;
