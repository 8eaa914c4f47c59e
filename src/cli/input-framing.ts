/**
 * How `send` cuts stdin into messages, parsed as it streams in with a bounded buffer: a message
 * is refused as soon as it passes the ring's maximum (`limit`), before the rest of it is read,
 * and the messages before it are handed on.
 *
 *   lines   one message per line (\n); a last line without \n counts      (default)
 *   null    one message per NUL-terminated record                          (--null)
 *   whole   all of stdin is one message                                    (--whole)
 *   length  each record: a 4-byte unsigned little-endian length, then that many bytes
 *   jsonl   one JSON object per line: {"message":"text"} or {"base64":"..."} (what
 *           `receive --json` prints; other keys are ignored); blank lines are skipped
 */
import { UsageError } from '../errors.js';
import { truncateUtf8 } from './utf8.js';

export type InputFraming = 'lines' | 'null' | 'whole' | 'length' | 'jsonl';
export const INPUT_FRAMINGS: readonly InputFraming[] = ['lines', 'null', 'whole', 'length', 'jsonl'];

/** The length prefix of a `length` record. */
export const LENGTH_PREFIX_BYTES = 4;
/** A JSON line may spell a byte as \u0000 (6 characters): the longest line a message can need. */
const JSON_BYTES_PER_BYTE = 6;
const JSON_LINE_SLACK = 256;

export interface FramerOptions {
  readonly framing: InputFraming;
  /** The largest message, in bytes (the ring's maxMessageLength). */
  readonly limit: number;
  /** Cut an oversize message at a UTF-8 boundary instead of refusing it. */
  readonly truncate: boolean;
  /** Stop after this many messages (--count); what follows is not read. */
  readonly max: number;
  /** The error for message `index` (1-based) of `size` bytes (`exact` false: at least that many). */
  readonly tooLarge: (index: number, size: number, exact: boolean) => Error;
}

/**
 * Cuts chunks of stdin into messages. Holds at most one message's bytes (for jsonl, one line's):
 * chunk pieces are kept by reference and joined once, so a long message costs linear time.
 */
export class Framer {
  readonly #options: FramerOptions;
  readonly #separator: number;
  /** Bytes of the message (or JSON line) being read. */
  #parts: Buffer[] = [];
  #partsLength = 0;
  /** --truncate: the message passed the limit; its remaining bytes are skipped. */
  #skipping = false;
  /** Messages completed so far. */
  #count = 0;
  /** length framing: the prefix being read, and the length of the record's payload once known. */
  readonly #prefix = Buffer.alloc(LENGTH_PREFIX_BYTES);
  #prefixLength = 0;
  #recordLength = -1;
  /** jsonl: the line being read (1-based), for error messages. */
  #line = 0;

  constructor(options: FramerOptions) {
    this.#options = options;
    this.#separator = options.framing === 'null' ? 0 : 0x0a;
  }

  /** True once --count messages are complete: the caller stops reading. */
  get done(): boolean {
    return this.#count >= this.#options.max;
  }

  /** Appends the messages `chunk` completes to `out`; throws (after appending those before it) for an oversize or malformed one. */
  push(chunk: Buffer, out: Buffer[]): void {
    switch (this.#options.framing) {
      case 'whole':
        if (!this.done) this.#append(chunk);
        return;
      case 'length':
        return this.#pushLength(chunk, out);
      default:
        return this.#pushSeparated(chunk, out);
    }
  }

