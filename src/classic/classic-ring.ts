/**
 * The tutorial's message_buffer protocol over a plain view of memory (no fs, no FFI): one
 * sender, one receiver, a count word that both change. mmapipc's side changes the count with
 * Atomics.add/sub, but the C programs use plain ++/--, so updates can still be lost between a C
 * process and mmapipc (docs/classic-layout.md). A full or empty ring is a return value.
 */
import { MessageTooLargeError, MmapipcError, RingFormatError } from '../errors.js';
import {
  CLASSIC_MAX_MESSAGE_LENGTH,
  CLASSIC_REMEDY,
  CLASSIC_SLOT_COUNT,
  CLASSIC_SLOT_LENGTH,
  CLASSIC_STRUCT_LENGTH,
  MESSAGE_COUNT_OFFSET,
  READ_INDEX_OFFSET,
  WORD,
  WRITE_INDEX_OFFSET,
  checkClassicState,
  slotOffset,
  type ClassicState,
} from './classic-layout.js';

const COUNT = MESSAGE_COUNT_OFFSET / WORD;
const READ = READ_INDEX_OFFSET / WORD;
const WRITE = WRITE_INDEX_OFFSET / WORD;
const NUL = 0;

/** Called with a view of the message (valid only during the call) and the count left after it. */
export type ClassicHandler = (message: Buffer, remaining: number) => void;

export class ClassicRing {
  readonly memory: Buffer;
  /** The three int words; native byte order, like the C struct. */
  readonly #words: Int32Array;
  /** Named in errors: the file path, usually. */
  readonly #subject: string | undefined;

  constructor(memory: Buffer, subject?: string) {
    if (memory.length < CLASSIC_STRUCT_LENGTH) {
      throw new RangeError(`a classic ring needs ${CLASSIC_STRUCT_LENGTH} bytes, got ${memory.length}`);
    }
    if (memory.byteOffset % WORD !== 0) throw new RangeError('a classic ring must start on a 4-byte boundary');
    this.memory = memory;
    this.#words = new Int32Array(memory.buffer, memory.byteOffset, 3);
    this.#subject = subject;
  }

  get state(): ClassicState {
    return {
      count: Atomics.load(this.#words, COUNT),
      readIndex: Atomics.load(this.#words, READ),
      writeIndex: Atomics.load(this.#words, WRITE),
    };
  }

  /** Messages waiting, by the count word. */
  get count(): number {
    return Atomics.load(this.#words, COUNT);
  }

  get capacity(): number {
    return CLASSIC_SLOT_COUNT;
  }

  get maxMessageLength(): number {
    return CLASSIC_MAX_MESSAGE_LENGTH;
  }

  /** Throws RingFormatError when a word is out of range (a foreign or corrupt file). */
  validate(): void {
    const problem = checkClassicState(this.state);
    if (problem !== undefined) this.#corrupt(problem);
  }

  /**
   * Sends one message: the C string goes into messages[write_index], then write_index advances,
   * then the count. Returns the count after sending, or -1 when the ring is full.
   */
  trySend(message: Uint8Array): number {
    if (message.length > CLASSIC_MAX_MESSAGE_LENGTH) {
      throw new MessageTooLargeError(message.length, CLASSIC_MAX_MESSAGE_LENGTH, this.#subject, CLASSIC_REMEDY, true);
    }
    if (message.includes(NUL)) {
      throw new MmapipcError('a message holds a NUL byte; the classic layout stores C strings, which end at the first NUL', {
        subject: this.#subject,
      });
    }
    if (this.#countWord() >= CLASSIC_SLOT_COUNT) return -1;
    const write = this.#index(WRITE, 'write_index');
    const start = slotOffset(write);
    this.memory.set(message, start);
    this.memory[start + message.length] = NUL;
    Atomics.store(this.#words, WRITE, (write + 1) % CLASSIC_SLOT_COUNT);
    return Atomics.add(this.#words, COUNT, 1) + 1;
  }

  /**
   * Takes the oldest message: the handler sees it first, and only when the handler returns are
   * read_index and the count advanced, so a handler that throws (output closed) leaves it there.
   * Returns false when the ring is empty.
   */
  tryReceiveWith(handler: ClassicHandler): boolean {
    const count = this.#countWord();
    if (count === 0) return false;
    const read = this.#index(READ, 'read_index');
    handler(this.#messageAt(read), count - 1);
    Atomics.store(this.#words, READ, (read + 1) % CLASSIC_SLOT_COUNT);
    Atomics.sub(this.#words, COUNT, 1);
    return true;
  }

  /** Copies of up to `max` waiting messages, oldest first, leaving them in the ring. */
  peek(max: number): Buffer[] {
    const count = this.#countWord();
    const read = this.#index(READ, 'read_index');
    const messages: Buffer[] = [];
    for (let i = 0; i < Math.min(count, max); i++) messages.push(Buffer.from(this.#messageAt((read + i) % CLASSIC_SLOT_COUNT)));
    return messages;
  }

  /** The C string in slot `index`: up to its NUL, or the whole slot if a foreign writer left none. */
  #messageAt(index: number): Buffer {
    const slot = this.memory.subarray(slotOffset(index), slotOffset(index) + CLASSIC_SLOT_LENGTH);
    const end = slot.indexOf(NUL);
    return end === -1 ? slot : slot.subarray(0, end);
  }

  #countWord(): number {
    const count = Atomics.load(this.#words, COUNT);
    if (count < 0 || count > CLASSIC_SLOT_COUNT) this.#corrupt(`message_count is ${count}, expected 0 to ${CLASSIC_SLOT_COUNT}`);
    return count;
  }

  #index(word: number, name: string): number {
    const index = Atomics.load(this.#words, word);
    if (index < 0 || index >= CLASSIC_SLOT_COUNT) this.#corrupt(`${name} is ${index}, expected 0 to ${CLASSIC_SLOT_COUNT - 1}`);
    return index;
  }

  #corrupt(problem: string): never {
    throw new RingFormatError(`not a usable classic message_buffer: ${problem}`, { subject: this.#subject });
  }
}
