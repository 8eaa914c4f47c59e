/** `--layout <ring|classic>` on send, receive, stat and peek. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { CLASSIC_SLOT_COUNT, CLASSIC_SLOT_LENGTH } from '../../classic/classic-layout.js';
import { CLASSIC_POLL_MS } from '../../classic/poll.js';
import { offerValues } from '../completion-values.js';

export const LAYOUTS = ['ring', 'classic'] as const;
export type Layout = (typeof LAYOUTS)[number];
/**
 * The old name of `ring`, from when mmapipc's ring was format v1 (it is format 2 and up now):
 * still accepted, with a note on stderr.
 */
export const DEPRECATED_RING_NAME = 'v1';
export const DEPRECATION_NOTE = `mmapipc: note: --layout ${DEPRECATED_RING_NAME} is now called --layout ring (mmapipc's ring file, whatever its format version); ${DEPRECATED_RING_NAME} still works for now\n`;

/** The layout named by `value`: a choice, or the deprecated alias (noted on stderr). */
export function parseLayout(value: string, warn: (text: string) => void = (text) => process.stderr.write(text)): Layout {
  if (value === DEPRECATED_RING_NAME) {
    warn(DEPRECATION_NOTE);
    return 'ring';
  }
  if ((LAYOUTS as readonly string[]).includes(value)) return value as Layout;
  throw new InvalidArgumentError(`Allowed choices are ${LAYOUTS.join(', ')}.`);
}

export function addLayoutOption(command: Command): Command {
  return command.addOption(
    offerValues(
      new Option(
        '--layout <layout>',
        `file layout: ring (mmapipc's ring file) or classic (the tutorial's struct message_buffer: ${CLASSIC_SLOT_COUNT} slots of ${CLASSIC_SLOT_LENGTH} bytes, ` +
          `one sender and one receiver, waits by polling every ${CLASSIC_POLL_MS} ms; see docs/classic-layout.md); ${DEPRECATED_RING_NAME} is an old name for ring (choices: "ring", "classic")`,
      )
        .argParser((value: string) => parseLayout(value))
        .default('ring'),
      LAYOUTS,
    ),
  );
}

/** Refuses options that mean nothing for the classic layout, naming them. */
export function refuseForClassic(options: object, names: Record<string, string>): void {
  const given = Object.entries(names)
    .filter(([key]) => (options as Record<string, unknown>)[key] !== undefined)
    .map(([, flag]) => flag);
  if (given.length > 0) {
    throw new UsageError(
      `${given.join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply to --layout classic (fixed at ${CLASSIC_SLOT_COUNT} slots of ${CLASSIC_SLOT_LENGTH} bytes); drop ${given.length === 1 ? 'it' : 'them'}`,
    );
  }
}
