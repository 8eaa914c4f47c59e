/**
 * The sending side: claim a run of positions at the tail, write the messages, publish each by
 * storing its sequence word last. Pure: it sees the ring's memory and nothing else.
 *
 * A claim has a findable owner before it exists: the sender records its intent (first position
 * and count) in its participant entry, and only then moves the tail by compare-and-swap. Only a
 * proven-dead owner's claim is ever released (by recovery), so a live sender — however long it is
 * stopped — publishes its claim with plain stores and never finds it taken.
 *
 * Position q may be claimed when (a) the slot of q still speaks for q - N and is not being written
 * (last lap's message is published, or the slot is fresh), and (b) q < gate + N, where the gate
 * is the lowest floor of the lossless groups (see groups.ts). The gate is cached and looked at
 * again only when it no longer leaves room, or when the tail's gate epoch changed.
 */
import { MessageTooLargeError, RingFormatError } from '../errors.js';
import {
  EPOCH_UNIT,
  MEMBERS_WAITING_OFFSET,
  PARTICIPANT_INTENT_COUNT,
  PARTICIPANT_INTENT_SINCE,
  PARTICIPANT_INTENT_START,
  POSITION_MASK,
  SEQUENCE_RELEASED_BIT,
  SEQUENCE_VALUE_MASK,
  SLOT_FLAGS,
  SLOT_FLAG_NONE,
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  SLOT_OWNER,
  SLOT_PID,
  SLOT_SENT_AT,
  SLOT_SEQUENCE,
  TAIL_OFFSET,
  participantOffset,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { computeGate } from './groups.js';
import type { Fault } from './fault.js';
import { storePositionPlain, type RingViews } from './views.js';
import { takeSleepers } from './wait-word.js';

const TAIL = TAIL_OFFSET >> 3;
const MEMBERS_WAITING = MEMBERS_WAITING_OFFSET >> 2;
const SEQUENCE_WORD = SLOT_SEQUENCE >> 2;
const LENGTH_WORD = SLOT_LENGTH >> 2;
const PID_WORD = SLOT_PID >> 2;
const FLAGS_WORD = SLOT_FLAGS >> 2;
const OWNER_WORD = SLOT_OWNER >> 2;
const BIG = Array.from({ length: 1025 }, (_, i) => BigInt(i));

export type Payload = Buffer | Uint8Array | string;

export class Sender {
  readonly #views: RingViews;
  readonly #geometry: RingGeometry;
  readonly #words: Int32Array;
  readonly #longs: BigUint64Array;
  readonly #doubles: Float64Array;
  readonly #memory: Buffer;
  readonly #slotCount: number;
  readonly #slotSize: number;
  readonly #headerLength: number;
  readonly #stride: number;
  readonly #pid: number;
  readonly #owner: number;
  /** Word index of this process's intent count, or -1 without a participant entry. */
  readonly #intentCount: number;
  /** Int32 index of the intent start's low half (the high half follows). */
  readonly #intentStartLow: number;
  readonly #intentSince: number;
  readonly #stamp: boolean;
  readonly #fault: Fault | undefined;
  /** The tail word's epoch bits when #gate was computed, and the gate itself. */
  #epoch = -1n;
  #epochEnd = -1n;
  #gate = -Infinity;
  /** First position of the last claim, and of the last message sent. */
  #claimStart = 0;
  #lastSent = -1;
  /** Called after a publish when members may be asleep. */
  wake: () => void = () => {};

  constructor(views: RingViews, geometry: RingGeometry, identity: SenderIdentity) {
    this.#views = views;
    this.#geometry = geometry;
    this.#words = views.words;
    this.#longs = views.longs;
    this.#doubles = views.doubles;
    this.#memory = views.memory;
    this.#slotCount = geometry.slotCount;
    this.#slotSize = geometry.slotSize;
    this.#headerLength = geometry.headerLength;
    this.#stride = geometry.slotStride;
    this.#pid = identity.pid;
    this.#owner = identity.owner;
    const entry = identity.participant < 0 ? -1 : participantOffset(identity.participant);
    this.#intentCount = entry < 0 ? -1 : (entry + PARTICIPANT_INTENT_COUNT) >> 2;
    this.#intentStartLow = (entry + PARTICIPANT_INTENT_START) >> 2;
    this.#intentSince = (entry + PARTICIPANT_INTENT_SINCE) >> 3;
    this.#stamp = identity.stamp;
    this.#fault = identity.fault;
  }

  #slotOf(position: number): number {
    return this.#headerLength + (position % this.#slotCount) * this.#stride;
  }

  #now(): number {
    return this.#stamp ? Date.now() : 0;
  }

  /** Positions from `tail` that the cached gate leaves room for. */
  #room(tail: number): number {
    return this.#gate + this.#slotCount - tail;
  }

  /**
   * Claims up to `max` consecutive positions at the tail with one compare-and-swap, its intent
   * recorded first. Returns how many (0: the ring is full for now); the first is #claimStart.
   */
  #claim(max: number, now: number): number {
    const words = this.#words;
    const longs = this.#longs;
    const slotCount = this.#slotCount;
    for (;;) {
      const word = Atomics.load(longs, TAIL);
      if (word < this.#epoch || word >= this.#epochEnd) {
        this.#epoch = word & ~POSITION_MASK;
        this.#epochEnd = this.#epoch + EPOCH_UNIT;
        this.#gate = computeGate(this.#views, this.#geometry);
      }
      const tail = Number(word - this.#epoch);
      // The cached gate only ever understates the room (floors only rise between epochs), so it
      // is looked at again only once it leaves none: about once per N messages at full speed.
      let limit = this.#room(tail);
      if (limit <= 0) {
        this.#gate = computeGate(this.#views, this.#geometry);
        limit = this.#room(tail);
        if (limit <= 0) return 0;
      }
      if (limit > max) limit = max;
      let count = 0;
      let sequence = 0;
      for (let q = tail; count < limit; q++, count++) {
        sequence = Atomics.load(words, (this.#slotOf(q) >> 2) + SEQUENCE_WORD);
        // Free for q: the slot speaks for q - N (published, released, or fresh), not being written.
        if ((sequence & ~SEQUENCE_RELEASED_BIT) !== ((q - slotCount + 1) & SEQUENCE_VALUE_MASK)) break;
      }
      if (count === 0) {
        const value = sequence & SEQUENCE_VALUE_MASK;
        // Last lap's message claimed and not yet published (or, from a writer that marks it, busy): full for now.
        // Not on a fresh slot (tail < N): no one ever claimed a position before 0, so such a word is corrupt.
        if (tail >= slotCount && (value === ((tail - slotCount + 1) & SEQUENCE_VALUE_MASK) || value === ((tail - 2 * slotCount + 1) & SEQUENCE_VALUE_MASK))) return 0;
        if (Atomics.load(longs, TAIL) !== word) continue; // another sender claimed it: look again
        // The tail has not moved, so no sender claimed `tail`: a word for it (or any other) is corrupt.
        throw new RingFormatError(`corrupt ring: the slot for position ${tail} has sequence word ${sequence >>> 0}, which no process of this ring writes`);
      }
      if (this.#intentCount >= 0) {
        // Plain stores, published by the count's store.
        storePositionPlain(words, this.#intentStartLow, tail);
        this.#doubles[this.#intentSince] = now;
        Atomics.store(words, this.#intentCount, count);
      }
      this.#fault?.('send-intent');
      if (Atomics.compareExchange(longs, TAIL, word, word + (count < BIG.length ? BIG[count]! : BigInt(count))) !== word) continue;
      this.#fault?.('send-claimed');
      this.#claimStart = tail;
      return count;
    }
  }

  /**
   * Writes one claimed position's message and publishes it by storing its sequence word last.
   * Until then the slot still reads last lap's word, so a member takes nothing from it. No mark
   * comes before the payload: a reader that does not gate senders (a lossy group, peek) learns
   * that a slot may have changed under it from the tail (claimed past its position + N), not from
   * the slot — one fenced store per message instead of two, which halves the sender's cost.
   */
  #write(position: number, message: Payload, sentAt: number): void {
    const words = this.#words;
    const slot = this.#slotOf(position);
    const base = slot >> 2;
    words[base + OWNER_WORD] = this.#owner;
    const payload = slot + SLOT_HEADER_LENGTH;
    let length: number;
    if (typeof message === 'string') {
      length = this.#memory.write(message, payload, this.#slotSize, 'utf8');
    } else if (this.#fault !== undefined && message.length > 1) {
      const half = message.length >> 1;
      this.#memory.set(message.subarray(0, half), payload);
      this.#fault('send-payload');
      this.#memory.set(message.subarray(half), payload + half);
      length = message.length;
    } else {
      this.#memory.set(message, payload);
      length = message.length;
    }
    words[base + LENGTH_WORD] = length;
    words[base + PID_WORD] = this.#pid;
    words[base + FLAGS_WORD] = SLOT_FLAG_NONE;
    this.#doubles[(slot + SLOT_SENT_AT) >> 3] = sentAt;
    this.#fault?.('send-publish');
    Atomics.store(words, base + SEQUENCE_WORD, (position + 1) & SEQUENCE_VALUE_MASK);
  }

  /** After a run is published: the intent is void, and sleeping members are woken. */
  #finish(last: number): void {
    if (this.#intentCount >= 0) Atomics.store(this.#words, this.#intentCount, 0);
    this.#lastSent = last;
    const words = this.#words;
    if (takeSleepers(words, MEMBERS_WAITING)) this.wake();
  }

  #checkSize(message: Payload): void {
    if (typeof message === 'string') {
      // Cheap bound first: a UTF-16 code unit never takes more than 3 UTF-8 bytes.
      if (message.length * 3 <= this.#slotSize) return;
      const length = Buffer.byteLength(message);
      if (length > this.#slotSize) throw new MessageTooLargeError(length, this.#slotSize);
    } else if (message.length > this.#slotSize) {
      throw new MessageTooLargeError(message.length, this.#slotSize);
    }
  }

  /** Sends one message if there is room: false when full; MessageTooLargeError (ring untouched) when it cannot fit. */
  trySend(message: Payload): boolean {
    this.#checkSize(message);
    const now = this.#now();
    if (this.#claim(1, now) === 0) return false;
    const position = this.#claimStart;
    this.#write(position, message, now);
    this.#finish(position);
    return true;
  }

  /**
   * Sends as many of `messages` (from `start`) as fit now, a run of positions per claim; returns
   * how many were sent. Every message is checked against the slot size first.
   */
  trySendBatch(messages: ReadonlyArray<Payload>, start = 0): number {
    for (let i = start; i < messages.length; i++) this.#checkSize(messages[i]!);
    let next = start;
    while (next < messages.length) {
      const now = this.#now();
      const count = this.#claim(messages.length - next, now);
      if (count === 0) break;
      const first = this.#claimStart;
      for (let i = 0; i < count; i++) this.#write(first + i, messages[next + i]!, now);
      next += count;
      this.#finish(first + count - 1);
    }
    return next - start;
  }

  /** True when a claim at the tail would find room now. */
  get hasRoom(): boolean {
    const word = Atomics.load(this.#longs, TAIL);
    const tail = Number(word & POSITION_MASK);
    const gate = computeGate(this.#views, this.#geometry);
    if (gate + this.#slotCount - tail <= 0) return false;
    const sequence = Atomics.load(this.#words, (this.#slotOf(tail) >> 2) + SEQUENCE_WORD);
    return (sequence & ~SEQUENCE_RELEASED_BIT) === ((tail - this.#slotCount + 1) & SEQUENCE_VALUE_MASK) || Atomics.load(this.#longs, TAIL) !== word;
  }

  /** Sequence number (position) of this sender's most recent message; -1 before the first. */
  get lastSentSequence(): number {
    return this.#lastSent;
  }
}

export interface SenderIdentity {
  readonly pid: number;
  /** Participant entry index, -1 without one (its claims then have no findable owner). */
  readonly participant: number;
  /** The owner tag written into claimed slots. */
  readonly owner: number;
  readonly stamp: boolean;
  readonly fault?: Fault;
}
