/**
 * Where a bridged message came from. In a ring (import): the message is of kind 3 and its
 * 40-byte extension holds the origin (src/layout/origin-layout.ts, docs/format.md §9b), so the
 * payload is exactly the engine's message. In the engine (export): the Mmapipc-* headers below.
 * Pure apart from hashing a long stream name.
 */
import { createHash } from 'node:crypto';
import {
  decodeOriginExtension,
  ENGINE_CODES,
  KIND_IMPORTED,
  NAME_ABBREVIATED,
  NAME_HASH_LENGTH,
  NAME_HASH_OFFSET,
  NAME_PREFIX_ROOM,
  ORIGIN_ENGINE,
  ORIGIN_EXTENSION_LENGTH,
  ORIGIN_NAME,
  ORIGIN_NAME_FORM,
  ORIGIN_NAME_ROOM,
  ORIGIN_POSITION,
  ORIGIN_POSITION_2,
  type Engine,
  type Origin,
} from '../layout/origin-layout.js';
import { decodeFrame } from './legacy-frame.js';

export { KIND_IMPORTED, ORIGIN_EXTENSION_LENGTH, type Engine, type Origin };

/** What a received message offers: its kind, extension and payload (the library's Message). */
interface Received {
  readonly kind: number;
  readonly extension: Uint8Array;
  readonly data: Buffer;
}

/** The origin of a received message: set for a message `bridge import` brought in, undefined otherwise. */
export function originOf(message: { readonly kind: number; readonly extension: Uint8Array }): Origin | undefined {
  return decodeOriginExtension(message.kind, message.extension);
}

/**
 * The origin and the payload of a message. Give it the received Message: its origin is in the
 * extension, and `payload` is `message.data` unchanged.
 * @deprecated for a Buffer: that form reads the origin frame that imports before origins moved
 * into the extension put in front of the payload (messages such an import left in a ring); use
 * `originOf(message)` or this function with the Message.
 */
export function decodeOrigin(message: Received | Buffer): { origin: Origin | undefined; payload: Buffer } {
  if (Buffer.isBuffer(message)) return decodeFrame(message);
  return { origin: originOf(message), payload: message.data };
}

/**
 * How the origin extension names `stream`: whole up to 22 bytes; a longer name as its first
 * bytes (a whole UTF-8 character at most 14 bytes) and 8 bytes of its SHA-256.
 */
function nameBytes(stream: string): { form: number; bytes: Buffer } {
  const whole = Buffer.from(stream, 'utf8');
  if (whole.length >= 1 && whole.length <= ORIGIN_NAME_ROOM) return { form: whole.length, bytes: whole };
  let cut = Math.min(NAME_PREFIX_ROOM, whole.length);
  while (cut > 0 && (whole[cut]! & 0xc0) === 0x80) cut--; // not inside a character
  const bytes = Buffer.alloc(ORIGIN_NAME_ROOM);
  whole.copy(bytes, 0, 0, cut);
  createHash('sha256').update(whole).digest().copy(bytes, NAME_HASH_OFFSET - ORIGIN_NAME, 0, NAME_HASH_LENGTH);
  return { form: NAME_ABBREVIATED, bytes };
}

/** The stream name as an imported message's origin shows it (long names abbreviated). */
export function originStreamName(stream: string): string {
  const { form, bytes } = nameBytes(stream);
  if (form !== NAME_ABBREVIATED) return stream;
  const extension = Buffer.alloc(ORIGIN_EXTENSION_LENGTH);
  extension[ORIGIN_ENGINE] = ENGINE_CODES.nats;
  extension[ORIGIN_NAME_FORM] = form;
  bytes.copy(extension, ORIGIN_NAME);
  return decodeOriginExtension(KIND_IMPORTED, extension)!.stream;
}

/**
 * Writes the origin extensions of one import (one engine, one stream): the name is written
 * once; each message's position goes into the same buffer, which trySendRecord copies.
 */
export class OriginWriter {
  readonly #extension = Buffer.alloc(ORIGIN_EXTENSION_LENGTH);
  readonly #engine: Engine;

  constructor(engine: Engine, stream: string) {
    this.#engine = engine;
    const { form, bytes } = nameBytes(stream);
    this.#extension[ORIGIN_ENGINE] = ENGINE_CODES[engine];
    this.#extension[ORIGIN_NAME_FORM] = form;
    bytes.copy(this.#extension, ORIGIN_NAME);
  }

  /** The extension for the message at `position` (NATS: a decimal sequence; Redis: `ms-seq`); reused: copy before the next call. */
  at(position: string): Buffer {
    const extension = this.#extension;
    if (this.#engine === 'nats') {
      writeDecimal(extension, ORIGIN_POSITION, position, 0, position.length);
      writeDecimal(extension, ORIGIN_POSITION_2, '0', 0, 1);
    } else {
      const dash = position.indexOf('-');
      if (dash < 0) throw new RangeError(`a Redis entry ID is ms-seq, got '${position}'`);
      writeDecimal(extension, ORIGIN_POSITION, position, 0, dash);
      writeDecimal(extension, ORIGIN_POSITION_2, position, dash + 1, position.length);
    }
    return extension;
  }
}

/** Writes the decimal digits text[start..end) as a u64 at `offset`: without allocating up to 15 digits (exact as a double). */
function writeDecimal(target: Buffer, offset: number, text: string, start: number, end: number): void {
  if (end - start > 15) {
    target.writeBigUInt64LE(BigInt(text.slice(start, end)), offset);
    return;
  }
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) throw new RangeError(`a position is decimal digits, got '${text}'`);
    value = value * 10 + digit;
  }
  if (end === start) throw new RangeError(`a position is decimal digits, got '${text}'`);
  target.writeUInt32LE(value % 0x1_0000_0000, offset);
  target.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
}

/** The origin as `receive --json` shows it: NATS sequences as numbers, Redis IDs as strings. */
export function originRecord(origin: Origin): Record<string, unknown> {
  return origin.engine === 'nats'
    ? { engine: 'nats', stream: origin.stream, seq: Number(origin.position) }
    : { engine: 'redis', key: origin.stream, id: origin.position };
}

// ---- origin of exported messages, in the engine ----

/** NATS headers (and, lower-cased, Redis fields) that say where an exported message came from. */
export const ORIGIN_HEADERS = {
  /** hostname:realpath of the ring, percent-encoded outside printable ASCII. */
  ring: 'Mmapipc-Ring',
  /** `${createdAt}-${creatorPid}` of the ring file: a re-created ring starts its sequence again. */
  incarnation: 'Mmapipc-Incarnation',
  /** The message's sequence number in the ring. */
  sequence: 'Mmapipc-Seq',
  pid: 'Mmapipc-Pid',
  /** When it was sent into the ring, ms since the epoch. */
  sentAt: 'Mmapipc-Sent-At',
  /** For a message the ring itself had imported: `engine:stream:position` of where it came from. */
  via: 'Mmapipc-Via',
} as const;

/** The `via` value of an imported message. */
export function viaOf(origin: Origin): string {
  return `${origin.engine}:${origin.stream}:${origin.position}`;
}
