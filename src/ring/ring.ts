/**
 * The ring algorithm: a bounded multi-producer multi-consumer queue over fixed slots, after
 * Dmitry Vyukov's design, run across processes on a shared mapping. Pure: it sees a Buffer and
 * nothing else (no fs, no FFI); sleeping is left to the caller (see ./blocking.ts).
 *
 * Invariants (positions are taken modulo the position limit L, a multiple of the slot count):
 * - head <= tail <= head + slotCount: senders claim `tail` only when the slot is free, receivers
 *   claim `head` only when the slot is committed;
 * - slot (p mod N) reads sequence p when free for position p, p + 1 once the message for p is
 *   committed, and p + N once that message has been consumed;
 * - the sequence word is written last (by compare-and-swap), so a half-written message is never
 *   visible, and a claim that recovery released can never be committed late.
 */
import {
  HEAD_LAPS_OFFSET,
  HEAD_OFFSET,
  LAST_ACTIVITY_OFFSET,
  RECEIVERS_WAITING_OFFSET,
  SENDERS_WAITING_OFFSET,
  SLOT_FLAGS,
  SLOT_HEADER_LENGTH,
  SLOT_FLAG_RELEASED,
  SLOT_LENGTH,
  SLOT_OWNER,
  SLOT_OWNER_POSITION,
  SLOT_PID,
  SLOT_SENT_AT,
  SLOT_SEQUENCE,
  TAIL_LAPS_OFFSET,
  TAIL_OFFSET,
  WORD,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { MessageTooLargeError, RingFormatError } from '../errors.js';

const HEAD = HEAD_OFFSET / WORD;
const HEAD_LAPS = HEAD_LAPS_OFFSET / WORD;
const TAIL = TAIL_OFFSET / WORD;
const TAIL_LAPS = TAIL_LAPS_OFFSET / WORD;
const RECEIVERS_WAITING = RECEIVERS_WAITING_OFFSET / WORD;
const SENDERS_WAITING = SENDERS_WAITING_OFFSET / WORD;
const LAST_ACTIVITY = LAST_ACTIVITY_OFFSET / 8;

/** A received message. `data` is a copy: it stays valid after the slot is reused. */
export interface Message {
  readonly data: Buffer;
  /** Position of the message in the ring's history, counted from 0 at creation. */
  readonly sequence: number;
  /** Pid of the process that sent it. */
  readonly pid: number;
  /** When it was sent, in ms since the epoch (0 when the sender did not stamp it). */
  readonly sentAt: number;
}

/** Who is calling: written into the slots it claims, so that recovery can find the owner. */
export interface RingIdentity {
  readonly pid: number;
  /** Index of this process's entry in the participant table, or -1 when it has none. */
  readonly participant: number;
}

export interface RingOptions {
  readonly identity?: RingIdentity;
  /** Stamp each message with Date.now() (default true). */
  readonly stamp?: boolean;
}

/** What `wake` should be told after an operation: which side may have a sleeper to wake. */
export type WakeTarget = 'receivers' | 'senders';
export type Wake = (target: WakeTarget) => void;

export class Ring {
  readonly geometry: RingGeometry;
  readonly memory: Buffer;
  /** Word view over the whole mapping; every shared word is read and written through Atomics. */
  readonly #words: Int32Array;
  readonly #doubles: Float64Array;
  readonly #slotCount: number;
  readonly #slotSize: number;
  readonly #limit: number;
  readonly #half: number;
  readonly #pid: number;
  readonly #owner: number;
  readonly #stamp: boolean;
  /** Called after a commit or a release when the other side has sleepers (set by the opener). */
  wake: Wake = () => {};

  constructor(memory: Buffer, geometry: RingGeometry, options: RingOptions = {}) {
    if (memory.byteOffset % 8 !== 0) throw new RangeError('ring memory must be 8-byte aligned');
    if (memory.length < geometry.fileLength) {
      throw new RangeError(`ring memory is ${memory.length} bytes, the geometry needs ${geometry.fileLength}`);
    }
    this.geometry = geometry;
    this.memory = memory;
    this.#words = new Int32Array(memory.buffer, memory.byteOffset, geometry.fileLength / WORD);
    this.#doubles = new Float64Array(memory.buffer, memory.byteOffset, geometry.fileLength / 8);
    this.#slotCount = geometry.slotCount;
    this.#slotSize = geometry.slotSize;
    this.#limit = geometry.positionLimit;
    this.#half = geometry.positionLimit / 2;
    this.#pid = options.identity?.pid ?? 0;
    this.#owner = (options.identity?.participant ?? -1) + 1;
    this.#stamp = options.stamp ?? true;
  }

  // ---- position arithmetic modulo the limit ----

  /** p + 1 modulo the limit. */
  #next(position: number): number {
    return position + 1 === this.#limit ? 0 : position + 1;
  }

  /** (a - b) modulo the limit, as a signed distance in [-L/2, L/2). */
  #distance(a: number, b: number): number {
    let d = a - b;
    if (d >= this.#half) d -= this.#limit;
    else if (d < -this.#half) d += this.#limit;
    return d;
  }

  /** Byte offset of the slot for a position; any word value maps inside the mapping. */
  #slotOf(position: number): number {
    return this.geometry.headerLength + ((position >>> 0) % this.#slotCount) * this.geometry.slotStride;
  }

  #wrapped(position: number): number {
    const p = position % this.#limit;
    return p < 0 ? p + this.#limit : p;
  }

  // ---- sending ----

  /** Bytes a message takes, or throws when it cannot fit a slot. */
  #checkSize(length: number): void {
    if (length > this.#slotSize) throw new MessageTooLargeError(length, this.#slotSize);
  }

  /**
   * Claims the next free slot. Returns its byte offset and position, or -1 when the ring is
   * full. The caller must fill the slot and call #commit.
   */
  #claimSend(): number {
    const words = this.#words;
    let position = Atomics.load(words, TAIL);
    for (;;) {
      const slot = this.#slotOf(position);
      const sequence = Atomics.load(words, (slot + SLOT_SEQUENCE) >> 2);
      const d = this.#distance(sequence, position);
      if (d === 0) {
        const next = this.#next(position);
        const seen = Atomics.compareExchange(words, TAIL, position, next);
        if (seen === position) {
          if (next === 0) Atomics.add(words, TAIL_LAPS, 1);
          this.#claimedPosition = position;
          return slot;
        }
        position = seen;
      } else if (d < 0) {
        return -1; // the slot still holds the previous lap's message: full
      } else {
        // Another sender got there first, so the tail has moved; if it has not, the slot's
        // sequence word was written by no sender of this ring.
        const tail = Atomics.load(words, TAIL);
        if (tail === position) throw this.#corruptSequence(position, sequence);
        position = tail;
      }
    }
  }

  #claimedPosition = 0;

  #corruptSequence(position: number, sequence: number): RingFormatError {
    return new RingFormatError(
      `corrupt ring: slot for position ${position} has sequence ${sequence >>> 0}, ahead of every claim`,
    );
  }

  #fill(slot: number, position: number, length: number): void {
    const words = this.#words;
    const base = slot >> 2;
    words[base + SLOT_OWNER_POSITION / WORD] = position;
    words[base + SLOT_OWNER / WORD] = this.#owner;
    words[base + SLOT_LENGTH / WORD] = length;
    words[base + SLOT_PID / WORD] = this.#pid;
    words[base + SLOT_FLAGS / WORD] = 0;
    this.#doubles[(slot + SLOT_SENT_AT) >> 3] = this.#stamp ? Date.now() : 0;
  }

  /** Publishes the slot; false when recovery released the claim in the meantime. */
  #commit(slot: number, position: number): boolean {
    const words = this.#words;
    const committed =
      Atomics.compareExchange(words, (slot + SLOT_SEQUENCE) >> 2, position, this.#next(position)) === position;
    if (Atomics.load(words, RECEIVERS_WAITING) !== 0 && Atomics.exchange(words, RECEIVERS_WAITING, 0) !== 0) {
      this.wake('receivers');
    }
    return committed;
  }

  /**
   * Sends one message if there is room. Returns false when the ring is full. Throws
   * MessageTooLargeError when it cannot fit a slot (the ring is untouched).
   */
  trySend(message: Buffer | Uint8Array | string): boolean {
    if (typeof message === 'string') return this.#trySendString(message);
    this.#checkSize(message.length);
    const slot = this.#claimSend();
    if (slot < 0) return false;
    const position = this.#claimedPosition;
    this.#fill(slot, position, message.length);
    this.memory.set(message, slot + SLOT_HEADER_LENGTH);
    return this.#commit(slot, position) || this.trySend(message);
  }

  #trySendString(message: string): boolean {
    // Cheap bound first: a UTF-16 code unit never takes more than 3 UTF-8 bytes.
    const length = message.length * 3 <= this.#slotSize ? -1 : Buffer.byteLength(message);
    if (length > this.#slotSize) this.#checkSize(length);
    const slot = this.#claimSend();
    if (slot < 0) return false;
    const position = this.#claimedPosition;
    const written = this.memory.write(message, slot + SLOT_HEADER_LENGTH, this.#slotSize, 'utf8');
    this.#fill(slot, position, written);
    return this.#commit(slot, position) || this.#trySendString(message);
  }

  /** Sequence number of this ring object's most recent successful send. */
  get lastSentSequence(): number {
    return this.#sequenceOf(this.#claimedPosition, TAIL_LAPS);
  }

  /** Sends as many of `messages` (from `start`) as fit now; returns how many were sent. */
  trySendBatch(messages: ReadonlyArray<Buffer | Uint8Array | string>, start = 0): number {
    let sent = 0;
    for (let i = start; i < messages.length; i++) {
      if (!this.trySend(messages[i]!)) break;
      sent++;
    }
    return sent;
  }

  // ---- receiving ----

  /**
   * Claims the oldest committed message. Returns the slot's byte offset, or -1 when there is
   * none. The caller reads the slot, then calls #release.
   */
  #claimReceive(): number {
    const words = this.#words;
    let position = Atomics.load(words, HEAD);
    for (;;) {
      const slot = this.#slotOf(position);
      const sequence = Atomics.load(words, (slot + SLOT_SEQUENCE) >> 2);
      const d = this.#distance(sequence, this.#next(position));
      if (d === 0) {
        const next = this.#next(position);
        const seen = Atomics.compareExchange(words, HEAD, position, next);
        if (seen === position) {
          if (next === 0) Atomics.add(words, HEAD_LAPS, 1);
          this.#receivedPosition = position;
          return slot;
        }
        position = seen;
      } else if (d < 0) {
        return -1; // empty, or the next message is still being written
      } else {
        const head = Atomics.load(words, HEAD);
        if (head === position) throw this.#corruptSequence(position, sequence);
        position = head;
      }
    }
  }

  #receivedPosition = 0;

  /** Frees the slot of a consumed message for the sender one lap ahead. */
  #release(slot: number, position: number): void {
    const words = this.#words;
    Atomics.store(words, (slot + SLOT_SEQUENCE) >> 2, this.#wrapped(position + this.#slotCount));
    if (Atomics.load(words, SENDERS_WAITING) !== 0 && Atomics.exchange(words, SENDERS_WAITING, 0) !== 0) {
      this.wake('senders');
    }
  }

  /** Length of the message in a claimed slot; a value no sender could write is corruption. */
  #lengthOf(slot: number, position: number): number {
    const length = this.#words[(slot + SLOT_LENGTH) >> 2]!;
    if (length < 0 || length > this.#slotSize) {
      this.#release(slot, position);
      throw new RingFormatError(
        `corrupt slot at position ${position}: length ${length} exceeds the ${this.#slotSize}-byte slot; the message was skipped`,
      );
    }
    return length;
  }

  #isReleased(slot: number): boolean {
    return (this.#words[(slot + SLOT_FLAGS) >> 2]! & SLOT_FLAG_RELEASED) !== 0;
  }

  /** Takes the oldest message, or returns null when there is none. */
  tryReceive(): Message | null {
    for (;;) {
      const slot = this.#claimReceive();
      if (slot < 0) return null;
      const position = this.#receivedPosition;
      if (this.#isReleased(slot)) {
        this.#release(slot, position);
        continue;
      }
      const length = this.#lengthOf(slot, position);
      const start = slot + SLOT_HEADER_LENGTH;
      const data = Buffer.allocUnsafe(length);
      this.memory.copy(data, 0, start, start + length);
      const message: Message = {
        data,
        sequence: this.#sequenceOf(position, HEAD_LAPS),
        pid: this.#words[(slot + SLOT_PID) >> 2]! >>> 0,
        sentAt: this.#doubles[(slot + SLOT_SENT_AT) >> 3]!,
      };
      this.#release(slot, position);
      return message;
    }
  }

  /**
   * Takes the oldest message and hands `handler` a view of it inside the slot, with no copy.
   * The slot is freed only after `handler` returns, so a receiver that dies inside `handler`
   * leaves the message for recovery. The view must not be kept. Returns false when empty.
   */
  tryReceiveWith(handler: (view: Buffer, sequence: number, pid: number, sentAt: number) => void): boolean {
    for (;;) {
      const slot = this.#claimReceive();
      if (slot < 0) return false;
      const position = this.#receivedPosition;
      if (this.#isReleased(slot)) {
        this.#release(slot, position);
        continue;
      }
      const length = this.#lengthOf(slot, position);
      const start = slot + SLOT_HEADER_LENGTH;
      try {
        handler(
          this.memory.subarray(start, start + length),
          this.#sequenceOf(position, HEAD_LAPS),
          this.#words[(slot + SLOT_PID) >> 2]! >>> 0,
          this.#doubles[(slot + SLOT_SENT_AT) >> 3]!,
        );
      } finally {
        this.#release(slot, position);
      }
      return true;
    }
  }

  /** Receives up to `max` messages now; returns them (possibly none). */
  tryReceiveBatch(max: number): Message[] {
    const batch: Message[] = [];
    while (batch.length < max) {
      const message = this.tryReceive();
      if (message === null) break;
      batch.push(message);
    }
    return batch;
  }

  /**
   * Best-effort count of positions since creation: laps * L + position. Exact except for the
   * instant around a wrap of the 2^30 position space.
   */
  #sequenceOf(position: number, lapsIndex: number): number {
    let laps = Atomics.load(this.#words, lapsIndex);
    // The claimer of position L-1 bumps the laps after its claim; positions just past a wrap
    // may see the old lap count, positions just before it the new one.
    const current = Atomics.load(this.#words, lapsIndex === HEAD_LAPS ? HEAD : TAIL);
    if (position > this.#half && current < this.#half && laps > 0) laps--;
    return laps * this.#limit + position;
  }

  // ---- state for sleeping and for display ----

  /** Messages committed or in flight: tail - head. */
  get occupancy(): number {
    const tail = Atomics.load(this.#words, TAIL);
    const head = Atomics.load(this.#words, HEAD);
    const d = this.#distance(tail, head);
    return d < 0 ? 0 : d > this.#slotCount ? this.#slotCount : d;
  }

  get capacity(): number {
    return this.#slotCount;
  }

  /** The largest message, in bytes. */
  get maxMessageLength(): number {
    return this.#slotSize;
  }

  /** True when the slot at the head holds a committed message. */
  get hasMessage(): boolean {
    const words = this.#words;
    const position = Atomics.load(words, HEAD);
    const sequence = Atomics.load(words, (this.#slotOf(position) + SLOT_SEQUENCE) >> 2);
    return this.#distance(sequence, this.#next(position)) >= 0;
  }

  /** True when the slot at the tail is free. */
  get hasRoom(): boolean {
    const words = this.#words;
    const position = Atomics.load(words, TAIL);
    const sequence = Atomics.load(words, (this.#slotOf(position) + SLOT_SEQUENCE) >> 2);
    return this.#distance(sequence, position) >= 0;
  }

  /** Total messages claimed by senders and by receivers since creation. */
  get totals(): { sent: number; received: number } {
    const words = this.#words;
    return {
      sent: Atomics.load(words, TAIL_LAPS) * this.#limit + Atomics.load(words, TAIL),
      received: Atomics.load(words, HEAD_LAPS) * this.#limit + Atomics.load(words, HEAD),
    };
  }

  /**
   * Announces a sleeper on one side: sets the side's wait word to 1 and returns the value to
   * sleep on. The caller must check the ring again after this and before sleeping: a commit
   * (or release) in between swaps the word back to 0, so the sleep returns at once.
   */
  announceSleep(side: WakeTarget): number {
    Atomics.store(this.#words, side === 'receivers' ? RECEIVERS_WAITING : SENDERS_WAITING, 1);
    return 1;
  }

  /** Marks activity for `stat` (a plain store: approximate by design). */
  touch(now: number = Date.now()): void {
    this.#doubles[LAST_ACTIVITY] = now;
  }
}


