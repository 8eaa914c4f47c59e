/**
 * The ring algorithm: a bounded multi-producer multi-consumer queue over fixed slots, after
 * Dmitry Vyukov's design, run across processes on a shared mapping. Pure: it sees a Buffer and
 * nothing else (no fs, no FFI); sleeping is left to the caller (see ./blocking.ts) and liveness
 * to recovery (see ./recovery.ts).
 *
 * Invariants (positions are taken modulo the position limit L, a multiple of the slot count N):
 * - head <= tail <= head + N: senders claim `tail` only when the slot is free, receivers claim
 *   `head` only when the slot is committed;
 * - slot (p mod N) reads sequence p when free for position p, p + 1 once the message for p is
 *   committed (with SEQUENCE_RELEASED_BIT if recovery gave the claim up), and p + N once that
 *   message has been consumed;
 * - the sequence word is written last, by compare-and-swap when committing, so a half-written
 *   message is never visible and a claim that recovery released can never be committed late;
 * - a receiver frees a slot only after it is done with the message, so one that dies holding it
 *   leaves the message in place for recovery to hand to another receiver.
 */
import {
  HEAD_LAPS_OFFSET,
  HEAD_OFFSET,
  LAST_ACTIVITY_OFFSET,
  OWNER_RECEIVER_BIT,
  RECEIVERS_WAITING_OFFSET,
  SENDERS_WAITING_OFFSET,
  SEQUENCE_RELEASED_BIT,
  SLOT_FLAGS,
  SLOT_FLAG_NONE,
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  SLOT_OWNER,
  SLOT_OWNER_POSITION,
  SLOT_PID,
  SLOT_SENT_AT,
  SLOT_SEQUENCE,
  TAIL_LAPS_OFFSET,
  TAIL_OFFSET,
  WORD,
  ownerTag,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { MessageTooLargeError, RingFormatError } from '../errors.js';
import { PositionSpace } from './positions.js';
import { recoverClaims, type RecoveryOptions, type RecoveryReport } from './recovery.js';

const HEAD = HEAD_OFFSET / WORD;
const HEAD_LAPS = HEAD_LAPS_OFFSET / WORD;
const TAIL = TAIL_OFFSET / WORD;
const TAIL_LAPS = TAIL_LAPS_OFFSET / WORD;
const RECEIVERS_WAITING = RECEIVERS_WAITING_OFFSET / WORD;
const SENDERS_WAITING = SENDERS_WAITING_OFFSET / WORD;
const LAST_ACTIVITY = LAST_ACTIVITY_OFFSET / 8;
const SEQUENCE_WORD = SLOT_SEQUENCE / WORD;
const LENGTH_WORD = SLOT_LENGTH / WORD;
const PID_WORD = SLOT_PID / WORD;
const FLAGS_WORD = SLOT_FLAGS / WORD;
const OWNER_POSITION_WORD = SLOT_OWNER_POSITION / WORD;
const OWNER_WORD = SLOT_OWNER / WORD;

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
  /** The entry's generation when this process took it (see ownerTag). */
  readonly generation?: number;
}

export interface RingOptions {
  readonly identity?: RingIdentity;
  /** Stamp each message with Date.now() (default true). */
  readonly stamp?: boolean;
}

/** Which side may have a sleeper to wake after an operation. */
export type WakeTarget = 'receivers' | 'senders';
export type Wake = (target: WakeTarget) => void;
/** Messages claimed by hold(): their slots stay taken until ack(). */
export interface HeldBatch {
  readonly messages: readonly Message[];
  /** Frees the slots. Idempotent. */
  ack(): void;
}

export type MessageHandler = (view: Buffer, sequence: number, pid: number, sentAt: number) => void;

export class Ring {
  readonly geometry: RingGeometry;
  readonly memory: Buffer;
  readonly positions: PositionSpace;
  /** Word view over the whole mapping; every shared word is read and written through Atomics. */
  readonly #words: Int32Array;
  readonly #doubles: Float64Array;
  readonly #slotCount: number;
  readonly #slotSize: number;
  readonly #headerLength: number;
  readonly #stride: number;
  readonly #pid: number;
  /** This process's owner tag (entry + 1 and generation; 0: none), as written into owner words. */
  readonly #owner: number;
  readonly #stamp: boolean;
  /** Positions of messages taken over from dead receivers, delivered before anything else. */
  readonly #rescued: number[] = [];
  #claimedPosition = 0;
  /** First position of the run #claimReceiveRun claimed last. */
  #runStart = 0;
  /** First position of the run #claimRun claimed last. */
  #claimStart = 0;
  /** Called after a commit or a release when the other side has sleepers (set by the opener). */
  wake: Wake = () => {};

