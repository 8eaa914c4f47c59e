/**
 * Words shell completion offers for an option's value when commander does not know them as
 * choices: the option parses its own value (`--layout` also takes an old alias, `--from` also a
 * sequence number) but has a few names worth offering. Kept on the Option object itself under a
 * global symbol, so the completion generator reads what the option's own module declared.
 */
import type { Option } from 'commander';

const VALUES = Symbol.for('mmapipc.completionValues');

type WithValues = Option & { [VALUES]?: readonly string[] };

/** Marks `option` so completion offers `words` for its value; returns the option. */
export function offerValues<T extends Option>(option: T, words: readonly string[]): T {
  (option as WithValues)[VALUES] = words;
  return option;
}

/** The words to offer for `option`'s value: its choices, else what offerValues gave it. */
export function offeredValues(option: Option): readonly string[] | undefined {
  return option.argChoices ?? (option as WithValues)[VALUES];
}
