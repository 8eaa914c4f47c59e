/**
 * How `receive` writes messages on stdout, the counterparts of send's input framings:
 *
 *   lines   each message, then \n                                       (default)
 *   null    each message, then a NUL byte                               (--null)
 *   length  a 4-byte unsigned little-endian length, then the bytes      (--framing length)
 *   jsonl   one JSON object per message: sequence, pid, time, bytes, group, deliveries, and
 *           "message" (valid UTF-8) or "base64" (anything else)          (--json)
 * `send --framing` reads each of them back (jsonl: the "message" or "base64" key).
 */
import { UsageError } from '../errors.js';
// bridge: messages a `bridge import` brought in carry their origin in their extension (src/bridge/origin.ts).
import { originRecord, type Origin } from '../bridge/origin.js';

export type OutputFraming = 'lines' | 'null' | 'length' | 'jsonl';
export const OUTPUT_FRAMINGS: readonly OutputFraming[] = ['lines', 'null', 'length', 'jsonl'];
export const LENGTH_PREFIX_BYTES = 4;

/** --framing, or its short forms --null and --json; two that disagree are a usage error. */
export function outputFraming(options: { framing?: OutputFraming; null?: boolean; json?: boolean }): OutputFraming {
  const asked = [options.framing, options.null ? 'null' : undefined, options.json ? 'jsonl' : undefined].filter((f): f is OutputFraming => f !== undefined);
  const distinct = [...new Set(asked)];
  if (distinct.length > 1) throw new UsageError(`--null, --json and --framing ask for different framings (${distinct.join(', ')}); pick one`);
  return distinct[0] ?? 'lines';
}

/** What goes before a payload of `length` bytes (length framing), into `target`; returns its size. */
export function writeHeader(framing: OutputFraming, length: number, target: Buffer, offset: number): number {
  if (framing !== 'length') return 0;
  target.writeUInt32LE(length, offset);
  return LENGTH_PREFIX_BYTES;
}

/** What goes after a payload: \n, NUL, or nothing (length). */
export function trailerLength(framing: OutputFraming): number {
  return framing === 'length' ? 0 : 1;
}

export function trailerByte(framing: OutputFraming): number {
  return framing === 'null' ? 0 : 0x0a;
}

/** A JSON record of a message: its text when it is valid UTF-8, else its bytes in base64. */
export function jsonRecord(data: Buffer, sequence: number, pid: number, sentAt: number, group?: string, deliveries = 0, origin?: Origin): Record<string, unknown> {
  // bridge: an imported message's origin (engine, stream, position) is shown beside its payload
  const text = data.toString('utf8');
  const exact = Buffer.from(text).equals(data);
  return {
    sequence,
    pid,
    time: sentAt > 0 ? new Date(sentAt).toISOString() : null,
    bytes: data.length,
    group: group ?? null,
    deliveries,
    ...(exact ? { message: text } : { base64: data.toString('base64') }),
    ...(origin ? { origin: originRecord(origin) } : {}),
  };
}
