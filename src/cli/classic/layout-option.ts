/** `--layout <v1|classic>` on send, receive, stat and peek. */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { CLASSIC_SLOT_COUNT, CLASSIC_SLOT_LENGTH } from '../../classic/classic-layout.js';
import { CLASSIC_POLL_MS } from '../../classic/poll.js';

export const LAYOUTS = ['v1', 'classic'] as const;
export type Layout = (typeof LAYOUTS)[number];

export function addLayoutOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--layout <layout>',
      `file layout: v1 (mmapipc's ring) or classic (the tutorial's struct message_buffer: ${CLASSIC_SLOT_COUNT} slots of ${CLASSIC_SLOT_LENGTH} bytes, ` +
        `one sender and one receiver, waits by polling every ${CLASSIC_POLL_MS} ms; see docs/classic-layout.md)`,
    )
      .choices(LAYOUTS)
      .default('v1'),
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
