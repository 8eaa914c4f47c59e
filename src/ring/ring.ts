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
}

export interface RingOptions {
  readonly identity?: RingIdentity;
  /** Stamp each message with Date.now() (default true). */
  readonly stamp?: boolean;
}

/** Which side may have a sleeper to wake after an operation. */
export type WakeTarget = 'receivers' | 'senders';
export type Wake = (target: WakeTarget) => void;
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
  /** This process's participant entry + 1 (0: none), as written into owner words. */
  readonly #owner: number;
  readonly #stamp: boolean;
  /** Positions of messages taken over from dead receivers, delivered before anything else. */
  readonly #rescued: number[] = [];
  #claimedPosition = 0;
  #receivedPosition = 0;
  #receivedReleased = false;
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
    this.#owner = (options.identity?.participant ?? -1) + 1;
    this.#stamp = options.stamp ?? true;
  }

  /** Byte offset of the slot for a position; any word value maps inside the mapping. */
  #slotOf(position: number): number {
    return this.#headerLength + ((position >>> 0) % this.#slotCount) * this.#stride;
  }

  #corruptSequence(position: number, sequence: number): RingFormatError {
    return new RingFormatError(`corrupt ring: slot for position ${position} has sequence ${sequence >>> 0}, ahead of every claim`);
  }

  // ---- sending ----

  /**
   * Claims the next free slot: returns its byte offset (and sets #claimedPosition), or -1 when
   * the ring is full. The caller fills the slot and calls #commit.
   */
  #claimSend(): number {
    const words = this.#words;
    const positions = this.positions;
    let position = Atomics.load(words, TAIL);
    for (;;) {
      const slot = this.#slotOf(position);
      const sequence = Atomics.load(words, (slot >> 2) + SEQUENCE_WORD);
      const d = positions.distance(sequence, position);
      if (d === 0) {
        const next = positions.next(position);
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

  #fill(slot: number, position: number, length: number): void {
    const words = this.#words;
    const base = slot >> 2;
    words[base + OWNER_POSITION_WORD] = position;
    words[base + OWNER_WORD] = this.#owner;
    words[base + LENGTH_WORD] = length;
    words[base + PID_WORD] = this.#pid;
    words[base + FLAGS_WORD] = SLOT_FLAG_NONE;
    this.#doubles[(slot + SLOT_SENT_AT) >> 3] = this.#stamp ? Date.now() : 0;
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
      const slot = this.#claimSend();
      if (slot < 0) return false;
      const position = this.#claimedPosition;
      this.#fill(slot, position, message.length);
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
      const slot = this.#claimSend();
      if (slot < 0) return false;
      const position = this.#claimedPosition;
      const written = this.memory.write(message, slot + SLOT_HEADER_LENGTH, this.#slotSize, 'utf8');
      this.#fill(slot, position, written);
      if (this.#commit(slot, position)) return true;
    }
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

  /** Sequence number of this ring object's most recent successful send. */
  get lastSentSequence(): number {
    return this.#sequenceOf(this.#claimedPosition, TAIL_LAPS, TAIL);
  }

  // ---- receiving ----

  /**
   * Claims the oldest committed message: returns the slot's byte offset (and sets
   * #receivedPosition), or -1 when there is none. The caller reads it, then calls #release.
   */
  #claimReceive(): number {
    if (this.#rescued.length > 0) return this.#claimRescued();
    const words = this.#words;
    const positions = this.positions;
    let position = Atomics.load(words, HEAD);
    for (;;) {
      const slot = this.#slotOf(position);
      const sequence = Atomics.load(words, (slot >> 2) + SEQUENCE_WORD);
      const next = positions.next(position);
      const d = positions.distance(sequence & ~SEQUENCE_RELEASED_BIT, next);
      if (d === 0) {
        const seen = Atomics.compareExchange(words, HEAD, position, next);
        if (seen === position) {
          if (next === 0) Atomics.add(words, HEAD_LAPS, 1);
          // Mark the claim as ours, for recovery should we die before releasing it.
          words[(slot >> 2) + OWNER_POSITION_WORD] = position;
          Atomics.store(words, (slot >> 2) + OWNER_WORD, OWNER_RECEIVER_BIT | this.#owner);
          this.#receivedPosition = position;
          this.#receivedReleased = (sequence & SEQUENCE_RELEASED_BIT) !== 0;
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

  /** Next message taken over from a dead receiver, if it is still ours. */
  #claimRescued(): number {
    const words = this.#words;
    while (this.#rescued.length > 0) {
      const position = this.#rescued.shift()!;
      const slot = this.#slotOf(position);
      const sequence = Atomics.load(words, (slot >> 2) + SEQUENCE_WORD);
      const owner = Atomics.load(words, (slot >> 2) + OWNER_WORD);
      if ((sequence & ~SEQUENCE_RELEASED_BIT) !== this.positions.next(position)) continue;
      if (owner !== (OWNER_RECEIVER_BIT | this.#owner)) continue;
      this.#receivedPosition = position;
      this.#receivedReleased = (sequence & SEQUENCE_RELEASED_BIT) !== 0;
      return slot;
    }
    return this.#claimReceive();
  }

  /** Frees the slot of a consumed message for the sender one lap ahead. */
  #release(slot: number, position: number): void {
    const words = this.#words;
    Atomics.store(words, (slot >> 2) + SEQUENCE_WORD, this.positions.add(position, this.#slotCount));
    if (Atomics.load(words, SENDERS_WAITING) !== 0 && Atomics.exchange(words, SENDERS_WAITING, 0) !== 0) {
      this.wake('senders');
    }
  }

  /** Length of the message in a claimed slot; a value no sender could write is corruption. */
  #lengthOf(slot: number, position: number): number {
    const length = this.#words[(slot >> 2) + LENGTH_WORD]!;
    if (length < 0 || length > this.#slotSize) {
      this.#release(slot, position);
      throw new RingFormatError(
        `corrupt slot at position ${position}: length ${length} exceeds the ${this.#slotSize}-byte slot; the message was skipped`,
      );
    }
    return length;
  }

  /**
   * Claims the next deliverable message, skipping slots that recovery released. Returns the
   * slot's byte offset, or -1 when there is none.
   */
  #claimDeliverable(): number {
    for (;;) {
      const slot = this.#claimReceive();
      if (slot < 0 || !this.#receivedReleased) return slot;
      this.#release(slot, this.#receivedPosition);
    }
  }

  /** Takes the oldest message, or returns null when there is none. */
  tryReceive(): Message | null {
    const slot = this.#claimDeliverable();
    if (slot < 0) return null;
    const position = this.#receivedPosition;
    const length = this.#lengthOf(slot, position);
    const start = slot + SLOT_HEADER_LENGTH;
    const data = Buffer.allocUnsafe(length);
    this.memory.copy(data, 0, start, start + length);
    const message: Message = {
      data,
      sequence: this.#sequenceOf(position, HEAD_LAPS, HEAD),
      pid: this.#words[(slot >> 2) + PID_WORD]! >>> 0,
      sentAt: this.#doubles[(slot + SLOT_SENT_AT) >> 3]!,
    };
    this.#release(slot, position);
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
    const slot = this.#claimDeliverable();
    if (slot < 0) return -1;
    const position = this.#receivedPosition;
    const length = this.#lengthOf(slot, position);
    const start = slot + SLOT_HEADER_LENGTH;
    target.set(this.memory.subarray(start, start + length), offset);
    this.lastPid = this.#words[(slot >> 2) + PID_WORD]! >>> 0;
    this.lastSentAt = this.#doubles[(slot + SLOT_SENT_AT) >> 3]!;
    this.#release(slot, position);
    return length;
  }

  /** Sender pid of the message tryReceiveInto returned last. */
  lastPid = 0;
  /** Stamp (ms since the epoch, 0 if none) of the message tryReceiveInto returned last. */
  lastSentAt = 0;

  /** Sequence number of the message this ring object received last. */
  get lastReceivedSequence(): number {
    return this.#sequenceOf(this.#receivedPosition, HEAD_LAPS, HEAD);
  }

  /**
   * Takes the oldest message and hands `handler` a view of it inside the slot, with no copy.
   * The slot is freed only after `handler` returns, so a receiver that dies inside `handler`
   * leaves the message for recovery. The view must not be kept. Returns false when empty.
   */
  tryReceiveWith(handler: MessageHandler): boolean {
    const slot = this.#claimDeliverable();
    if (slot < 0) return false;
    const position = this.#receivedPosition;
    const length = this.#lengthOf(slot, position); // frees the slot itself if it throws
    const start = slot + SLOT_HEADER_LENGTH;
    try {
      handler(
        this.memory.subarray(start, start + length),
        this.#sequenceOf(position, HEAD_LAPS, HEAD),
        this.#words[(slot >> 2) + PID_WORD]! >>> 0,
        this.#doubles[(slot + SLOT_SENT_AT) >> 3]!,
      );
    } finally {
      this.#release(slot, position);
    }
    return true;
  }

  /**
   * Claims up to `max` messages, hands each to `handler` as a view inside its slot, then calls
   * `done` (if given) while all are still held, and only then frees the slots: a receiver that
   * writes the messages out in `done` and dies before it returns leaves them for recovery.
   * Returns how many messages were handled.
   */
  tryReceiveBatchWith(max: number, handler: MessageHandler, done?: () => void): number {
    const held: number[] = [];
    try {
      while (held.length < max * 2) {
        const slot = this.#claimDeliverable();
        if (slot < 0) break;
        const position = this.#receivedPosition;
        const length = this.#lengthOf(slot, position);
        held.push(slot, position);
        const start = slot + SLOT_HEADER_LENGTH;
        handler(
          this.memory.subarray(start, start + length),
          this.#sequenceOf(position, HEAD_LAPS, HEAD),
          this.#words[(slot >> 2) + PID_WORD]! >>> 0,
          this.#doubles[(slot + SLOT_SENT_AT) >> 3]!,
        );
      }
      if (held.length > 0) done?.();
    } finally {
      for (let i = 0; i < held.length; i += 2) this.#release(held[i]!, held[i + 1]!);
    }
    return held.length / 2;
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
    return this.positions.distance(sequence & ~SEQUENCE_RELEASED_BIT, this.positions.next(position)) >= 0;
  }

  /** True when the slot at the tail is free. */
  get hasRoom(): boolean {
    const words = this.#words;
    const position = Atomics.load(words, TAIL);
    const sequence = Atomics.load(words, (this.#slotOf(position) >> 2) + SEQUENCE_WORD);
    return this.positions.distance(sequence, position) >= 0;
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
