/**
 * The sending side: claim a run of positions at the tail, write the messages, publish each by
 * storing its sequence word last. Pure: it sees the ring's memory and nothing else.
 *
 * A message occupies `span` consecutive slots (its header and payload, contiguous), never split
 * across the end of the ring: a claim that would cross it first pads the slots up to the end with
 * skip records. A claim has a findable owner before it exists: the sender records its intent
 * (first position and count) in its participant entry, and only then moves the tail by
 * compare-and-swap. Only a proven-dead owner's claim is ever released (by recovery), so a live
 * sender — however long it is stopped — publishes its claim with plain stores and never finds it
 * taken.
 *
 * Position q may be claimed when (a) the sequence word of q's slot still speaks for q - N (last
 * lap's message, skip record or padding is published, or the slot is fresh), and (b) q < gate + N,
 * where the gate is the lowest floor of the lossless groups (see groups.ts). The gate is cached
 * and looked at again only when it no longer leaves room, or when the tail's gate epoch changed.
 */
import { MessageTooLargeError, MmapipcError, RingFormatError } from '../errors.js';
import {
  EPOCH_UNIT,
  MEMBERS_WAITING_OFFSET,
  MESSAGES_SENT_OFFSET,
  PARTICIPANT_INTENT_COUNT,
  PARTICIPANT_INTENT_SINCE,
  PARTICIPANT_INTENT_START,
  PARTICIPANT_SENT,
  POSITION_MASK,
  SEQUENCE_SKIP_BIT,
  SEQUENCE_VALUE_MASK,
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  SLOT_OWNER,
  SLOT_PID,
  SLOT_SENT_AT,
  SHAPE_KIND_SHIFT,
  EXTENSION_RESERVE,
  SLOT_SHAPE,
  SLOT_SPAN,
  TAIL_OFFSET,
  participantOffset,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { addCount, readCount } from './counts.js';
import { computeGate } from './groups.js';
import type { Fault } from './fault.js';
import type { SlotWindow, SlotWindows } from './slot-windows.js';
import { storePositionPlain, type RingViews } from './views.js';
import { takeSleepers } from './wait-word.js';

const TAIL = TAIL_OFFSET >> 3;
const MESSAGES_SENT = MESSAGES_SENT_OFFSET >> 2;
const COUNT_CARRY = 0x1_0000_0000;
const MEMBERS_WAITING = MEMBERS_WAITING_OFFSET >> 2;
const LENGTH_WORD = SLOT_LENGTH >> 2;
const SPAN_WORD = SLOT_SPAN >> 2;
const PID_WORD = SLOT_PID >> 2;
const SHAPE_WORD = SLOT_SHAPE >> 2;
const OWNER_WORD = SLOT_OWNER >> 2;
const BIG = Array.from({ length: 1025 }, (_, i) => BigInt(i));

export type Payload = Buffer | Uint8Array | string;

/** What a claim plans: the padding before its first message, its messages, and its positions. */
interface Plan {
  pad: number;
  count: number;
  positions: number;
}

export class Sender {
  readonly #views: RingViews;
  readonly #geometry: RingGeometry;
  readonly #words: Int32Array;
  readonly #longs: BigUint64Array;
  readonly #doubles: Float64Array;
  /** The data windows, and the one the last slot looked at was in (see #windowOf). */
  readonly #slots: SlotWindows;
  #window: SlotWindow;
  readonly #slotCount: number;
  readonly #sequenceBase: number;
  readonly #stride: number;
  readonly #maxLength: number;
  readonly #pid: number;
  readonly #owner: number;
  /** Int32 index of the low word of this entry's sent count (-1 without an entry), and the count. */
  readonly #sentWord: number;
  #sentCount = 0;
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
  /** First position of the last claim (its padding first), and of the last message sent. */
  #claimStart = 0;
  #lastSent = -1;
  /** Payload lengths and spans of the messages being sent (reused: no allocation per call). */
  #lengths = new Float64Array(64);
  #spans = new Int32Array(64);
  readonly #plan: Plan = { pad: 0, count: 0, positions: 0 };
  /** Called after a publish when members may be asleep. */
  wake: () => void = () => {};

  constructor(views: RingViews, slots: SlotWindows, geometry: RingGeometry, identity: SenderIdentity) {
    this.#views = views;
    this.#geometry = geometry;
    this.#words = views.words;
    this.#longs = views.longs;
    this.#doubles = views.doubles;
    this.#slots = slots;
    this.#window = slots.windows[0]!;
    this.#slotCount = geometry.slotCount;
    this.#sequenceBase = geometry.headerLength >> 2;
    this.#stride = geometry.slotStride;
    this.#maxLength = geometry.maxMessageLength;
    this.#pid = identity.pid;
    this.#owner = identity.owner;
    const entry = identity.participant < 0 ? -1 : participantOffset(identity.participant);
    this.#intentCount = entry < 0 ? -1 : (entry + PARTICIPANT_INTENT_COUNT) >> 2;
    this.#sentWord = entry < 0 ? -1 : (entry + PARTICIPANT_SENT) >> 2;
    // Counted on from what the entry's earlier owners sent: the sum over entries never drops.
    if (this.#sentWord >= 0) this.#sentCount = readCount(views.words, this.#sentWord);
    this.#intentStartLow = (entry + PARTICIPANT_INTENT_START) >> 2;
    this.#intentSince = (entry + PARTICIPANT_INTENT_SINCE) >> 3;
    this.#stamp = identity.stamp;
    this.#fault = identity.fault;
  }

  /** The window of slot `index` and of a message starting there: the last one looked at, nearly always. */
  #windowOf(index: number): SlotWindow {
    const window = this.#window;
    return index >= window.firstSlot && index < window.homeEnd ? window : (this.#window = this.#slots.of(index));
  }

  /** Byte offset of `position`'s slot in its window, which it makes #window. */
  #slotOf(position: number): number {
    const index = position % this.#slotCount;
    return (index - this.#windowOf(index).firstSlot) * this.#stride;
  }

  #sequenceOf(position: number): number {
    return this.#sequenceBase + (position % this.#slotCount);
  }

  #now(): number {
    return this.#stamp ? Date.now() : 0;
  }

  /** Positions from `tail` that the cached gate leaves room for. */
  #room(tail: number): number {
    return this.#gate + this.#slotCount - tail;
  }

  /**
   * Plans a claim at `tail` of up to `max` messages (spans from #spans[first]) within `limit`
   * positions: a message never crosses the end of the ring, so a first message that would is
   * preceded by padding to the end (claimed alone when the message does not fit after it yet),
   * and a later one ends the claim there.
   */
  #planAt(tail: number, limit: number, first: number, max: number): Plan {
    const plan = this.#plan;
    const slotCount = this.#slotCount;
    const spans = this.#spans;
    // Offsets from the tail, and the slot index they reach (one modulo per plan, not per message).
    let used = 0;
    let index = tail % slotCount;
    let count = 0;
    let pad = 0;
    while (count < max) {
      const span = spans[first + count]!;
      if (index + span > slotCount) {
        if (count > 0 || pad > 0) break;
        pad = slotCount - index;
        if (pad > limit) {
          pad = 0;
          break;
        }
        used += pad;
        index = 0;
        continue;
      }
      if (used + span > limit) break;
      used += span;
      index += span;
      if (index === slotCount) index = 0;
      count++;
    }
    plan.pad = pad;
    plan.count = count;
    plan.positions = used;
    return plan;
  }


  /**
   * Claims a run of positions at the tail for up to `max` messages (spans from #spans[first]) with
   * one compare-and-swap, its intent recorded first. Returns the plan (count 0 and positions 0:
   * the ring is full for now; count 0 with positions > 0: only the padding before the end was
   * claimed); the run starts at #claimStart.
   */
  #claim(first: number, max: number, now: number): Plan {
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
      // is looked at again only once it leaves too little: about once per N slots at full speed.
      let limit = this.#room(tail);
      if (limit < this.#spans[first]!) {
        this.#gate = computeGate(this.#views, this.#geometry);
        limit = this.#room(tail);
        if (limit <= 0) return this.#nothing();
      }
      let plan = this.#planAt(tail, limit, first, max);
      if (plan.positions === 0) return plan;
      // Free for q: its word speaks for q - N (published, a skip record, or fresh). Where last
      // lap's message starts, its other slots are published too (their skip words came first):
      // step over them by its span instead of loading each.
      let free = 0;
      let sequence = 0;
      let index = tail % slotCount;
      const positions = plan.positions;
      while (free < positions) {
        sequence = Atomics.load(words, this.#sequenceBase + index);
        const lastLap = (tail + free - slotCount + 1) & SEQUENCE_VALUE_MASK;
        let step = 1;
        if (sequence === lastLap) {
          const window = this.#windowOf(index);
          const span = window.words[(((index - window.firstSlot) * this.#stride) >>> 2) + SPAN_WORD]!;
          if (span > 1 && span <= slotCount - index) step = span;
        } else if (sequence !== (lastLap | SEQUENCE_SKIP_BIT)) {
          break;
        }
        free += step;
        index += step;
        if (index >= slotCount) index -= slotCount;
      }
      if (free > positions) free = positions;
      if (free === 0) {
        const value = sequence & SEQUENCE_VALUE_MASK;
        // Last lap's message claimed and not yet published: full for now. Not on a fresh slot
        // (tail < N): no one ever claimed a position before 0, so such a word is corrupt.
        if (tail >= slotCount && value === ((tail - 2 * slotCount + 1) & SEQUENCE_VALUE_MASK) && sequence >= 0) return this.#nothing();
        if (Atomics.load(longs, TAIL) !== word) continue; // another sender claimed it: look again
        // The tail has not moved, so no sender claimed `tail`: a word for it (or any other) is corrupt.
        throw new RingFormatError(`corrupt ring: the sequence word of position ${tail} reads ${sequence >>> 0}, which no process of this ring writes`);
      }
      if (free < plan.positions) {
        // Part of it is still last lap's, unpublished: claim what is free now.
        plan = this.#planAt(tail, free, first, max);
        if (plan.positions === 0) return plan;
      }
      if (this.#intentCount >= 0) {
        // Plain stores, published by the count's store.
        storePositionPlain(words, this.#intentStartLow, tail);
        this.#doubles[this.#intentSince] = now;
        Atomics.store(words, this.#intentCount, plan.positions);
      }
      this.#fault?.('send-intent');
      const claimed = plan.positions;
      if (Atomics.compareExchange(longs, TAIL, word, word + (claimed < BIG.length ? BIG[claimed]! : BigInt(claimed))) !== word) continue;
      this.#fault?.('send-claimed');
      this.#claimStart = tail;
      return plan;
    }
  }

  #nothing(): Plan {
    const plan = this.#plan;
    plan.pad = 0;
    plan.count = 0;
    plan.positions = 0;
    return plan;
  }

  /** Publishes `count` skip records from `position`: the padding before the end of the ring. */
  #pad(position: number, count: number): void {
    for (let q = position; q < position + count; q++) {
      Atomics.store(this.#words, this.#sequenceOf(q), ((q + 1) & SEQUENCE_VALUE_MASK) | SEQUENCE_SKIP_BIT);
    }
  }

  /**
   * Writes one claimed message (`span` slots from `position`) and publishes it: the header and
   * payload, then the skip words of its other slots, then its own sequence word last. Until then
   * the first slot still reads last lap's word, so a member takes nothing from it. No mark comes
   * before the payload: a reader that does not gate senders (a lossy group, peek) learns that a
   * slot may have changed under it from the tail (claimed past its position + N), not from the
   * slot — one fenced store per message.
   */
  #write(position: number, message: Payload, length: number, span: number, sentAt: number): void {
    const slot = this.#slotOf(position);
    const window = this.#window;
    const memory = window.bytes;
    window.words[(slot >>> 2) + OWNER_WORD] = this.#owner;
    const payload = slot + SLOT_HEADER_LENGTH;
    if (typeof message === 'string') {
      length = memory.write(message, payload, length < 0 ? this.#stride - SLOT_HEADER_LENGTH : length, 'utf8');
    } else if (this.#fault !== undefined && message.length > 1) {
      const half = message.length >> 1;
      memory.set(message.subarray(0, half), payload);
      this.#fault('send-payload');
      memory.set(message.subarray(half), payload + half);
    } else {
      memory.set(message, payload);
    }
    this.#publish(position, window, slot, length, span, sentAt);
  }

  /** The header words of a written message, its other slots' skip words, then its sequence word. */
  #publish(position: number, window: SlotWindow, slot: number, length: number, span: number, sentAt: number, shape = 0): void {
    const slotWords = window.words;
    const base = slot >>> 2;
    slotWords[base + LENGTH_WORD] = length;
    slotWords[base + SPAN_WORD] = span;
    slotWords[base + PID_WORD] = this.#pid;
    slotWords[base + SHAPE_WORD] = shape;
    window.doubles[(slot + SLOT_SENT_AT) >>> 3] = sentAt;
    const words = this.#words;
    if (span > 1) {
      // A message never crosses the end of the ring: its words are consecutive.
      const first = this.#sequenceOf(position);
      const value = position + 1;
      for (let i = 1; i < span; i++) words[first + i] = ((value + i) & SEQUENCE_VALUE_MASK) | SEQUENCE_SKIP_BIT;
    }
    this.#fault?.('send-publish');
    Atomics.store(words, this.#sequenceOf(position), (position + 1) & SEQUENCE_VALUE_MASK);
  }

  /** After a run of `messages` is published: counted, the intent void, and sleeping members woken. */
  #finish(last: number, messages: number): void {
    if (messages > 0) {
      const sent = this.#sentWord;
      if (sent >= 0) {
        // This entry's own count: plain stores (only its owner writes it), low word then high.
        const total = (this.#sentCount += messages);
        this.#words[sent] = total % COUNT_CARRY;
        if (total >= COUNT_CARRY) this.#words[sent + 1] = Math.floor(total / COUNT_CARRY);
      } else {
        addCount(this.#words, MESSAGES_SENT, messages);
      }
    }
    if (this.#intentCount >= 0) Atomics.store(this.#words, this.#intentCount, 0);
    this.#lastSent = last;
    const words = this.#words;
    if (takeSleepers(words, MEMBERS_WAITING)) this.wake();
  }

  /** The payload length of `message` in bytes; MessageTooLargeError past the ring's largest. */
  #lengthOf(message: Payload): number {
    if (typeof message === 'string') {
      // Cheap bound first: a UTF-16 code unit never takes more than 3 UTF-8 bytes.
      const length = message.length * 3 <= this.#stride - SLOT_HEADER_LENGTH ? -1 : Buffer.byteLength(message);
      if (length > this.#maxLength) throw new MessageTooLargeError(length, this.#maxLength);
      return length;
    }
    if (message.length > this.#maxLength) throw new MessageTooLargeError(message.length, this.#maxLength);
    return message.length;
  }

  /** Records the length and span of message `i` of the batch being sent (a string's length on demand). */
  #measure(i: number, message: Payload): void {
    // -1: a short string, measured as it is written (it fits one slot whatever its UTF-8 length).
    const length = this.#lengthOf(message);
    this.#lengths[i] = length;
    this.#spans[i] = this.#spanOf(length);
  }

  /** Slots a message of `length` payload bytes takes, with `extension` bytes before it (docs/format.md §2). */
  #spanOf(length: number, extension = 0): number {
    const bytes = SLOT_HEADER_LENGTH + extension + length;
    return bytes <= this.#stride ? 1 : Math.ceil(bytes / this.#stride);
  }

  #reserve(count: number): void {
    if (this.#spans.length >= count) return;
    const size = Math.max(count, this.#spans.length * 2);
    this.#spans = new Int32Array(size);
    this.#lengths = new Float64Array(size);
  }

  /**
   * Claims up to `max` messages measured from #spans[0], publishing any padding before the end of
   * the ring on the way (a claim of the padding alone is finished, and the claim tried again from
   * the ring's start). Returns the first message's position, -1 when the ring has no room now;
   * how many messages: #plan.count.
   */
  #claimMessages(max: number, now: number): number {
    for (;;) {
      const plan = this.#claim(0, max, now);
      if (plan.positions === 0) return -1;
      const start = this.#claimStart;
      if (plan.pad > 0) this.#pad(start, plan.pad);
      if (plan.count > 0) return start + plan.pad;
      this.#finish(this.#lastSent, 0); // the padding alone: the messages go at the start of the ring, if there is room
    }
  }

  /** Sends one message if there is room: false when full; MessageTooLargeError (ring untouched) when it cannot fit. */
  trySend(message: Payload): boolean {
    this.#assertNoClaim();
    this.#measure(0, message);
    const now = this.#now();
    const position = this.#claimMessages(1, now);
    if (position < 0) return false;
    this.#write(position, message, this.#lengths[0]!, this.#spans[0]!, now);
    this.#finish(position, 1);
    return true;
  }


  /**
   * Sends one message of `kind` (docs/format.md §2.4, §9a, §9b) with `extension` (a multiple of 8
   * bytes, at most 40) before its payload, if there is room: false when full. For requests,
   * replies and imported messages.
   */
  trySendRecord(kind: number, extension: Uint8Array, payload: Uint8Array): boolean {
    this.#assertNoClaim();
    // Up to the room every ring keeps for one (docs/format.md §2): a payload of the ring's largest still fits with it.
    if (extension.length % 8 !== 0 || extension.length > EXTENSION_RESERVE) throw new RangeError(`an extension is a multiple of 8 bytes up to ${EXTENSION_RESERVE}, got ${extension.length}`);
    if (!Number.isInteger(kind) || kind < 0 || kind > 0xff) throw new RangeError(`a message kind is 0 to 255, got ${kind}`);
    const length = payload.length;
    if (length > this.#maxLength) throw new MessageTooLargeError(length, this.#maxLength);
    this.#lengths[0] = length;
    this.#spans[0] = this.#spanOf(length, extension.length);
    const now = this.#now();
    const position = this.#claimMessages(1, now);
    if (position < 0) return false;
    const slot = this.#slotOf(position);
    const window = this.#window;
    window.words[(slot >>> 2) + OWNER_WORD] = this.#owner;
    window.bytes.set(extension, slot + SLOT_HEADER_LENGTH);
    window.bytes.set(payload, slot + SLOT_HEADER_LENGTH + extension.length);
    this.#publish(position, window, slot, length, this.#spans[0]!, now, extension.length | (kind << SHAPE_KIND_SHIFT));
    this.#finish(position, 1);
    return true;
  }

  /**
   * Sends as many of `messages` (from `start`) as fit now, a run of positions per claim; returns
   * how many were sent. Every message is checked against the ring's largest first.
   */
  trySendBatch(messages: ReadonlyArray<Payload>, start = 0): number {
    const total = messages.length - start;
    if (total <= 0) return 0;
    this.#assertNoClaim();
    this.#reserve(total);
    for (let i = 0; i < total; i++) this.#measure(i, messages[start + i]!);
    let sent = 0;
    while (sent < total) {
      const count = this.#claimAndWrite(messages, start, sent, total - sent, this.#now());
      if (count < 0) break;
      sent += count;
    }
    return sent;
  }

  /** One claim of up to `max` messages (messages[start + first] on, measured at #spans[first]) and their writes; -1 when full. */
  #claimAndWrite(messages: ReadonlyArray<Payload>, start: number, first: number, max: number, now: number): number {
    const plan = this.#claim(first, max, now);
    if (plan.positions === 0) return -1;
    const claimed = this.#claimStart;
    if (plan.pad > 0) this.#pad(claimed, plan.pad);
    let position = claimed + plan.pad;
    let last = this.#lastSent;
    const count = plan.count;
    for (let i = first; i < first + count; i++) {
      const span = this.#spans[i]!;
      this.#write(position, messages[start + i]!, this.#lengths[i]!, span, now);
      last = position;
      position += span;
    }
    this.#finish(last, count);
    return count;
  }

  /**
   * Claims the space of up to `lengths.length` messages (from `first`) at the tail in one
   * compare-and-swap, for the caller to write in place: returns how many (0: full). Their
   * positions are claimedPosition(i); each payload starts at payloadOffset(position). The claim
   * stays open (its intent recorded) until commitClaim or abortClaim; nothing else is sent from
   * this side meanwhile.
   */
  tryClaim(lengths: ArrayLike<number>, first = 0): number {
    const total = lengths.length - first;
    if (total <= 0) return 0;
    this.#assertNoClaim();
    this.#reserve(total);
    for (let i = 0; i < total; i++) {
      const length = lengths[first + i]!;
      if (!Number.isInteger(length) || length < 0 || length > this.#maxLength) throw new MessageTooLargeError(length, this.#maxLength);
      this.#lengths[i] = length;
      this.#spans[i] = this.#spanOf(length);
    }
    const now = this.#now();
    let position = this.#claimMessages(total, now);
    if (position < 0) return 0;
    const count = this.#plan.count;
    // The claim's lengths and spans stay in #lengths/#spans (nothing else is sent while it is open).
    if (this.#claimPositions.length < count) this.#claimPositions = new Float64Array(Math.max(count, this.#claimPositions.length * 2));
    for (let i = 0; i < count; i++) {
      this.#claimPositions[i] = position;
      position += this.#spans[i]!;
    }
    const claim = this.#claim1;
    claim.count = count;
    claim.sentAt = now;
    this.#openClaim = claim;
    return count;
  }

  /** The open claim (reused: one object per sender), its positions in #claimPositions. */
  #openClaim: { count: number; sentAt: number } | undefined;
  readonly #claim1 = { count: 0, sentAt: 0 };
  #claimPositions = new Float64Array(8);

  /** Position of message `index` of the open claim. */
  claimedPosition(index: number): number {
    return this.#openClaim && index < this.#openClaim.count ? this.#claimPositions[index]! : -1;
  }

  /** A writable view of `length` payload bytes of the message at `position`, in the ring itself. */
  payloadView(position: number, length: number): Buffer {
    const payload = this.#slotOf(position) + SLOT_HEADER_LENGTH;
    return this.#window.bytes.subarray(payload, payload + length);
  }

  /**
   * Publishes the open claim, in order: message i with `lengths[i]` bytes (at most what was
   * claimed; default all of it). Returns the last message's position.
   */
  commitClaim(lengths?: ArrayLike<number>): number {
    const claim = this.#openClaim;
    if (!claim) throw new MmapipcError('no claim is open');
    const count = claim.count;
    if (lengths) {
      for (let i = 0; i < count; i++) {
        const length = lengths[i] ?? this.#lengths[i]!;
        if (!Number.isInteger(length) || length < 0 || length > this.#lengths[i]!) {
          throw new RangeError(`message ${i} of the claim has ${this.#lengths[i]} bytes claimed; it cannot commit ${length}`);
        }
      }
    }
    this.#openClaim = undefined;
    let last = this.#lastSent;
    for (let i = 0; i < count; i++) {
      const position = this.#claimPositions[i]!;
      const slot = this.#slotOf(position);
      const window = this.#window;
      window.words[(slot >>> 2) + OWNER_WORD] = this.#owner;
      this.#publish(position, window, slot, lengths?.[i] ?? this.#lengths[i]!, this.#spans[i]!, claim.sentAt);
      last = position;
    }
    this.#finish(last, count);
    return last;
  }

  /** Gives the open claim up: its slots are published as skip records, no message. */
  abortClaim(): void {
    const claim = this.#openClaim;
    if (!claim) return;
    this.#openClaim = undefined;
    for (let i = 0; i < claim.count; i++) this.#pad(this.#claimPositions[i]!, this.#spans[i]!);
    this.#finish(this.#lastSent, 0);
  }

  /** One claim at a time: the participant entry records one intent, and recovery must find every claim's owner. */
  #assertNoClaim(): void {
    if (this.#openClaim) throw new MmapipcError(`a claim of position ${this.#claimPositions[0]} is open: commit or abort it before sending again`);
  }

  /** True while a claim made by tryClaim is open. */
  get claiming(): boolean {
    return this.#openClaim !== undefined;
  }

  /** True when a claim of one message of `length` bytes at the tail would find room now. */
  hasRoomFor(length = 0): boolean {
    const span = this.#spanOf(length);
    const word = Atomics.load(this.#longs, TAIL);
    const tail = Number(word & POSITION_MASK);
    const gate = computeGate(this.#views, this.#geometry);
    const index = tail % this.#slotCount;
    // Room for the padding before the end, if the message would cross it, counts too: padding alone is progress.
    const needed = index + span > this.#slotCount ? this.#slotCount - index : span;
    if (gate + this.#slotCount - tail < needed) return false;
    const sequence = Atomics.load(this.#words, this.#sequenceOf(tail));
    return (sequence & ~SEQUENCE_SKIP_BIT) === ((tail - this.#slotCount + 1) & SEQUENCE_VALUE_MASK) || Atomics.load(this.#longs, TAIL) !== word;
  }

  /** True when a claim of a one-slot message at the tail would find room now. */
  get hasRoom(): boolean {
    return this.hasRoomFor(0);
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
