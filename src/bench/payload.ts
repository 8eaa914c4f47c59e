/**
 * The benchmark's messages and their check. A message of `size` bytes:
 *
 *   0        4        8                                  size-4   size
 *   +--------+--------+-------- filler ------------------+--------+
 *   | sender | seq    | byte i = (i * 31 + sender) & 255 |  seq   |
 *   +--------+--------+----------------------------------+--------+
 *
 * The filler depends only on the byte's position, so a message of any size is a prefix of its
 * sender's largest template with the sequence stamped at both ends (writeMessage).
 * The receiver checks every message's length (its size is known from the run's MessageSizes),
 * sender, sequence (each sender's messages arrive once each, in order) and the trailing copy of
 * the sequence; every SAMPLE_EVERY-th message, and at least once per SAMPLE_BYTES received, it
 * also compares the whole filler. A check of every byte of every message would cost more than
 * the transports being measured. At the end the count, the sum of the sequence numbers and the
 * sum of the lengths must match.
 */
import { MIN_MESSAGE_SIZE, type MessageSizes } from './sizes.js';

export { MIN_MESSAGE_SIZE };
const SENDER_OFFSET = 0;
const SEQUENCE_OFFSET = 4;
const FILLER_OFFSET = 8;
/** One message in this many has its filler compared byte by byte. */
export const SAMPLE_EVERY = 1024;
/** ... and at least one message per this many bytes received (large messages). */
export const SAMPLE_BYTES = 16 * 1024 * 1024;

/** A message of `size` bytes from `sender` with sequence 0; stamp() sets the sequence. */
export function template(size: number, sender: number): Buffer {
  if (size < MIN_MESSAGE_SIZE) throw new RangeError(`message size must be at least ${MIN_MESSAGE_SIZE}, got ${size}`);
  const message = Buffer.alloc(size);
  for (let i = FILLER_OFFSET; i < size - 4; i++) message[i] = (i * 31 + sender) & 0xff;
  message.writeUInt32LE(sender, SENDER_OFFSET);
  return message;
}

/** Writes `sequence` into both sequence fields of `message`. */
export function stamp(message: Buffer, sequence: number): Buffer {
  message.writeUInt32LE(sequence, SEQUENCE_OFFSET);
  message.writeUInt32LE(sequence, message.length - 4);
  return message;
}

/**
 * Writes sender's message `sequence` of `length` bytes at `offset` of `target`: the first
 * `length` - 4 bytes of its `template` (any size at least `length`), then the sequence at both
 * ends. How a producer fills a claimed slot, or its own buffer before sending a copy.
 */
export function writeMessage(target: Buffer, offset: number, template: Buffer, length: number, sequence: number): void {
  template.copy(target, offset, 0, length - 4);
  target.writeUInt32LE(sequence, offset + SEQUENCE_OFFSET);
  target.writeUInt32LE(sequence, offset + length - 4);
}

export function sequenceOf(message: Uint8Array, offset = 0): number {
  return (message[offset + 4]! | (message[offset + 5]! << 8) | (message[offset + 6]! << 16) | (message[offset + 7]! << 24)) >>> 0;
}

/** Checks arriving messages from `senders` senders of `perSender` messages each, of the run's sizes. */
export class Verifier {
  /** Every message's size, or -1 when they vary (then #sizes says). */
  readonly #size: number;
  readonly #sizes: MessageSizes;
  readonly #next: Uint32Array;
  readonly #templates: Buffer[];
  readonly #perSender: number;
  received = 0;
  /** Sum of all sequence numbers seen, compared with the expected sum at the end. */
  #sum = 0;
  /** Payload bytes received, and where the next byte-driven sample is due. */
  bytes = 0;
  #sampleAt = SAMPLE_BYTES;
  error: string | undefined;

  constructor(sizes: MessageSizes, senders: number, perSender: number) {
    this.#sizes = sizes;
    this.#size = sizes.fixed;
    this.#next = new Uint32Array(senders);
    this.#templates = Array.from({ length: senders }, (_, sender) => template(sizes.largest, sender));
    this.#perSender = perSender;
  }

  get expected(): number {
    return this.#next.length * this.#perSender;
  }

  /** Checks one message at `offset` of `length` bytes in `data`; false (and `error` set) on the first mismatch. */
  check(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    if (this.error !== undefined) return false;
    if (this.#size >= 0 ? length !== this.#size : length < MIN_MESSAGE_SIZE) {
      return this.#fail(`message ${this.received} has ${length} bytes, expected ${this.#size >= 0 ? this.#size : `at least ${MIN_MESSAGE_SIZE}`}`);
    }
    const sender = (data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24)) >>> 0;
    if (sender >= this.#next.length) return this.#fail(`message ${this.received} names sender ${sender}, expected below ${this.#next.length}`);
    const sequence = sequenceOf(data, offset);
    const expected = this.#next[sender]!;
    if (sequence !== expected) return this.#fail(`sender ${sender}: got sequence ${sequence}, expected ${expected}`);
    if (this.#size < 0 && length !== this.#sizes.at(sender, sequence)) {
      return this.#fail(`sender ${sender} message ${sequence} has ${length} bytes, expected ${this.#sizes.at(sender, sequence)}`);
    }
    if (sequenceOf(data, offset + length - 8) !== sequence) return this.#fail(`sender ${sender} message ${sequence}: trailing sequence differs`);
    this.bytes += length;
    if (this.received % SAMPLE_EVERY === 0 || this.bytes >= this.#sampleAt) {
      this.#sampleAt = this.bytes + SAMPLE_BYTES;
      if (this.#templates[sender]!.compare(data, offset + FILLER_OFFSET, offset + length - 4, FILLER_OFFSET, length - 4) !== 0) {
        return this.#fail(`sender ${sender} message ${sequence}: payload bytes differ from what was sent`);
      }
    }
    this.#next[sender] = expected + 1;
    this.#sum += sequence;
    this.received++;
    return true;
  }

  #fail(reason: string): false {
    this.error = reason;
    return false;
  }

  /** The final verdict: every message from every sender arrived once, intact. */
  finish(): { delivered: number; expected: number; verified: boolean; error?: string } {
    const n = this.#perSender;
    const senders = this.#next.length;
    const expectedSum = senders * ((n * (n - 1)) / 2);
    if (this.error === undefined && this.received !== this.expected) this.error = `received ${this.received} of ${this.expected} messages`;
    if (this.error === undefined && this.#sum !== expectedSum) this.error = `sequence checksum ${this.#sum}, expected ${expectedSum}`;
    if (this.error === undefined) {
      let expectedBytes = 0;
      for (let sender = 0; sender < senders; sender++) expectedBytes += this.#sizes.bytes(sender, n);
      if (this.bytes !== expectedBytes) this.error = `received ${this.bytes} payload bytes, expected ${expectedBytes}`;
    }
    return { delivered: this.received, expected: this.expected, verified: this.error === undefined, ...(this.error ? { error: this.error } : {}) };
  }
}
