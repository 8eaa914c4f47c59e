/**
 * Durations for the bridge's options: a bare number is SECONDS (`--linger 0.01`), or a number
 * with a unit: ms, s, m, h. (The whole CLI is moving to this rule; until it has, the bridge
 * keeps its own parser here.) Returns milliseconds.
 */
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000 };

export function parseSeconds(value: string): number {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected a duration in seconds such as 0.01, 250ms, 2s, 1m or 1h, got '${value}'`);
  return Number(match[1]) * UNIT_MS[match[2] ?? '']!;
}
