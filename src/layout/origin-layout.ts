/**
 * An imported message (docs/format.md §9b): kind 3, whose 40-byte extension says where `bridge
 * import` found it. The payload is exactly the engine's message; the origin travels beside it,
 * in the room every ring keeps for an extension (EXTENSION_RESERVE), so an imported message fits
 * any ring of the geometry its source message fitted. Pure: reads and writes plain bytes.
 *
 *   0              8              16  17  18                                  40
 *   +--------------+--------------+---+---+-----------------------------------+
 *   | position     | position 2   |eng|len| stream name (22 bytes, zero-padded)|
 *   +--------------+--------------+---+---+-----------------------------------+
 *
 *   position    u64: NATS the stream sequence; Redis the entry ID's milliseconds part
 *   position 2  u64: NATS 0; Redis the entry ID's sequence part
 *   eng         u8: 1 NATS JetStream, 2 Redis Streams
 *   len         u8: 1 to 22, the stream name's length in bytes (UTF-8, whole, in bytes 18 on);
 *               255 (NAME_ABBREVIATED): a longer name, as bytes 18-31 its first 14 bytes (cut back to
 *               a whole UTF-8 character, zero-padded) and bytes 32-39 the first 8 bytes of its
 *               SHA-256; shown as `<those bytes>~<16 lowercase hex digits of the hash>`.
 */
import { EXTENSION_RESERVE } from './ring-layout.js';

/** The kind of a message `bridge import` brought in. */
export const KIND_IMPORTED = 3;

let origin = 0;
/** u64: NATS stream sequence; Redis entry ID milliseconds. */
export const ORIGIN_POSITION = origin;
origin += 8;
/** u64: NATS 0; Redis entry ID sequence. */
export const ORIGIN_POSITION_2 = origin;
origin += 8;
/** u8: ENGINE_CODES. */
export const ORIGIN_ENGINE = origin;
origin += 1;
/** u8: the name's length (1..ORIGIN_NAME_ROOM), or NAME_ABBREVIATED. */
export const ORIGIN_NAME_FORM = origin;
origin += 1;
export const ORIGIN_NAME = origin;
export const ORIGIN_NAME_ROOM = 22;
origin += ORIGIN_NAME_ROOM;
export const ORIGIN_EXTENSION_LENGTH = origin;
/** An abbreviated name: its first NAME_PREFIX_ROOM bytes, then NAME_HASH_LENGTH bytes of its SHA-256. */
export const NAME_ABBREVIATED = 0xff;
export const NAME_HASH_LENGTH = 8;
export const NAME_PREFIX_ROOM = ORIGIN_NAME_ROOM - NAME_HASH_LENGTH;
export const NAME_HASH_OFFSET = ORIGIN_NAME + NAME_PREFIX_ROOM;

if (ORIGIN_EXTENSION_LENGTH > EXTENSION_RESERVE || ORIGIN_EXTENSION_LENGTH % 8 !== 0) {
  throw new Error(`the origin extension (${ORIGIN_EXTENSION_LENGTH} bytes) must fit the ring's reserve (${EXTENSION_RESERVE}) in 8-byte units`);
}

export type Engine = 'nats' | 'redis';
export const ENGINE_CODES: Readonly<Record<Engine, number>> = { nats: 1, redis: 2 };
const ENGINE_NAMES: Readonly<Record<number, Engine>> = { 1: 'nats', 2: 'redis' };

export interface Origin {
  readonly engine: Engine;
  /** The NATS stream or the Redis key (a name longer than 22 bytes abbreviated: see above). */
  readonly stream: string;
  /** NATS: the stream sequence in decimal; Redis: the entry ID (`ms-seq`). */
  readonly position: string;
}

/**
 * The origin an imported message carries, or undefined for any other message (another kind, or
 * an extension of another length: a reader that does not know it still has the payload).
 */
export function decodeOriginExtension(kind: number, extension: Uint8Array): Origin | undefined {
  if (kind !== KIND_IMPORTED || extension.length !== ORIGIN_EXTENSION_LENGTH) return undefined;
  const bytes = Buffer.from(extension.buffer, extension.byteOffset, extension.length);
  const engine = ENGINE_NAMES[bytes[ORIGIN_ENGINE]!];
  if (engine === undefined) return undefined;
  const form = bytes[ORIGIN_NAME_FORM]!;
  let stream: string;
  if (form === NAME_ABBREVIATED) {
    let end = ORIGIN_NAME + NAME_PREFIX_ROOM;
    while (end > ORIGIN_NAME && bytes[end - 1] === 0) end--;
    stream = `${bytes.toString('utf8', ORIGIN_NAME, end)}~${bytes.toString('hex', NAME_HASH_OFFSET, NAME_HASH_OFFSET + NAME_HASH_LENGTH)}`;
  } else if (form >= 1 && form <= ORIGIN_NAME_ROOM) {
    stream = bytes.toString('utf8', ORIGIN_NAME, ORIGIN_NAME + form);
  } else {
    return undefined;
  }
  const first = bytes.readBigUInt64LE(ORIGIN_POSITION);
  const position = engine === 'nats' ? first.toString() : `${first}-${bytes.readBigUInt64LE(ORIGIN_POSITION_2)}`;
  return { engine, stream, position };
}
