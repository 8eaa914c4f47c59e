/**
 * The benchmark's messages and their check. Every message is `size` bytes:
 *
 *   0        4        8                                  size-4   size
 *   +--------+--------+-------- filler ------------------+--------+
 *   | sender | seq    | byte i = (i * 31 + sender) & 255 |  seq   |
 *   +--------+--------+----------------------------------+--------+
 *
 * The receiver checks every message's length, sender, sequence (each sender's messages arrive
 * once each, in order) and the trailing copy of the sequence; every SAMPLE_EVERY-th message it
 * also compares the whole filler. A check of every byte of every message would cost more than
 * the transports being measured.
 */
export const MIN_MESSAGE_SIZE = 12;
const SENDER_OFFSET = 0;
const SEQUENCE_OFFSET = 4;
const FILLER_OFFSET = 8;
/** One message in this many has its filler compared byte by byte. */
export const SAMPLE_EVERY = 1024;

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

export function sequenceOf(message: Uint8Array, offset = 0): number {
  return (message[offset + 4]! | (message[offset + 5]! << 8) | (message[offset + 6]! << 16) | (message[offset + 7]! << 24)) >>> 0;
}

/** Checks arriving messages from `senders` senders of `perSender` messages of `size` bytes each. */
export class Verifier {
  readonly #size: number;
  readonly #next: Uint32Array;
  readonly #templates: Buffer[];
  readonly #perSender: number;
  received = 0;
  /** Sum of all sequence numbers seen, compared with the expected sum at the end. */
  #sum = 0;
  error: string | undefined;

  constructor(size: number, senders: number, perSender: number) {
    this.#size = size;
    this.#next = new Uint32Array(senders);
    this.#templates = Array.from({ length: senders }, (_, sender) => template(size, sender));
    this.#perSender = perSender;
  }

  get expected(): number {
    return this.#next.length * this.#perSender;
  }

  /** Checks one message at `offset` of `length` bytes in `data`; false (and `error` set) on the first mismatch. */
  check(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    if (this.error !== undefined) return false;
    if (length !== this.#size) return this.#fail(`message ${this.received} has ${length} bytes, expected ${this.#size}`);
    const sender = (data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24)) >>> 0;
    if (sender >= this.#next.length) return this.#fail(`message ${this.received} names sender ${sender}, expected below ${this.#next.length}`);
    const sequence = sequenceOf(data, offset);
    const expected = this.#next[sender]!;
    if (sequence !== expected) return this.#fail(`sender ${sender}: got sequence ${sequence}, expected ${expected}`);
    if (sequenceOf(data, offset + length - 8) !== sequence) return this.#fail(`sender ${sender} message ${sequence}: trailing sequence differs`);
    if (this.received % SAMPLE_EVERY === 0 && !this.#fillerMatches(data, offset, sender)) {
      return this.#fail(`sender ${sender} message ${sequence}: payload bytes differ from what was sent`);
    }
    this.#next[sender] = expected + 1;
    this.#sum += sequence;
    this.received++;
    return true;
  }

  #fillerMatches(data: Uint8Array, offset: number, sender: number): boolean {
    const expected = this.#templates[sender]!;
    for (let i = FILLER_OFFSET; i < this.#size - 4; i++) if (data[offset + i] !== expected[i]) return false;
    return true;
  }

  #fail(reason: string): false {
    this.error = reason;
    return false;
  }

  /** The final verdict: every message from every sender arrived once, intact. */
  finish(): { delivered: number; expected: number; verified: boolean; error?: string } {
    const n = this.#perSender;
    const expectedSum = this.#next.length * ((n * (n - 1)) / 2);
    if (this.error === undefined && this.received !== this.expected) this.error = `received ${this.received} of ${this.expected} messages`;
    if (this.error === undefined && this.#sum !== expectedSum) this.error = `sequence checksum ${this.#sum}, expected ${expectedSum}`;
    return { delivered: this.received, expected: this.expected, verified: this.error === undefined, ...(this.error ? { error: this.error } : {}) };
  }
}
