/**
 * A group member's side: take runs of published messages from the group's cursor, hand them on,
 * then mark them finished. Pure: it sees the ring's memory and nothing else.
 *
 * Every run has a findable owner before it exists: the member records the run (first position
 * and count) in its participant entry, and only then moves the group's dispatch cursor by
 * compare-and-swap. Until the member finishes the run (count back to 0), the run holds the
 * group's floor, so a lossless group's messages are never overwritten while a member holds them;
 * if the member dies, recovery hands the run to another member of the group (at least once).
 *
 * A run counts positions (slots): a message of several slots is taken whole, and a run holds
 * whole messages and skip records only.
 *
 * Members never write a slot. A lossy group does not hold senders back, so a message can be
 * overwritten before it is read: after copying, the member checks that the tail has not been
 * claimed past the position's next lap (as a seqlock would check its sequence), and counts what
 * it lost; when the cursor itself was lapped, it jumps to the oldest message still in the ring
 * and counts the gap. A lossless group's run is protected by the gate only while the group stays
 * what it was when the run was claimed: an operator who removes the group or makes it lossy
 * changes its flags word, and the member then checks its copies against the tail as well.
 */
import { countDelivered, groupDeliveredWord } from './delivered.js';
import { GroupError, RingFormatError } from '../errors.js';
import {
  CLAIMER_SHIFT,
  GROUP_DISPATCH,
  GROUP_FLAGS,
  GROUP_FLAG_LOSSY,
  GROUP_GAPS,
  GROUP_MISSED,
  PARTICIPANT_RUN_COUNT,
  PARTICIPANT_RUN_DELIVERIES,
  PARTICIPANT_RUN_SINCE,
  PARTICIPANT_RUN_START,
  POSITION_MASK,
  RUN_PENDING_BIT,
  SENDERS_WAITING_OFFSET,
  SEQUENCE_SKIP_BIT,
  SEQUENCE_VALUE_MASK,
  SLOT_SENT_AT,
  SLOT_SPAN,
  groupOffset,
  participantOffset,
  type RingGeometry,
} from '../layout/ring-layout.js';
import type { Fault } from './fault.js';
import { confirmClaimer, groupIsCurrent, readTail } from './groups.js';
import type { SlotWindow, SlotWindows } from './slot-windows.js';
import { storePositionPlain, type RingViews } from './views.js';
import { takeSleepers } from './wait-word.js';

const SENDERS_WAITING = SENDERS_WAITING_OFFSET >> 2;
const SPAN_WORD = SLOT_SPAN >> 2;
const SMALL = Array.from({ length: 1025 }, (_, i) => BigInt(i));

/** Positions a group never got to read: overwritten before it read them. */
export interface Gap {
  readonly group: string;
  /** First position missed. */
  readonly from: number;
  /** How many positions were missed (a released claim among them counts too). */
  readonly count: number;
}

export interface MemberIdentity {
  readonly participant: number;
  readonly group: number;
  readonly groupGeneration: number;
  readonly groupName: string;
  readonly fault?: Fault;
}

