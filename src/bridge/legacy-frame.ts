/**
 * The origin frame that `bridge import` put IN FRONT OF each payload before origins moved into
 * the message's extension (kind 3, src/layout/origin-layout.ts). Nothing writes it any more;
 * `decodeOrigin(buffer)` still reads it, for messages such an import left in a ring. Pure.
 *
 * The frame (all lengths in bytes, integers little-endian):
 *
 *   0        4        5        6        7          7+n      8+n        8+n+p    12+n+p
 *   +--------+--------+--------+--------+----------+--------+----------+--------+---------
 *   | magic  | version| engine |   n    | stream   |   p    | position | CRC-32 | payload
 *   | 00 FF  |   1    | 1 nats |        | (UTF-8)  |        | (ASCII)  | of 0.. |
 *   | 6D 6F  |        | 2 redis|        |          |        |          | 8+n+p  |
 *   +--------+--------+--------+--------+----------+--------+----------+--------+---------
 *
 * The magic starts with NUL and 0xFF, which no UTF-8 text begins with; the CRC over the frame
 * header makes a binary message that merely starts with the magic decode as a plain message.
 */
import type { Engine, Origin } from '../layout/origin-layout.js';

export const FRAME_MAGIC = Buffer.from([0x00, 0xff, 0x6d, 0x6f]);
export const FRAME_VERSION = 1;
const MAGIC_LENGTH = FRAME_MAGIC.length;
let offset = MAGIC_LENGTH;
const VERSION_OFFSET = offset;
offset += 1;
const ENGINE_OFFSET = offset;
offset += 1;
const STREAM_LENGTH_OFFSET = offset;
offset += 1;
/** Bytes of a frame besides the stream name and the position. */
export const FRAME_FIXED_LENGTH = offset + 1 /* position length */ + 4; /* CRC-32 */
const CRC_LENGTH = 4;
const MAX_NAME_LENGTH = 255;

const ENGINE_CODES: Record<Engine, number> = { nats: 1, redis: 2 };
const ENGINE_NAMES: Record<number, Engine> = { 1: 'nats', 2: 'redis' };

/** Bytes a frame adds in front of a payload from `stream` at `position`. */
export function frameLength(stream: string, position: string): number {
  return FRAME_FIXED_LENGTH + Buffer.byteLength(stream) + position.length;
}

/** The frame header for a message (write the payload after it). */
export function encodeFrame(origin: Origin): Buffer {
  const stream = Buffer.from(origin.stream);
  if (stream.length > MAX_NAME_LENGTH) throw new RangeError(`stream name of ${stream.length} bytes; an origin frame holds up to ${MAX_NAME_LENGTH}`);
  const position = Buffer.from(origin.position, 'latin1');
  if (position.length > MAX_NAME_LENGTH) throw new RangeError(`position of ${position.length} bytes; an origin frame holds up to ${MAX_NAME_LENGTH}`);
  const header = Buffer.allocUnsafe(FRAME_FIXED_LENGTH + stream.length + position.length);
  FRAME_MAGIC.copy(header, 0);
  header[VERSION_OFFSET] = FRAME_VERSION;
  header[ENGINE_OFFSET] = ENGINE_CODES[origin.engine];
  header[STREAM_LENGTH_OFFSET] = stream.length;
  let at = STREAM_LENGTH_OFFSET + 1;
  at += stream.copy(header, at);
  header[at++] = position.length;
  at += position.copy(header, at);
  header.writeUInt32LE(crc32(header, 0, at), at);
  return header;
}

/** A framed message: the frame header, then the payload. */
export function frame(origin: Origin, payload: Uint8Array): Buffer {
  const header = encodeFrame(origin);
  return Buffer.concat([header, payload], header.length + payload.length);
}

/**
 * Length of the origin frame at `buffer[start..start+length)`, or 0 when the message carries none.
 * Allocation-free: `receive`'s raw path calls it for every message.
 */
export function frameHeaderLength(buffer: Uint8Array, start: number, length: number): number {
  if (length < FRAME_FIXED_LENGTH || buffer[start] !== 0x00 || buffer[start + 1] !== 0xff) return 0;
  if (buffer[start + 2] !== 0x6d || buffer[start + 3] !== 0x6f || buffer[start + VERSION_OFFSET] !== FRAME_VERSION) return 0;
  if (ENGINE_NAMES[buffer[start + ENGINE_OFFSET]!] === undefined) return 0;
  const streamLength = buffer[start + STREAM_LENGTH_OFFSET]!;
  const positionAt = STREAM_LENGTH_OFFSET + 1 + streamLength;
  if (positionAt + 1 + CRC_LENGTH > length) return 0;
  const crcAt = positionAt + 1 + buffer[start + positionAt]!;
  if (crcAt + CRC_LENGTH > length) return 0;
  const stored = (buffer[start + crcAt]! | (buffer[start + crcAt + 1]! << 8) | (buffer[start + crcAt + 2]! << 16) | (buffer[start + crcAt + 3]! << 24)) >>> 0;
  return crc32(buffer, start, start + crcAt) === stored ? crcAt + CRC_LENGTH : 0;
}

/** The origin and the payload of a framed message; origin undefined when it carries no frame. */
export function decodeFrame(message: Buffer): { origin: Origin | undefined; payload: Buffer } {
  const header = frameHeaderLength(message, 0, message.length);
  if (header === 0) return { origin: undefined, payload: message };
  const streamLength = message[STREAM_LENGTH_OFFSET]!;
  const streamAt = STREAM_LENGTH_OFFSET + 1;
  const positionAt = streamAt + streamLength + 1;
  return {
    origin: {
      engine: ENGINE_NAMES[message[ENGINE_OFFSET]!]!,
      stream: message.toString('utf8', streamAt, streamAt + streamLength),
      position: message.toString('latin1', positionAt, positionAt + message[positionAt - 1]!),
    },
    payload: message.subarray(header),
  };
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (IEEE) of buffer[start..end). */
export function crc32(buffer: Uint8Array, start: number, end: number): number {
  let crc = -1;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ buffer[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
