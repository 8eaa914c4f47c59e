/**
 * The ring: one sending side and, for a process that receives, one group member, over a shared
 * mapping. Pure: it sees a Buffer and nothing else (no fs, no FFI); sleeping is left to the
 * caller (./blocking.ts) and liveness to recovery (./recovery.ts). A facade: sending is
 * ./sender.ts (zero-copy claims ./claim.ts), receiving ./receiver.ts over ./take-reader.ts, held
 * batches and views ./held.ts; what they hand out is typed in ./messages.ts.
 *
 * Invariants (positions count slots from 0 and never wrap; N slots; a message takes `span`
 * consecutive positions and its sequence number is its first):
 * - position q holds the start of a message once its sequence word reads q + 1 (30 bits) with no
 *   flag, and a skip record (another slot of a message, padding, a released claim) once it reads
 *   q + 1 with the skip bit; a sender writes a message's first word last;
 * - a sender claims q only when the slot speaks for q - N and every lossless group's floor is
 *   above q - N, so a lossless group's unfinished message is never overwritten;
 * - every claim is recorded in its owner's participant entry before the compare-and-swap that
 *   makes it, so recovery can always name its owner; only dead owners lose claims;
 * - a member finishes a run only after handing its messages on, so one that dies holding them
 *   leaves them for another member of its group (at least once).
 */
import { MmapipcError } from '../errors.js';
import { LAST_ACTIVITY_OFFSET, MEMBERS_WAITING_OFFSET, SENDERS_WAITING_OFFSET, ownerTag, type RingGeometry } from '../layout/ring-layout.js';
import type { Origin } from '../layout/origin-layout.js';
import type { RingMemory } from '../layout/data-windows.js';
import { claimBatch } from './claim.js';
import type { Fault } from './fault.js';
import { computeGate, readTail } from './groups.js';
import { HeldTakes } from './held.js';
import { Member, type Gap } from './member.js';
import type { HeldBatch, HeldViews, Message, MessageClaim, MessageHandler, RawHandler } from './messages.js';
import type { EntryLocks } from './participants.js';
import { Receiver } from './receiver.js';
import { recoverClaims, type RecoveryReport } from './recovery.js';
import { Sender, type Payload } from './sender.js';
import { SlotWindows, ringPartsOf } from './slot-windows.js';
import { TakeReader } from './take-reader.js';
import { viewsOf, type RingViews } from './views.js';
import { announce, takeSleepers } from './wait-word.js';

export type { Gap } from './member.js';
export type { Message, MessageClaim, MessageView, HeldViews, HeldBatch, MessageHandler, RawHandler } from './messages.js';

/** Who is calling: recorded in claims so that recovery can find the owner. */
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
  /** The group this ring object receives for (omit for a sender only). */
  readonly group?: { readonly index: number; readonly generation: number; readonly name: string };
  /** Fault-injection hook (tests). */
  readonly fault?: Fault;
}

/** Which side may have a sleeper to wake after an operation. */
export type WakeTarget = 'receivers' | 'senders';
export type Wake = (target: WakeTarget) => void;

const MEMBERS_WAITING = MEMBERS_WAITING_OFFSET >> 2;
const SENDERS_WAITING = SENDERS_WAITING_OFFSET >> 2;
const LAST_ACTIVITY = LAST_ACTIVITY_OFFSET >> 3;

export class Ring {
  readonly geometry: RingGeometry;
  /** The file's bytes before slot 0: header, tables, sequence words (the slots: `slots`). */
  readonly memory: Buffer;
  readonly views: RingViews;
  /** The head and data windows this ring object sees (another ring object can be made over them). */
  readonly mapped: RingMemory;
  readonly slots: SlotWindows;
  readonly #sender: Sender;
  readonly #member: Member | undefined;
  /** The receive calls and held batches of #member (both undefined when it is undefined). */
  readonly #receiver: Receiver | undefined;
  readonly #held: HeldTakes | undefined;
  readonly #participant: number;
  readonly #group: RingOptions['group'];
  readonly #words: Int32Array;
  readonly #doubles: Float64Array;
  /** Called after a publish or a finish when the other side may have sleepers (set by the opener). */
  wake: Wake = () => {};