export class Member {
  readonly #views: RingViews;
  readonly #words: Int32Array;
  readonly #longs: BigUint64Array;
  readonly #doubles: Float64Array;
  readonly #slotCount: number;
  readonly #slots: SlotWindows;
  /** The window of the slot last looked at (see #windowOf). */
  #window: SlotWindow;
  readonly #sequenceBase: number;
  readonly #stride: number;
  readonly #group: number;
  readonly #groupGeneration: number;
  readonly groupName: string;
  readonly #dispatch: number;
  readonly #flags: number;
  readonly #missed: number;
  readonly #gaps: number;
  readonly #deliveredWord: number;
  readonly #runStartWord: number;
  /** Int32 index of the run start's low half (the high half follows). */
  readonly #runStartLow: number;
  readonly #runCountWord: number;
  readonly #runDeliveriesWord: number;
  readonly #runSince: number;
  readonly #fault: Fault | undefined;
  /** This member's tag in the dispatch words it sets: its entry + 1, in the top 8 bits. */
  readonly #claimerTag: bigint;
  readonly #claimerTagEnd: bigint;
  /** The run this member holds: positions [#start, #start + #count), delivered #deliveries times before. */
  #start = 0;
  #count = 0;
  #deliveries = 0;
  /** What this member last stored in its entry's deliveries word (a store is skipped when it would not change it). */
  #entryDeliveries = -1;
  /** The dispatch word this member's last claim left, and the position it names: the next claim starts there without BigInt arithmetic while the word is unchanged. */
  #lastWord = -1n;
  #lastPosition = 0;
  /** Of the run, how many positions the current take handed out, and how many messages start among them. */
  #taken = 0;
  #takenMessages = 0;
  #takeIndex = 0;
  /**
   * What the current take holds, position by position from takeStart, as its claim or its
   * measure found it: a message's span (at its first position), 0 for a skip record, -1 for a
   * slot that speaks for another position. Reused; its first #stepCount entries are valid.
   */
  #steps = new Int32Array(64);
  #stepCount = 0;
  /** Messages in the run just claimed (set by #claim). */
  #claimedMessages = 0;
  /** The group's flags word when the run was claimed (-1: not known, so every copy is checked). */
  #claimFlags = -1;
  /** Called when senders may be asleep after this member finished a run. */
  wake: () => void = () => {};
  /** Called for every gap (lossy groups; lossless ones only after a forced move). */
  onGap: (gap: Gap) => void = () => {};

  constructor(views: RingViews, slots: SlotWindows, geometry: RingGeometry, identity: MemberIdentity) {
    if (identity.participant < 0) throw new GroupError('a group member needs an entry in the participant table, and it is full');
    this.#views = views;
    this.#words = views.words;
    this.#longs = views.longs;
    this.#doubles = views.doubles;
    this.#slotCount = geometry.slotCount;
    this.#slots = slots;
    this.#window = slots.windows[0]!;
    this.#sequenceBase = geometry.headerLength >> 2;
    this.#stride = geometry.slotStride;
    this.#group = identity.group;
    this.#groupGeneration = identity.groupGeneration;
    this.groupName = identity.groupName;
    const group = groupOffset(identity.group);
    this.#dispatch = (group + GROUP_DISPATCH) >> 3;
    this.#flags = (group + GROUP_FLAGS) >> 2;
    this.#missed = (group + GROUP_MISSED) >> 2;
    this.#gaps = (group + GROUP_GAPS) >> 2;
    this.#deliveredWord = groupDeliveredWord(identity.group);
    const entry = participantOffset(identity.participant);
    this.#runStartWord = (entry + PARTICIPANT_RUN_START) >> 3;
    this.#runStartLow = (entry + PARTICIPANT_RUN_START) >> 2;
    this.#runCountWord = (entry + PARTICIPANT_RUN_COUNT) >> 2;
    this.#runDeliveriesWord = (entry + PARTICIPANT_RUN_DELIVERIES) >> 2;
    this.#runSince = (entry + PARTICIPANT_RUN_SINCE) >> 3;
    this.#fault = identity.fault;
    this.#claimerTag = BigInt(identity.participant + 1) << CLAIMER_SHIFT;
    this.#claimerTagEnd = this.#claimerTag + (1n << CLAIMER_SHIFT);
  }

  /** The window of slot `index` and of a message starting there: the last one looked at, nearly always. */
  #windowOf(index: number): SlotWindow {
    const window = this.#window;
    return index >= window.firstSlot && index < window.homeEnd ? window : (this.#window = this.#slots.of(index));
  }

  /** The window of the slot that slotOf or slotAt last gave the offset of. */
  get window(): SlotWindow {
    return this.#window;
  }