  constructor(memory: Buffer, geometry: RingGeometry, options: RingOptions = {}) {
    if (memory.byteOffset % 8 !== 0) throw new RangeError('ring memory must be 8-byte aligned');
    if (memory.length < geometry.fileLength) {
      throw new RangeError(`ring memory is ${memory.length} bytes, the geometry needs ${geometry.fileLength}`);
    }
    this.geometry = geometry;
    this.memory = memory;
    this.positions = new PositionSpace(geometry.positionLimit, geometry.slotCount);
    this.#words = new Int32Array(memory.buffer, memory.byteOffset, geometry.fileLength / WORD);
    this.#doubles = new Float64Array(memory.buffer, memory.byteOffset, geometry.fileLength / 8);
    this.#slotCount = geometry.slotCount;
    this.#slotSize = geometry.slotSize;
    this.#headerLength = geometry.headerLength;
    this.#stride = geometry.slotStride;
    this.#pid = options.identity?.pid ?? 0;
    this.#owner = ownerTag(options.identity?.participant ?? -1, options.identity?.generation ?? 0);
    this.#stamp = options.stamp ?? true;
  }

  /** Byte offset of the slot for a position; any word value maps inside the mapping. */
  #slotOf(position: number): number {
    return this.#headerLength + ((position >>> 0) % this.#slotCount) * this.#stride;
  }

  /**
   * Whether a sequence word that says "not yet" can be genuine. A sender at position p may only
   * find last lap's claim (p − N) or message (p − N + 1); a receiver at p may only find p (free,
   * or being written) or last lap's message still held by a receiver (p − N + 1). Anything else
   * was written by no process of this ring, and waiting on it would wait forever.
   */
  #plausibleWait(sequence: number, position: number, side: WakeTarget): boolean {
    const value = sequence & ~SEQUENCE_RELEASED_BIT;
    if (value < 0 || value >= this.positions.limit) return false;
    const behind = this.positions.distance(position, value);
    return side === 'senders' ? behind === this.#slotCount || behind === this.#slotCount - 1 : behind === 0 || behind === this.#slotCount - 1;
  }

  #corruptWait(position: number, sequence: number): RingFormatError {
    return new RingFormatError(`corrupt ring: slot for position ${position} has sequence ${sequence >>> 0}, which no process of this ring writes`);
  }

  #corruptSequence(position: number, sequence: number): RingFormatError {
    return new RingFormatError(`corrupt ring: slot for position ${position} has sequence ${sequence >>> 0}, ahead of every claim`);
  }

  // ---- sending ----

  /** The stamp for messages sent now; one clock read per call or batch (it costs ~100 ns here). */
  #now(): number {
    return this.#stamp ? Date.now() : 0;
  }

  #fill(slot: number, position: number, length: number, sentAt: number): void {
    const words = this.#words;
    const base = slot >> 2;
    words[base + OWNER_POSITION_WORD] = position;
    words[base + OWNER_WORD] = this.#owner;
    words[base + LENGTH_WORD] = length;
    words[base + PID_WORD] = this.#pid;
    words[base + FLAGS_WORD] = SLOT_FLAG_NONE;
    this.#doubles[(slot + SLOT_SENT_AT) >> 3] = sentAt;
  }

  /** Publishes the slot; false when recovery gave the claim up in the meantime. */
  #commit(slot: number, position: number): boolean {
    const words = this.#words;
    const committed =
      Atomics.compareExchange(words, (slot >> 2) + SEQUENCE_WORD, position, this.positions.next(position)) === position;
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
    if (message.length > this.#slotSize) throw new MessageTooLargeError(message.length, this.#slotSize);
    for (;;) {
      if (this.#claimSendRun(1) === 0) return false;
      const position = this.#claimedPosition;
      const slot = this.#slotOf(position);
      this.#fill(slot, position, message.length, this.#now());
      this.memory.set(message, slot + SLOT_HEADER_LENGTH);
      if (this.#commit(slot, position)) return true;
    }
  }

  #trySendString(message: string): boolean {
    // Cheap bound first: a UTF-16 code unit never takes more than 3 UTF-8 bytes.
    if (message.length * 3 > this.#slotSize) {
      const length = Buffer.byteLength(message);
      if (length > this.#slotSize) throw new MessageTooLargeError(length, this.#slotSize);
    }
    for (;;) {
      if (this.#claimSendRun(1) === 0) return false;
      const position = this.#claimedPosition;
      const slot = this.#slotOf(position);
      const written = this.memory.write(message, slot + SLOT_HEADER_LENGTH, this.#slotSize, 'utf8');
      this.#fill(slot, position, written, this.#now());
      if (this.#commit(slot, position)) return true;
    }
  }

  /**
   * Claims up to `max` consecutive slots for one side with one compare-and-swap of its counter
   * (the tail for senders, the head for receivers). A slot is ready for a sender at p when its
   * sequence word reads p, for a receiver when it reads p + 1 (released bit or not). Returns how
   * many were claimed (0: full, or empty); the first position is #claimStart.
   */
  #claimRun(side: WakeTarget, max: number): number {
    const words = this.#words;
    const positions = this.positions;
    const counter = side === 'senders' ? TAIL : HEAD;
    const ahead = side === 'senders' ? 0 : 1;
    const mask = side === 'senders' ? -1 : ~SEQUENCE_RELEASED_BIT;
    let position = Atomics.load(words, counter);
    for (;;) {
      let count = 0;
      let d = 0;
      let sequence = 0;
      for (let p = position; count < max; p = positions.next(p), count++) {
        sequence = Atomics.load(words, (this.#slotOf(p) >> 2) + SEQUENCE_WORD);
        d = positions.distance(sequence & mask, positions.add(p, ahead));
        if (d !== 0) break;
      }
      if (count === 0) {
        if (d < 0) {
          // Full (senders) or empty, or the next message still being written (receivers).
          if (!this.#plausibleWait(sequence, position, side)) throw this.#corruptWait(position, sequence);
          return 0;
        }
        // Another process of this side took it, so the counter has moved; if it has not, the
        // slot's sequence word was written by no process of this ring.
        const current = Atomics.load(words, counter);
        if (current === position) throw this.#corruptSequence(position, sequence);
        position = current;
        continue;
      }
      const end = positions.add(position, count);
      const seen = Atomics.compareExchange(words, counter, position, end);
      if (seen === position) {
        if (end < position) Atomics.add(words, side === 'senders' ? TAIL_LAPS : HEAD_LAPS, 1);
        this.#claimStart = position;
        return count;
      }
      position = seen;
    }
  }

  /** Claims up to `max` free slots; the first position is #claimedPosition. */
  #claimSendRun(max: number): number {
    const count = this.#claimRun('senders', max);
    if (count > 0) this.#claimedPosition = this.#claimStart;
    return count;
  }

  /**
   * Sends as many of `messages` (from `start`) as fit now, claiming a run of slots at a time;
   * returns how many were sent. Every message is checked against the slot size first, so an
   * oversize one throws MessageTooLargeError before anything is sent.
   */
  trySendBatch(messages: ReadonlyArray<Buffer | Uint8Array | string>, start = 0): number {
    for (let i = start; i < messages.length; i++) {
      const message = messages[i]!;
      const length = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
      if (length > this.#slotSize) throw new MessageTooLargeError(length, this.#slotSize);
    }
    let next = start;
    while (next < messages.length) {
      const count = this.#claimSendRun(messages.length - next);
      if (count === 0) break;
      const first = this.#claimedPosition;
      const sentAt = this.#now();
      for (let i = 0; i < count; i++, next++) {
        const position = this.positions.add(first, i);
        const slot = this.#slotOf(position);
        const message = messages[next]!;
        const payload = slot + SLOT_HEADER_LENGTH;
        const length =
          typeof message === 'string'
            ? this.memory.write(message, payload, this.#slotSize, 'utf8')
            : (this.memory.set(message, payload), message.length);
        this.#fill(slot, position, length, sentAt);
        // Recovery gave this claim up after a stall: send the message again on its own.
        if (!this.#commit(slot, position) && !this.trySend(message)) return next - start;
      }
      this.#claimedPosition = this.positions.add(first, count - 1); // for lastSentSequence
    }
    return next - start;
  }

  /** Sequence number of this ring object's most recent successful send. */
  get lastSentSequence(): number {
    return this.#sequenceOf(this.#claimedPosition, TAIL_LAPS, TAIL);
  }

  // ---- receiving ----

  /**
   * Claims up to `max` consecutive committed messages from the head with one compare-and-swap
   * and marks them ours (for recovery, should we die holding them). Returns how many (0 when
   * none); the first position is #runStart. Messages taken over from dead receivers come
   * first, one at a time. Every claimed slot must later be freed with #release.
   */
  #claimReceiveRun(max: number): number {
    if (this.#rescued.length > 0 && this.#claimRescued()) return 1;
    const count = this.#claimRun('receivers', max);
    const words = this.#words;
    for (let i = 0, p = this.#claimStart; i < count; i++, p = this.positions.next(p)) {
      const base = this.#slotOf(p) >> 2;
      // Plain stores: only recovery reads these, and only after the claim has long settled.
      words[base + OWNER_POSITION_WORD] = p;
      words[base + OWNER_WORD] = OWNER_RECEIVER_BIT | this.#owner;
    }
    if (count > 0) this.#runStart = this.#claimStart;
    return count;
  }

  /** Takes the next message handed over from a dead receiver, if it is still ours. */
  #claimRescued(): boolean {
    const words = this.#words;
    while (this.#rescued.length > 0) {
      const position = this.#rescued.shift()!;
      const base = this.#slotOf(position) >> 2;
      const sequence = Atomics.load(words, base + SEQUENCE_WORD);
      const owner = Atomics.load(words, base + OWNER_WORD);
      if ((sequence & ~SEQUENCE_RELEASED_BIT) !== this.positions.next(position)) continue;
      if (owner !== (OWNER_RECEIVER_BIT | this.#owner)) continue;
      this.#runStart = position;
      return true;
    }
    return false;
  }

  /** Frees the slot of a consumed message for the sender one lap ahead. */
  #release(position: number): void {
    const words = this.#words;
    Atomics.store(words, (this.#slotOf(position) >> 2) + SEQUENCE_WORD, this.positions.add(position, this.#slotCount));
    if (Atomics.load(words, SENDERS_WAITING) !== 0 && Atomics.exchange(words, SENDERS_WAITING, 0) !== 0) {
      this.wake('senders');
    }
  }

  /** True when recovery gave this slot's claim up: there is no message to deliver. */
  #isReleased(slot: number): boolean {
    return (Atomics.load(this.#words, (slot >> 2) + SEQUENCE_WORD) & SEQUENCE_RELEASED_BIT) !== 0;
  }

  /** The message length in a claimed slot, or -1 for a value no sender could have written. */
  #lengthAt(slot: number): number {
    const length = this.#words[(slot >> 2) + LENGTH_WORD]!;
    return length < 0 || length > this.#slotSize ? -1 : length;
  }

  #corruptLength(slot: number, position: number): RingFormatError {
    return new RingFormatError(
      `corrupt slot at position ${position}: length ${this.#words[(slot >> 2) + LENGTH_WORD]} exceeds the ${this.#slotSize}-byte slot; the message was skipped`,
    );
  }

  /**
   * Claims the next deliverable message (skipping released claims; a corrupt one is freed and
   * reported). Returns its slot offset, its position in #runStart, or -1 when there is none.
   */
  #takeOne(): number {
    for (;;) {
      if (this.#claimReceiveRun(1) === 0) return -1;
      const position = this.#runStart;
      const slot = this.#slotOf(position);
      if (this.#isReleased(slot)) {
        this.#release(position);
        continue;
      }
      if (this.#lengthAt(slot) < 0) {
        const error = this.#corruptLength(slot, position);
        this.#release(position);
        throw error;
      }
      return slot;
    }
  }

  #pidAt(slot: number): number {
    return this.#words[(slot >> 2) + PID_WORD]! >>> 0;
  }

  #sentAtOf(slot: number): number {
    return this.#doubles[(slot + SLOT_SENT_AT) >> 3]!;
  }

  #copyOut(slot: number, position: number): Message {
    const length = this.#lengthAt(slot);
    const start = slot + SLOT_HEADER_LENGTH;
    const data = Buffer.allocUnsafe(length);
    this.memory.copy(data, 0, start, start + length);
    return { data, sequence: this.#sequenceOf(position, HEAD_LAPS, HEAD), pid: this.#pidAt(slot), sentAt: this.#sentAtOf(slot) };
  }

  /** Takes the oldest message, or returns null when there is none. */
  tryReceive(): Message | null {
    const slot = this.#takeOne();
    if (slot < 0) return null;
    const position = this.#runStart;
    const message = this.#copyOut(slot, position);
    this.#release(position);
    return message;
  }

  /**
   * Takes the oldest message into `target` (at `offset`) without allocating: returns its length,
   * or -1 when there is none. The sender's pid and stamp are then in lastPid and lastSentAt, its
   * sequence number in lastReceivedSequence. `target` must have room for the largest message
   * (maxMessageLength bytes from `offset`), else RangeError and nothing is taken.
   */
  tryReceiveInto(target: Uint8Array, offset = 0): number {
    if (target.length - offset < this.#slotSize) {
      throw new RangeError(
        `target has ${target.length - offset} bytes from offset ${offset}; messages in this ring take up to ${this.#slotSize}`,
      );
    }
    const slot = this.#takeOne();
    if (slot < 0) return -1;
    const position = this.#runStart;
    const length = this.#lengthAt(slot);
    const start = slot + SLOT_HEADER_LENGTH;
    for (let i = 0; i < length; i++) target[offset + i] = this.memory[start + i]!;
    this.lastPid = this.#pidAt(slot);
    this.lastSentAt = this.#sentAtOf(slot);
    this.#lastReceived = position;
    this.#release(position);
    return length;
  }

  /** Sender pid of the message tryReceiveInto returned last. */
  lastPid = 0;
  /** Stamp (ms since the epoch, 0 if none) of the message tryReceiveInto returned last. */
  lastSentAt = 0;
  #lastReceived = 0;

  /** Sequence number of the message tryReceiveInto returned last. */
  get lastReceivedSequence(): number {
    return this.#sequenceOf(this.#lastReceived, HEAD_LAPS, HEAD);
  }

  /**
   * Takes the oldest message and hands `handler` a view of it inside the slot, with no copy.
   * The slot is freed only after `handler` returns, so a receiver that dies inside `handler`
   * leaves the message for recovery. The view must not be kept. Returns false when empty.
   */
  tryReceiveWith(handler: MessageHandler): boolean {
    const slot = this.#takeOne();
    if (slot < 0) return false;
    const position = this.#runStart;
    const start = slot + SLOT_HEADER_LENGTH;
    try {
      handler(
        this.memory.subarray(start, start + this.#lengthAt(slot)),
        this.#sequenceOf(position, HEAD_LAPS, HEAD),
        this.#pidAt(slot),
        this.#sentAtOf(slot),
      );
    } finally {
      this.#release(position);
    }
    return true;
  }

  /**
   * Claims up to `max` messages, hands each to `handler` as a view inside its slot, then calls
   * `done` (if given) while all are still held, and only then frees the slots: a receiver that
   * writes the messages out in `done` and dies before it returns leaves them for recovery.
   * If `handler` or `done` throws, no slot is freed: the messages stay claimed by this ring
   * object and come first next time (or, if this process dies, go to another receiver).
   * Returns how many messages were handed to `handler`.
   */
  tryReceiveBatchWith(max: number, handler: MessageHandler, done?: () => void): number {
    return this.tryReceiveBatchRaw(
      max,
      (buffer, offset, length, position) => {
        const slot = offset - SLOT_HEADER_LENGTH;
        handler(buffer.subarray(offset, offset + length), this.#sequenceOf(position, HEAD_LAPS, HEAD), this.#pidAt(slot), this.#sentAtOf(slot));
      },
      done,
    );
  }

  /**
   * tryReceiveBatchWith without allocating per message: `handler` gets the mapping, the
   * message's offset and length in it, and its ring position (see sequenceOf).
   */
  tryReceiveBatchRaw(
    max: number,
    handler: (buffer: Buffer, offset: number, length: number, position: number) => void,
    done?: () => void,
  ): number {
    const held: number[] = [];
    while (held.length < max) {
      const count = this.#claimReceiveRun(max - held.length);
      if (count === 0) break;
      for (let i = 0; i < count; i++) held.push(this.positions.add(this.#runStart, i));
    }
    let handled = 0;
    let finished = false;
    let corrupt: RingFormatError | undefined;
    try {
      for (const position of held) {
        const slot = this.#slotOf(position);
        if (this.#isReleased(slot)) continue;
        const length = this.#lengthAt(slot);
        if (length < 0) {
          corrupt ??= this.#corruptLength(slot, position);
          continue;
        }
        handler(this.memory, slot + SLOT_HEADER_LENGTH, length, position);
        handled++;
      }
      if (handled > 0) done?.();
      finished = true;
    } finally {
      if (finished) for (const position of held) this.#release(position);
      else this.#rescued.push(...held);
    }
    if (corrupt) throw corrupt;
    return handled;
  }

  /**
   * Hands up to `max` waiting messages to `handler` as (buffer, offset, length) within the
   * mapping — no copy, no allocation — freeing each slot when `handler` returns (Agrona's read
   * loop). If `handler` throws, its message and the rest of the run stay claimed by this ring
   * object and come first next time. Returns how many messages were handled.
   */
  drain(handler: (buffer: Buffer, offset: number, length: number) => void, max = Infinity): number {
    let handled = 0;
    while (handled < max) {
      const count = this.#claimReceiveRun(Math.min(max - handled, this.#slotCount));
      if (count === 0) break;
      const first = this.#runStart;
      let next = 0; // claimed positions from `first + next` on are not freed yet
      try {
        for (; next < count; ) {
          const position = this.positions.add(first, next);
          const slot = this.#slotOf(position);
          const length = this.#isReleased(slot) ? -2 : this.#lengthAt(slot);
          if (length === -1) {
            const error = this.#corruptLength(slot, position);
            this.#release(position);
            next++;
            throw error;
          }
          if (length >= 0) handler(this.memory, slot + SLOT_HEADER_LENGTH, length);
          this.#release(position);
          next++;
          if (length >= 0) handled++;
        }
      } finally {
        // The handler threw: what it had not finished stays ours, to hand out next time.
        for (let j = next; j < count; j++) this.#rescued.push(this.positions.add(first, j));
      }
    }
    return handled;
  }

  /**
   * Receives up to `max` messages now (copies); returns them, possibly none. A corrupt slot is
   * skipped; it is reported (RingFormatError) only when nothing else was received.
   */
  tryReceiveBatch(max: number): Message[] {
    const batch: Message[] = [];
    let corrupt: RingFormatError | undefined;
    while (batch.length < max) {
      const count = this.#claimReceiveRun(max - batch.length);
      if (count === 0) break;
      const first = this.#runStart;
      for (let i = 0; i < count; i++) {
        const position = this.positions.add(first, i);
        const slot = this.#slotOf(position);
        if (!this.#isReleased(slot)) {
          if (this.#lengthAt(slot) < 0) corrupt ??= this.#corruptLength(slot, position);
          else batch.push(this.#copyOut(slot, position));
        }
        this.#release(position);
      }
    }
    if (corrupt && batch.length === 0) throw corrupt;
    return batch;
  }


  // ---- holding (the bridge's export: free a slot only after the engine has the message) ----

  /**
   * Claims up to `max` waiting messages for this ring object and copies them out WITHOUT freeing
   * their slots; null when none. The slots are freed by the batch's ack(); a process that dies
   * before it leaves them to recovery, which hands them to another receiver (at least once).
   * Messages taken over from a dead receiver come first, oldest first. At most one batch may be
   * held at a time. (v1 stand-in for the v2 group API of the same name.)
   */
  hold(max: number): HeldBatch | null {
    if (this.#held) throw new Error('hold: a batch is already held; ack it before holding another');
    // Recovery lists rescued positions newest first; hand them out in ring order.
    if (this.#rescued.length > 1) this.#rescued.sort((a, b) => this.positions.distance(a, b));
    const held: number[] = [];
    while (held.length < max) {
      const count = this.#claimReceiveRun(max - held.length);
      if (count === 0) break;
      for (let i = 0; i < count; i++) held.push(this.positions.add(this.#runStart, i));
    }
    if (held.length === 0) return null;
    const messages: Message[] = [];
    let corrupt: RingFormatError | undefined;
    for (const position of held) {
      const slot = this.#slotOf(position);
      if (this.#isReleased(slot)) continue;
      if (this.#lengthAt(slot) < 0) corrupt ??= this.#corruptLength(slot, position);
      else messages.push(this.#copyOut(slot, position));
    }
    const release = () => {
      for (const position of held) this.#release(position);
    };
    if (messages.length === 0) {
      release();
      if (corrupt) throw corrupt;
      return null;
    }
    this.#held = held;
    let acked = false;
    return {
      messages,
      ack: () => {
        if (acked) return;
        acked = true;
        this.#held = undefined;
        release();
      },
    };
  }

  /** Positions of the batch hold() handed out and not yet acked. */
  #held: number[] | undefined;

  /**
   * Messages behind the head that another receiver (or one recovery cannot name yet) still
   * holds: claimed, not freed, not ours. A sole receiver that must keep ring order (the bridge's
   * export) waits for these to be rescued before it takes newer ones. (v1 stand-in.)
   */
  get heldElsewhere(): number {
    const words = this.#words;
    const head = Atomics.load(words, HEAD);
    let count = 0;
    for (let back = 1; back <= this.#slotCount; back++) {
      const position = this.positions.add(head, -back);
      const base = this.#slotOf(position) >> 2;
      if ((Atomics.load(words, base + SEQUENCE_WORD) & ~SEQUENCE_RELEASED_BIT) !== this.positions.next(position)) continue;
      if (Atomics.load(words, base + OWNER_WORD) === (OWNER_RECEIVER_BIT | this.#owner) && this.#owner !== 0) continue;
      count++;
    }
    return count;
  }

  /**
   * Count of positions since creation: laps * L + position. Exact except within the instant
   * around a wrap of the 2^30 position space, where the laps word is bumped just after the claim.
   */
  #sequenceOf(position: number, lapsIndex: number, positionIndex: number): number {
    let laps = Atomics.load(this.#words, lapsIndex);
    const current = Atomics.load(this.#words, positionIndex);
    const half = this.positions.limit / 2;
    if (position >= half && current < half && laps > 0) laps--; // bumped already, we were before the wrap
    return laps * this.positions.limit + position;
  }

  // ---- recovery ----

  /**
   * Looks for claims whose owner died (or stalled past the timeout): gives up a dead sender's
   * claim at the head so receivers move past it, and takes over messages held by dead
   * receivers so that this process delivers them next. See ./recovery.ts.
   */
  recover(options: RecoveryOptions): RecoveryReport {
    const report = recoverClaims(this.memory, this.geometry, this.positions, this.#owner, options);
    this.#rescued.push(...report.rescued);
    if (report.released > 0) this.wake('receivers');
    return report;
  }

  // ---- state for sleeping and for display ----

  /** Messages committed or in flight: tail - head. */
  get occupancy(): number {
    const tail = Atomics.load(this.#words, TAIL);
    const head = Atomics.load(this.#words, HEAD);
    const d = this.positions.distance(tail, head);
    return d < 0 ? 0 : d > this.#slotCount ? this.#slotCount : d;
  }

  get capacity(): number {
    return this.#slotCount;
  }

  /** The largest message, in bytes. */
  get maxMessageLength(): number {
    return this.#slotSize;
  }

  /** True when a message can be taken now (at the head, or taken over from a dead receiver). */
  get hasMessage(): boolean {
    if (this.#rescued.length > 0) return true;
    const words = this.#words;
    const position = Atomics.load(words, HEAD);
    const sequence = Atomics.load(words, (this.#slotOf(position) >> 2) + SEQUENCE_WORD);
    // A corrupt word reads as "yes", so that the receive that follows reports it.
    return (
      this.positions.distance(sequence & ~SEQUENCE_RELEASED_BIT, this.positions.next(position)) >= 0 ||
      !this.#plausibleWait(sequence, position, 'receivers')
    );
  }

  /** True when the slot at the tail is free. */
  get hasRoom(): boolean {
    const words = this.#words;
    const position = Atomics.load(words, TAIL);
    const sequence = Atomics.load(words, (this.#slotOf(position) >> 2) + SEQUENCE_WORD);
    // A corrupt word reads as "yes", so that the send that follows reports it.
    return this.positions.distance(sequence, position) >= 0 || !this.#plausibleWait(sequence, position, 'senders');
  }

  /** Total messages claimed by senders and by receivers since creation. */
  get totals(): { sent: number; received: number } {
    const words = this.#words;
    const limit = this.positions.limit;
    return {
      sent: Atomics.load(words, TAIL_LAPS) * limit + Atomics.load(words, TAIL),
      received: Atomics.load(words, HEAD_LAPS) * limit + Atomics.load(words, HEAD),
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