  /** `memory`: the ring's head and data windows, or one Buffer holding the whole file (up to 4 GiB). */
  constructor(memory: Buffer | RingMemory, geometry: RingGeometry, options: RingOptions = {}) {
    const parts = ringPartsOf(memory, geometry);
    if (parts.head.length < geometry.dataOffset) {
      throw new RangeError(`ring head is ${parts.head.length} bytes, the geometry needs ${geometry.dataOffset}`);
    }
    this.geometry = geometry;
    this.memory = parts.head;
    this.mapped = parts;
    this.views = viewsOf(parts.head, geometry);
    this.slots = new SlotWindows(parts, geometry);
    this.#words = this.views.words;
    this.#doubles = this.views.doubles;
    const identity = options.identity ?? { pid: 0, participant: -1 };
    this.#participant = identity.participant;
    this.#group = options.group;
    const fault = options.fault ?? (() => {});
    this.#sender = new Sender(this.views, this.slots, geometry, {
      pid: identity.pid,
      participant: identity.participant,
      owner: ownerTag(identity.participant, identity.generation ?? 0),
      stamp: options.stamp ?? true,
      fault: options.fault,
    });
    this.#sender.wake = () => this.wake('receivers');
    if (options.group) {
      const member = new Member(this.views, this.slots, geometry, {
        participant: identity.participant,
        group: options.group.index,
        groupGeneration: options.group.generation,
        groupName: options.group.name,
        fault: options.fault,
      });
      member.wake = () => this.wake('senders');
      const reader = new TakeReader(member, this.slots, geometry);
      this.#member = member;
      this.#receiver = new Receiver(member, reader, fault);
      this.#held = new HeldTakes(member, reader, fault);
    }
  }

  /** Called for each gap a lossy group finds (positions overwritten before it read them). */
  set onGap(handler: (gap: Gap) => void) {
    if (this.#member) this.#member.onGap = handler;
  }

  /** How often the messages being handed out were delivered before (0: first delivery). */
  get deliveries(): number {
    return this.#member?.deliveries ?? 0;
  }

  /** The group this ring object receives for, if any. */
  get groupName(): string | undefined {
    return this.#group?.name;
  }

  // ---- sending ----

  /** Sends one message if there is room: false when full. Throws MessageTooLargeError when it cannot fit. */
  trySend(message: Payload): boolean {
    return this.#sender.trySend(message);
  }

  /** Sends one message of `kind` with `extension` before its payload (requests and replies, docs/format.md §9a); false when full. */
  trySendRecord(kind: number, extension: Uint8Array, payload: Uint8Array): boolean {
    return this.#sender.trySendRecord(kind, extension, payload);
  }

  /** Sends as many of `messages` (from `start`) as fit now; returns how many. */
  trySendBatch(messages: ReadonlyArray<Payload>, start = 0): number {
    return this.#sender.trySendBatch(messages, start);
  }

  /**
   * Claims the space of one message of `length` bytes at the tail, to write in place: null when
   * the ring has no room now. MessageTooLargeError past the ring's largest message.
   */
  tryClaim(length: number): MessageClaim | null {
    return this.tryClaimBatch([length]);
  }

  /** Claims the space of as many of `lengths` as fit now, in one step (null: none). */
  tryClaimBatch(lengths: readonly number[]): MessageClaim | null {
    return claimBatch(this.#sender, lengths);
  }

  /** Sequence number of this ring object's most recent send (-1 before the first). */
  get lastSentSequence(): number {
    return this.#sender.lastSentSequence;
  }

  // ---- receiving ----

  #requireMember(): Member {
    return this.#member ?? sendOnly();
  }

  #requireReceiver(): Receiver {
    return this.#receiver ?? sendOnly();
  }

  /** Takes the oldest message for this group, or returns null when there is none. */
  tryReceive(): Message | null {
    return this.#requireReceiver().tryReceive();
  }

  /** Sender pid, stamp and sequence of the message tryReceiveInto returned last. */
  get lastPid(): number {
    return this.#receiver?.lastPid ?? 0;
  }

  get lastSentAt(): number {
    return this.#receiver?.lastSentAt ?? 0;
  }

  get lastReceivedSequence(): number {
    return this.#receiver?.lastReceivedSequence ?? -1;
  }

  /**
   * Takes the oldest message into `target` (at `offset`) without allocating: returns its length,
   * or -1 when there is none. `target` must have room for the largest message.
   */
  tryReceiveInto(target: Uint8Array, offset = 0): number {
    return this.#requireReceiver().tryReceiveInto(target, offset);
  }

  /**
   * Takes the oldest message and hands `handler` a view of it, with no copy (lossless groups).
   * The run is finished only after `handler` returns; if it throws, the message stays this
   * member's and comes first next time. Returns false when there is none.
   */
  tryReceiveWith(handler: MessageHandler): boolean {
    return this.tryReceiveBatchWith(1, handler) > 0;
  }

  /**
   * Takes up to `max` messages, hands each to `handler` as a view, then calls `done` (if given)
   * while all are still held, and only then finishes them. If `handler` or `done` throws, they
   * stay this member's and come first next time (or go to another member if this process dies).
   */
  tryReceiveBatchWith(max: number, handler: MessageHandler, done?: () => void): number {
    return this.#requireReceiver().tryReceiveBatchWith(max, handler, done);
  }

  /**
   * The origin of the message at `position` while a handler of tryReceiveBatchWith holds it:
   * set for a message `bridge import` brought in (kind 3, docs/format.md §9b), else undefined.
   */
  originAt(position: number): Origin | undefined {
    return this.#requireReceiver().originAt(position);
  }

  /** tryReceiveBatchWith without allocating: `handler` gets a buffer, offset, length and position. */
  tryReceiveBatchRaw(max: number, handler: RawHandler, done?: () => void): number {
    return this.#requireReceiver().tryReceiveBatchRaw(max, handler, done);
  }

  /**
   * Hands up to `max` waiting messages to `handler` as (buffer, offset, length) — no copy, no
   * allocation — finishing each take when the handler has seen it. Returns how many were handled.
   */
  drain(handler: (buffer: Buffer, offset: number, length: number) => void, max = Infinity): number {
    let handled = 0;
    while (handled < max) {
      const count = this.tryReceiveBatchRaw(Math.min(max - handled, this.geometry.slotCount), handler);
      if (count === 0) break;
      handled += count;
    }
    return handled;
  }

  /** Receives up to `max` messages now (copies); returns them, possibly none. */
  tryReceiveBatch(max: number): Message[] {
    return this.#requireReceiver().tryReceiveBatch(max);
  }

  /**
   * Takes up to `max` waiting messages (copies) and holds them: they are finished only by
   * ack(). Until then they hold this group's floor; if this process dies, recovery hands them to
   * another member of the group. Null when nothing is waiting. One batch at a time.
   */
  hold(max: number): HeldBatch | null {
    return (this.#held ?? sendOnly()).hold(max);
  }

  /**
   * Takes up to `max` waiting messages and returns views of them in the ring (no copy), held
   * until release(); null when nothing is waiting. A lossy group's (or a changed group's)
   * messages are copies, checked whole, since their slots may be reused under a view.
   */
  tryView(max = 1): HeldViews | null {
    return (this.#held ?? sendOnly()).tryView(max);
  }

  // ---- recovery ----

  /**
   * Resolves claims of dead processes: releases dead senders' unpublished claims, takes over a
   * dead member's run of this group (when idle), frees dead entries. See ./recovery.ts.
   */
  recover(locks: EntryLocks): RecoveryReport {
    const member = this.#member;
    const report = recoverClaims(this.views, this.geometry, {
      locks,
      self: this.#participant,
      member:
        member && this.#group
          ? { side: member, group: this.#group.index, generation: this.#group.generation, idle: !member.holding }
          : undefined,
    });
    if (report.released > 0) this.notify('receivers');
    return report;
  }

  // ---- state for sleeping and for display ----

  /** Messages this group has not taken yet (or, sending only, not yet finished by the slowest lossless group). */
  get occupancy(): number {
    const tail = readTail(this.views).position;
    const floor = this.#member ? this.#member.dispatch : computeGate(this.views, this.geometry);
    if (!Number.isFinite(floor)) return 0;
    return Math.min(Math.max(tail - floor, 0), this.geometry.slotCount);
  }

  get capacity(): number {
    return this.geometry.slotCount;
  }

  /** The largest message, in bytes: one that fills every slot. */
  get maxMessageLength(): number {
    return this.geometry.maxMessageLength;
  }

  /** True when this group has a message to take now. */
  get hasMessage(): boolean {
    return this.#requireMember().hasMessage;
  }

  /** True when a send of a one-slot message would find room now. */
  get hasRoom(): boolean {
    return this.#sender.hasRoom;
  }

  /** True when a send of a message of `length` bytes would find room now (or pad the ring's end). */
  hasRoomFor(length: number): boolean {
    return this.#sender.hasRoomFor(length);
  }

  /** The tail position (slots claimed since creation), and the position this group (or the slowest lossless one) is past. */
  get totals(): { sent: number; received: number } {
    const sent = readTail(this.views).position;
    const floor = this.#member ? this.#member.dispatch : computeGate(this.views, this.geometry);
    return { sent, received: Number.isFinite(floor) ? floor : sent };
  }

  /**
   * Announces a sleeper on one side: sets the side's wait word to 1 and returns the value to
   * sleep on. The caller must check the ring again after this and before sleeping.
   */
  announceSleep(side: WakeTarget): number {
    return announce(this.#words, side === 'receivers' ? MEMBERS_WAITING : SENDERS_WAITING);
  }

  /** Wakes the sleepers of one side, if any (after a group was created, moved or removed). */
  notify(side: WakeTarget): void {
    if (takeSleepers(this.#words, side === 'receivers' ? MEMBERS_WAITING : SENDERS_WAITING)) this.wake(side);
  }

  /** Marks activity for `stat` (a plain store: approximate by design). */
  touch(now: number = Date.now()): void {
    this.#doubles[LAST_ACTIVITY] = now;
  }
}

function sendOnly(): never {
  throw new MmapipcError('this ring object was opened to send only; open it with a group (or role receiver) to receive');
}