  /** Byte offset of `position`'s slot in its window (then `window`). */
  slotOf(position: number): number {
    return this.slotAt(position % this.#slotCount);
  }

  /** The span word of the message at slot `index`. */
  #spanAt(index: number): number {
    const window = this.#windowOf(index);
    return window.words[(((index - window.firstSlot) * this.#stride) >>> 2) + SPAN_WORD]!;
  }

  #sequenceOf(position: number): number {
    return this.#sequenceBase + (position % this.#slotCount);
  }

  get lossy(): boolean {
    return (Atomics.load(this.#words, this.#flags) & GROUP_FLAG_LOSSY) !== 0;
  }

  /**
   * True when the run being handed out is still protected by the gate: the group was lossless
   * when it was claimed and its flags word has not changed since (no removal, no lossy spell).
   * Otherwise each copy must be checked with stillThere.
   */
  get guarded(): boolean {
    const flags = this.#claimFlags;
    return flags >= 0 && (flags & GROUP_FLAG_LOSSY) === 0 && Atomics.load(this.#words, this.#flags) === flags;
  }

  /**
   * What position `position` of a taken run holds now: the span of the message that starts
   * there (1 to N), 0 for a skip record, or -1 when its slot speaks for another position (it was
   * overwritten: a lossy group, or a group changed under the run).
   */
  messageAt(position: number, index = position % this.#slotCount): number {
    const sequence = Atomics.load(this.#words, this.#sequenceBase + index);
    const value = (position + 1) & SEQUENCE_VALUE_MASK;
    if (sequence === value) {
      const span = this.#spanAt(index);
      return span >= 1 && span <= this.#slotCount - index ? span : -1;
    }
    return sequence === (value | SEQUENCE_SKIP_BIT) ? 0 : -1;
  }

  /** Byte offset of slot `index` in its window (then `window`). */
  slotAt(index: number): number {
    return (index - this.#windowOf(index).firstSlot) * this.#stride;
  }

  /** The slot index of takeStart (positions after it follow as integers). */
  get takeIndex(): number {
    return this.#takeIndex;
  }

  /** The steps of the current take (see #steps): the walk a reader follows. */
  get steps(): Int32Array {
    return this.#steps;
  }

  get stepCount(): number {
    return this.#stepCount;
  }

  #step(span: number): void {
    if (this.#stepCount === this.#steps.length) {
      const grown = new Int32Array(this.#steps.length * 2);
      grown.set(this.#steps);
      this.#steps = grown;
    }
    this.#steps[this.#stepCount++] = span;
  }


  /** The group's dispatch cursor: the next position it hands out. */
  get dispatch(): number {
    return Number(Atomics.load(this.#longs, this.#dispatch) & POSITION_MASK);
  }

  /** True while this member holds a run it has not finished. */
  get holding(): boolean {
    return this.#count > 0;
  }

  /** How often the run being handed out was delivered before (0: first delivery). */
  get deliveries(): number {
    return this.#deliveries;
  }

  /** First position of the current take. */
  get takeStart(): number {
    return this.#start;
  }

  /**
   * Takes up to `max` positions to hand on: from the run this member holds (one taken over from
   * a dead member, or the rest of its own), else a new run claimed from the group's cursor.
   * Returns how many (0: nothing published yet); they start at takeStart. Released claims are
   * among them: check each with isReleased. Call finish() after handing them on.
   */
  take(max: number): number {
    if (this.#count === 0) {
      if (this.#claim(max) === 0) return 0;
      this.#taken = this.#count;
      this.#takenMessages = this.#claimedMessages;
      return this.#taken;
    }
    this.#takeIndex = this.#start % this.#slotCount;
    this.#taken = this.#measure(this.#start, this.#count, max);
    return this.#taken;
  }

  /** Positions from `start` (at most `limit`) that hold up to `max` messages and the skip records among them (the messages: #takenMessages). */
  #measure(start: number, limit: number, max: number): number {
    let position = start;
    let index = this.#takeIndex;
    const end = start + limit;
    let messages = 0;
    this.#stepCount = 0;
    while (position < end) {
      let span = this.messageAt(position, index);
      let step = 1;
      if (span > 0) {
        if (messages === max) break;
        messages++;
        step = Math.min(span, end - position);
        span = step;
      }
      this.#step(span);
      position += step;
      index += step;
      if (index >= this.#slotCount) index -= this.#slotCount;
    }
    this.#takenMessages = messages;
    return position - start;
  }

  #claim(max: number): number {
    const words = this.#words;
    const longs = this.#longs;
    for (;;) {
      if (!groupIsCurrent(this.#views, this.#group, this.#groupGeneration)) {
        throw new GroupError(`group ${this.groupName} was removed (mmapipc group rm); join it again to go on`);
      }
      const dispatchWord = Atomics.load(longs, this.#dispatch);
      // Mine: the word is my tag plus the position (the common case of a one-member group).
      const mine = dispatchWord >= this.#claimerTag && dispatchWord < this.#claimerTagEnd;
      const dispatch = dispatchWord === this.#lastWord ? this.#lastPosition : Number(mine ? dispatchWord - this.#claimerTag : dispatchWord & POSITION_MASK);
      const flags = Atomics.load(words, this.#flags);
      // Whole messages and skip records from the cursor: up to `max` messages, within one lap.
      // Slot indexes are followed as integers (one modulo per claim, not per message).
      const slotCount = this.#slotCount;
      const firstIndex = dispatch % slotCount;
      let index = firstIndex;
      let position = dispatch;
      let messages = 0;
      let sequence = 0;
      const end = dispatch + slotCount;
      this.#stepCount = 0;
      while (position < end && messages < max) {
        sequence = Atomics.load(words, this.#sequenceBase + index);
        const value = (position + 1) & SEQUENCE_VALUE_MASK;
        let step = 1;
        if (sequence === value) {
          step = this.#spanAt(index);
          if (step < 1 || step > slotCount - index) break; // checked below
          messages++;
          this.#step(step);
        } else if (sequence === (value | SEQUENCE_SKIP_BIT)) {
          this.#step(0);
        } else {
          break;
        }
        position += step;
        index += step;
        if (index === slotCount) index = 0;
      }
      const count = position - dispatch;
      if (count === 0) {
        if (sequence === ((dispatch + 1) & SEQUENCE_VALUE_MASK)) {
          // A published first slot with a span no sender writes: lapped under a lossy reader, or corrupt.
          if (readTail(this.#views).position > dispatch + this.#slotCount) {
            this.#jump(dispatchWord, dispatch);
            continue;
          }
          throw new RingFormatError(`corrupt ring: the message at position ${dispatch} spans ${this.#spanAt(firstIndex)} slots, more than fit before the end of the ring`);
        }
        if (this.#notYet(sequence, dispatch)) return 0;
        this.#jump(dispatchWord, dispatch);
        continue;
      }
      // The last claimer's run is proven claimed by this very word: confirm it before replacing it.
      if (!mine) confirmClaimer(this.#views, dispatchWord);
      // The run's start, deliveries and age are plain stores: the count's store below publishes them.
      storePositionPlain(words, this.#runStartLow, dispatch);
      if (this.#entryDeliveries !== 0) {
        words[this.#runDeliveriesWord] = 0;
        this.#entryDeliveries = 0;
      }
      // No clock read per claim (it costs ~0.2 µs here): the run's age is its first message's.
      const slot = this.slotAt(firstIndex);
      this.#doubles[this.#runSince] = this.#window.doubles[(slot + SLOT_SENT_AT) >>> 3]!;
      Atomics.store(words, this.#runCountWord, count | RUN_PENDING_BIT);
      this.#fault?.('receive-intent');
      const next = (mine ? dispatchWord : BigInt(dispatch) | this.#claimerTag) + (count < SMALL.length ? SMALL[count]! : BigInt(count));
      if (Atomics.compareExchange(longs, this.#dispatch, dispatchWord, next) !== dispatchWord) {
        Atomics.store(words, this.#runCountWord, 0);
        continue;
      }
      // Claimed. The run stays marked pending: whoever replaces this dispatch word confirms it
      // first (7.2), and finishing it clears the count, so confirming it here would be a third
      // fenced store per claim for nothing.
      this.#fault?.('receive-claimed');
      this.#lastWord = next;
      this.#lastPosition = dispatch + count;
      this.#start = dispatch;
      this.#count = count;
      this.#deliveries = 0;
      this.#claimFlags = flags;
      this.#claimedMessages = messages;
      this.#takeIndex = firstIndex;
      return count;
    }
  }

  /** True when the slot of `position` has simply not been published yet (not lapped). */
  #notYet(sequence: number, position: number): boolean {
    if (sequence < 0) return false; // bit 31 is written by no process of this ring
    const value = sequence & SEQUENCE_VALUE_MASK;
    return value === ((position - this.#slotCount + 1) & SEQUENCE_VALUE_MASK) || value === ((position - 2 * this.#slotCount + 1) & SEQUENCE_VALUE_MASK);
  }

  /** The cursor was lapped: move it to the oldest position still in the ring, and count the gap. */
  #jump(dispatchWord: bigint, dispatch: number): void {
    const tail = readTail(this.#views).position;
    const target = Math.max(dispatch + 1, tail - this.#slotCount);
    if (target <= dispatch || dispatch >= tail) {
      throw new RingFormatError(`corrupt ring: the slot for position ${dispatch} holds a sequence word no process of this ring writes`);
    }
    confirmClaimer(this.#views, dispatchWord);
    if (Atomics.compareExchange(this.#longs, this.#dispatch, dispatchWord, BigInt(target)) !== dispatchWord) return;
    this.#lost(dispatch, target - dispatch);
  }

  #lost(from: number, count: number): void {
    Atomics.add(this.#words, this.#missed, count);
    Atomics.add(this.#words, this.#gaps, 1);
    this.onGap({ group: this.groupName, from, count });
  }

  /**
   * After copying the message at `position`: true when no sender can have written its slot since
   * (a lossy group's message can be overwritten under the reader). The slot is rewritten only by
   * the claimer of position + N, which moves the tail past it first, so a tail still at or below
   * position + N proves the copy whole. A lost one is counted as a gap.
   */
  stillThere(position: number, span = 1): boolean {
    if (readTail(this.#views).position <= position + this.#slotCount) return true;
    this.#lost(position, span);
    return false;
  }

  /** Marks the positions handed out by the last take as finished (the group is past them). */
  finish(): void {
    const taken = this.#taken;
    if (taken === 0) return;
    this.#fault?.('receive-ack');
    this.#taken = 0;
    this.#start += taken;
    this.#count -= taken;
    if (this.#takenMessages > 0) countDelivered(this.#words, this.#deliveredWord, this.#takenMessages);
    const words = this.#words;
    if (this.#count === 0) {
      Atomics.store(words, this.#runCountWord, 0);
    } else {
      storePositionPlain(words, this.#runStartLow, this.#start);
      Atomics.store(words, this.#runCountWord, this.#count);
    }
    if (takeSleepers(words, SENDERS_WAITING)) this.wake();
  }

  /** Gives back the last take unfinished: it is handed out again by the next take. */
  keep(): void {
    this.#taken = 0;
  }

  /**
   * Recovery hands this member a dead member's run: it was recorded in this member's entry (run
   * start, count, deliveries) before being taken from the dead one's.
   */
  adopt(start: number, count: number, deliveries: number): void {
    this.#entryDeliveries = deliveries;
    this.#claimFlags = -1; // claimed by another member under flags this one never saw
    this.#start = start;
    this.#count = count;
    this.#deliveries = deliveries;
    this.#taken = 0;
  }

  /**
   * True when a take would find something now, find the cursor lapped, or find the group removed
   * (so a waiting member takes, and learns of the removal, on its next wake-up).
   */
  get hasMessage(): boolean {
    if (this.#count > 0) return true;
    if (!groupIsCurrent(this.#views, this.#group, this.#groupGeneration)) return true;
    const dispatch = Number(Atomics.load(this.#longs, this.#dispatch) & POSITION_MASK);
    const sequence = Atomics.load(this.#words, this.#sequenceOf(dispatch));
    if ((sequence & ~SEQUENCE_SKIP_BIT) === ((dispatch + 1) & SEQUENCE_VALUE_MASK)) return true;
    return !this.#notYet(sequence, dispatch);
  }

  /** Word offsets recovery uses to hand this member a run. */
  get runWords(): { start: number; count: number; deliveries: number; since: number } {
    return { start: this.#runStartWord, count: this.#runCountWord, deliveries: this.#runDeliveriesWord, since: this.#runSince };
  }
}