  /** End of stdin: the last message, if one is open; throws for a record cut short. */
  end(out: Buffer[]): void {
    if (this.done) return;
    const framing = this.#options.framing;
    if (framing === 'whole') {
      out.push(this.#finish());
    } else if (framing === 'length') {
      if (this.#prefixLength > 0 || this.#recordLength >= 0) {
        const expected = this.#recordLength >= 0 ? `${this.#recordLength} bytes of payload` : `a ${LENGTH_PREFIX_BYTES}-byte length`;
        const got = this.#recordLength >= 0 ? this.#read : this.#prefixLength;
        throw new UsageError(`stdin ended inside record ${this.#count + 1}: expected ${expected}, got ${got} (--framing length: a 4-byte little-endian length, then the bytes)`);
      }
    } else if (this.#partsLength > 0 || this.#skipping) {
      // A last line (or record) without its terminator still counts.
      this.#complete(out);
    }
  }

  #pushSeparated(chunk: Buffer, out: Buffer[]): void {
    let start = 0;
    while (!this.done) {
      const end = chunk.indexOf(this.#separator, start);
      if (end === -1) {
        if (start < chunk.length) this.#append(chunk.subarray(start));
        return;
      }
      this.#append(chunk.subarray(start, end), true);
      this.#complete(out);
      start = end + 1;
    }
  }

  /** A line (or record) is complete: a message, or for jsonl the message its JSON holds. */
  #complete(out: Buffer[]): void {
    if (this.#options.framing !== 'jsonl') {
      out.push(this.#finish());
      return;
    }
    this.#line++;
    const line = this.#finish().toString('utf8');
    if (line.trim() === '') return;
    out.push(this.#fit(this.#decodeJson(line), this.#count + 1));
    this.#count++;
  }

  #decodeJson(line: string): Buffer {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`stdin line ${this.#line} is not JSON (${(error as Error).message}); --framing jsonl expects {"message":"text"} or {"base64":"..."} per line`);
    }
    const fields = (typeof record === 'object' && record !== null && !Array.isArray(record) ? record : {}) as Record<string, unknown>;
    if (typeof fields.message === 'string') return Buffer.from(fields.message);
    if (typeof fields.base64 === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(fields.base64)) return Buffer.from(fields.base64, 'base64');
    throw new UsageError(`stdin line ${this.#line}: expected a JSON object with a string "message" or "base64", got ${line.length > 60 ? `${line.slice(0, 57)}...` : line}`);
  }

  #pushLength(chunk: Buffer, out: Buffer[]): void {
    let offset = 0;
    while (offset < chunk.length && !this.done) {
      if (this.#recordLength < 0) {
        const take = Math.min(LENGTH_PREFIX_BYTES - this.#prefixLength, chunk.length - offset);
        chunk.copy(this.#prefix, this.#prefixLength, offset, offset + take);
        this.#prefixLength += take;
        offset += take;
        if (this.#prefixLength < LENGTH_PREFIX_BYTES) return;
        this.#recordLength = this.#prefix.readUInt32LE(0);
        this.#prefixLength = 0;
        // Refused from its prefix alone: none of its bytes need reading.
        if (this.#recordLength > this.#options.limit && !this.#options.truncate) throw this.#options.tooLarge(this.#count + 1, this.#recordLength, true);
      }
      const take = Math.min(this.#recordLength - this.#read, chunk.length - offset);
      this.#read += take;
      this.#append(chunk.subarray(offset, offset + take));
      offset += take;
      if (this.#read === this.#recordLength) {
        this.#recordLength = -1;
        this.#read = 0;
        out.push(this.#finish());
      }
    }
  }

  /** length framing: payload bytes of the current record read so far (kept or skipped). */
  #read = 0;

  /** Adds bytes to the open message (`ends`: they end it, so its size is known), refusing it (or, with --truncate, cutting it) past the limit. */
  #append(piece: Buffer, ends = false): void {
    if (this.#skipping || piece.length === 0) return;
    const bound = this.#options.framing === 'jsonl' ? this.#options.limit * JSON_BYTES_PER_BYTE + JSON_LINE_SLACK : this.#options.limit;
    const total = this.#partsLength + piece.length;
    if (total > bound) {
      if (!this.#options.truncate || this.#options.framing === 'jsonl') throw this.#options.tooLarge(this.#count + 1, total, ends);
      // Keep one byte past the limit: truncateUtf8 looks at it to cut at a character boundary.
      piece = piece.subarray(0, bound + 1 - this.#partsLength);
      this.#skipping = true;
    }
    this.#parts.push(piece);
    this.#partsLength += piece.length;
  }

  /** The open message's bytes, checked against the limit; the framer is ready for the next. */
  #finish(): Buffer {
    const parts = this.#parts;
    const message = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#partsLength);
    this.#parts = [];
    this.#partsLength = 0;
    this.#skipping = false;
    if (this.#options.framing === 'jsonl') return message;
    return this.#fit(message, ++this.#count);
  }

  #fit(message: Buffer, index: number): Buffer {
    if (message.length <= this.#options.limit) return message;
    if (this.#options.truncate) return truncateUtf8(message, this.#options.limit);
    throw this.#options.tooLarge(index, message.length, true);
  }
}
