/**
 * Durations on the command line, written as shell tools write them (`sleep 5`, `timeout 0.5`):
 * a bare number is seconds, fractions allowed; a unit (ms, s, m, h) may follow. Pure: text in,
 * milliseconds or the reason it is not a duration out. One rule for every duration option.
 */

export const DURATION_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
export type DurationUnit = keyof typeof DURATION_UNIT_MS;

/** The longest wait a Node timer can hold (2^31 - 1 ms, about 24.8 days); longer ones would fire at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Shown in help text and in every refusal. */
export const DURATION_EXAMPLES = '5, 0.25, 500ms or 2m';

export type DurationParse = { readonly ms: number } | { readonly reason: string };

const DURATION = /^\s*((?:[0-9]+(?:\.[0-9]*)?)|(?:\.[0-9]+))\s*(ms|s|m|h)?\s*$/;

/** `text` as milliseconds, or why it is not a duration (the reason quotes what was given). */
export function parseDuration(text: string): DurationParse {
  const match = DURATION.exec(text);
  if (!match) return { reason: `expected a duration such as ${DURATION_EXAMPLES}, got ${JSON.stringify(text)}` };
  const unit = (match[2] ?? 's') as DurationUnit;
  const ms = Number(match[1]) * DURATION_UNIT_MS[unit];
  if (ms > MAX_DURATION_MS) {
    const hours = Math.floor(MAX_DURATION_MS / DURATION_UNIT_MS.h);
    return { reason: `expected at most ${hours}h (the longest a timer can wait), got ${JSON.stringify(text)}` };
  }
  return { ms };
}

/**
 * A duration for a message, in the unit a reader expects of a shell tool: seconds from one
 * second up ("5 s", "1.5 s"), milliseconds below ("250 ms").
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms * 1000) / 1000} ms`;
  return `${Math.round(ms) / 1000} s`;
}
