/**
 * The ring: one sending side and, for a process that receives, one group member, over a shared
 * mapping. Pure: it sees a Buffer and nothing else (no fs, no FFI); sleeping is left to the
 * caller (./blocking.ts) and liveness to recovery (./recovery.ts).
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
import { MmapipcError, RingFormatError } from '../errors.js';
import {
  LAST_ACTIVITY_OFFSET,
  MEMBERS_WAITING_OFFSET,
  SENDERS_WAITING_OFFSET,
  SHAPE_EXTENSION_MASK,
  SHAPE_KIND_SHIFT,
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  SLOT_PID,
  SLOT_SENT_AT,
  SLOT_SHAPE,
  ownerTag,
  type RingGeometry,
} from '../layout/ring-layout.js';
import { decodeOriginExtension, KIND_IMPORTED, type Origin } from '../layout/origin-layout.js';
import type { Fault } from './fault.js';
import { computeGate, readTail } from './groups.js';
import { Member, type Gap } from './member.js';
import { recoverClaims, type RecoveryReport } from './recovery.js';
import { Sender, type Payload } from './sender.js';
import type { RingMemory } from '../layout/data-windows.js';
import { SlotWindows, ringPartsOf, type SlotWindow } from './slot-windows.js';
import { viewsOf, type RingViews } from './views.js';
import { announce, takeSleepers } from './wait-word.js';
import type { EntryLocks } from './participants.js';

export type { Gap } from './member.js';

/** A received message. `data` is a copy: it stays valid after the slot is reused. */
export interface Message {
  readonly data: Buffer;
  /**
   * Its position in the ring's history (the first slot it occupies, counted from 0 at creation):
   * the same in every group. Consecutive messages' sequence numbers differ by their spans.
   */
  readonly sequence: number;
  /** Pid of the process that sent it. */
  readonly pid: number;
  /** When it was sent, in ms since the epoch (0 when the sender did not stamp it). */
  readonly sentAt: number;
  /** How many times this group delivered it before (0: first delivery; more after a member died). */
  readonly deliveries: number;
  /** Its kind (docs/format.md §2.4): 0 a message, 1 a request, 2 a reply, 3 imported by `bridge import`. */
  readonly kind: number;
  /** The metadata between its header and its payload (requests, replies, imported messages; empty for messages). */
  readonly extension: Buffer;
  /** Where `bridge import` found it (engine, stream, position): set for kind 3 only (docs/bridge.md). */
  readonly origin?: Origin;
}

/**
 * Space claimed in the ring for messages written in place (zero-copy send): write each payload
 * into its view, then commit() (publishes them, in order) or abort() (they become skip records).
 * A claim that is dropped — an exception in a `using` block — aborts. One claim at a time.
 */
export interface MessageClaim extends Disposable {
  /** The first (or only) message's writable view, `length` bytes of the ring itself. */
  readonly data: Buffer;
  readonly sequence: number;
  /** Every claimed message's view and sequence number, in order (a batch claim may get fewer than it asked for). */
  readonly buffers: readonly Buffer[];
  readonly sequences: readonly number[];
  /** Publishes the messages, each with its claimed length or the length given (at most the claimed). Returns the last sequence number. */
  commit(lengths?: number | readonly number[]): number;
  abort(): void;
}

/** A message seen in place (zero-copy receive): `data` is a view of the ring, valid until the batch is released. */
export interface MessageView {
  readonly data: Buffer;
  readonly sequence: number;
  readonly pid: number;
  readonly sentAt: number;
  readonly deliveries: number;
}

/**
 * Messages viewed in place and held: the group does not pass them, and their slots are not
 * reused, until release() (or dispose). If this process dies holding them, another member of the
 * group gets them. One batch at a time; release it before receiving again.
 */
export interface HeldViews extends Disposable {
  readonly messages: readonly MessageView[];
  release(): void;
}

/** Messages held by this member until ack(): freed only then (see RingFile.hold). */
export interface HeldBatch {
  readonly messages: readonly Message[];
  ack(): void;
}

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
export type MessageHandler = (view: Buffer, sequence: number, pid: number, sentAt: number) => void;
export type RawHandler = (buffer: Buffer, offset: number, length: number, position: number) => void;

const MEMBERS_WAITING = MEMBERS_WAITING_OFFSET >> 2;
const EMPTY = Buffer.alloc(0);
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
  /** The window of the slot being visited (set by #visitTake and tryReceiveBatchWith). */
  #window: SlotWindow;
  /** The most bytes of extension and payload one message holds: maxSpan slots less its header. */
  readonly #maxRecord: number;
  readonly #sender: Sender;
  readonly #member: Member | undefined;
  readonly #participant: number;
  readonly #group: RingOptions['group'];
  readonly #stride: number;
  readonly #words: Int32Array;
  readonly #doubles: Float64Array;
  readonly #fault: Fault;
  /** Where a lossy group's message is copied and checked before a handler sees it. */
  #scratch: Buffer | undefined;
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
    this.#window = this.slots.windows[0]!;
    // A record's extension and payload together may use the extension reserve (docs/format.md §2).
    this.#maxRecord = geometry.maxSpan * geometry.slotStride - SLOT_HEADER_LENGTH;
    this.#words = this.views.words;
    this.#doubles = this.views.doubles;
    this.#stride = geometry.slotStride;
    const identity = options.identity ?? { pid: 0, participant: -1 };
    this.#participant = identity.participant;
    this.#group = options.group;
    this.#fault = options.fault ?? (() => {});
    this.#sender = new Sender(this.views, this.slots, geometry, {
      pid: identity.pid,
      participant: identity.participant,
      owner: ownerTag(identity.participant, identity.generation ?? 0),
      stamp: options.stamp ?? true,
      fault: options.fault,
    });
    this.#sender.wake = () => this.wake('receivers');
    if (options.group) {
      this.#member = new Member(this.views, this.slots, geometry, {
        participant: identity.participant,
        group: options.group.index,
        groupGeneration: options.group.generation,
        groupName: options.group.name,
        fault: options.fault,
      });
      this.#member.wake = () => this.wake('senders');
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
    const sender = this.#sender;
    const count = sender.tryClaim(lengths);
    if (count === 0) return null;
    const buffers: Buffer[] = [];
    const sequences: number[] = [];
    for (let i = 0; i < count; i++) {
      const position = sender.claimedPosition(i);
      buffers.push(sender.payloadView(position, lengths[i]!));
      sequences.push(position);
    }
    let open = true;
    const close = (): void => {
      if (!open) throw new MmapipcError('this claim was already committed or aborted');
      open = false;
    };
    return {
      data: buffers[0]!,
      sequence: sequences[0]!,
      buffers,
      sequences,
      commit: (lengths) => {
        close();
        return sender.commitClaim(typeof lengths === 'number' ? [lengths] : lengths);
      },
      abort: () => {
        if (!open) return;
        open = false;
        sender.abortClaim();
      },
      [Symbol.dispose]: () => {
        if (!open) return;
        open = false;
        sender.abortClaim();
      },
    };
  }

  /** Sequence number of this ring object's most recent send (-1 before the first). */
  get lastSentSequence(): number {
    return this.#sender.lastSentSequence;
  }

  // ---- receiving ----

  #requireMember(): Member {
    if (!this.#member) throw new MmapipcError('this ring object was opened to send only; open it with a group (or role receiver) to receive');
    return this.#member;
  }

  /** The payload length of the message in `slot` spanning `span` slots (its shape word given), -1 when its header does not add up. */
  #lengthAt(slot: number, span: number, shape: number): number {
    const length = this.#window.words[(slot + SLOT_LENGTH) >>> 2]!;
    const extension = shape & SHAPE_EXTENSION_MASK;
    // Within the largest message too: a span no sender writes must not reach past the slot's window.
    return length < 0 || extension % 8 !== 0 || SLOT_HEADER_LENGTH + extension + length > span * this.#stride || extension + length > this.#maxRecord ? -1 : length;
  }

  /** The pid in the header of the slot at `slot` of the current window. */
  #pidAt(slot: number): number {
    return this.#window.words[(slot + SLOT_PID) >>> 2]! >>> 0;
  }

  #sentAtOf(slot: number): number {
    return this.#window.doubles[(slot + SLOT_SENT_AT) >>> 3]!;
  }

  #scratchOf(length: number): Buffer {
    let scratch = this.#scratch;
    if (!scratch || scratch.length < length) scratch = this.#scratch = Buffer.allocUnsafe(Math.max(length, this.#stride));
    return scratch;
  }

  /**
   * Visits each message of one take (up to `max` messages): skip records are passed over, and a
   * message that may have been overwritten (a lossy group, or a group removed or made lossy under
   * the run) is checked against the tail after copying, and counted as a gap rather than
   * delivered. `visit` gets the buffer and offset of a stable copy of the payload (the slot
   * itself while the gate guards the run). A copying caller passes `retract`: called when a
   * message it copied in place turns out to have been overwritten under the copy. Returns how
   * many positions were taken (0: nothing waiting); the take is left unfinished.
   */
  #visitTake(
    member: Member,
    max: number,
    visit: (buffer: Buffer, offset: number, length: number, position: number, slot: number) => void,
    retract?: (position: number) => void,
  ): number {
    const taken = member.take(max);
    if (taken === 0) return 0;
    const slotCount = this.geometry.slotCount;
    const steps = member.steps;
    const stepCount = member.stepCount;
    // Checked once per take: a group changed under the run (rm, set --lossy) makes every copy
    // of it checked against the tail; one that changes during the take is caught after it.
    const guarded = member.guarded;
    let position = member.takeStart;
    let index = member.takeIndex;
    let visited = 0;
    for (let i = 0; i < stepCount; i++) {
      const span = steps[i]!;
      if (span <= 0) {
        // A skip record; or overwritten: a loss where the run was not guarded, corruption where it was.
        if (span < 0 && (guarded || member.stillThere(position))) this.#corrupt ??= this.#corruptError(position, 'its sequence word speaks for another position');
        position++;
        if (++index === slotCount) index = 0;
        continue;
      }
      const slot = member.slotAt(index);
      const window = (this.#window = member.window);
      const shape = window.words[(slot + SLOT_SHAPE) >>> 2]!;
      const payload = slot + SLOT_HEADER_LENGTH + (shape & SHAPE_EXTENSION_MASK);
      const length = this.#lengthAt(slot, span, shape);
      if (!guarded) {
        const scratch = length >= 0 ? this.#scratchOf(length) : undefined;
        if (scratch) window.bytes.copy(scratch, 0, payload, payload + length);
        if (member.stillThere(position, span)) {
          if (scratch) visit(scratch, 0, length, position, slot);
          else this.#corrupt ??= this.#corruptError(position, `its length ${window.words[(slot + SLOT_LENGTH) >>> 2]} does not fit its ${span} slot(s)`);
        }
      } else if (length < 0) {
        this.#corrupt ??= this.#corruptError(position, `its length ${window.words[(slot + SLOT_LENGTH) >>> 2]} does not fit its ${span} slot(s)`);
      } else {
        visit(window.bytes, payload, length, position, slot);
        visited++;
      }
      position += span;
      index += span;
      if (index >= slotCount) index -= slotCount;
    }
    // Copied in place while guarded: if the group changed meanwhile, trust each copy only if the tail says so.
    if (retract && visited > 0 && guarded && !member.guarded) this.#recheck(member, retract);
    return taken;
  }

  /** After a guarded take whose group changed under it: retracts each visited message the tail says may be overwritten. */
  #recheck(member: Member, retract: (position: number) => void): void {
    const steps = member.steps;
    let position = member.takeStart;
    for (let i = 0; i < member.stepCount; i++) {
      const span = steps[i]!;
      if (span > 0 && !member.stillThere(position, span)) retract(position);
      position += span > 0 ? span : 1;
    }
  }

  /** A corrupt slot seen in the last take: skipped, and reported once nothing else came. */
  #corrupt: RingFormatError | undefined;

  /** Throws the corrupt slot a take skipped, when that take delivered nothing else. */
  #reportCorrupt(handled: number): void {
    const corrupt = this.#corrupt;
    this.#corrupt = undefined;
    if (corrupt && handled === 0) throw corrupt;
  }

  #corruptError(position: number, why: string): RingFormatError {
    return new RingFormatError(`corrupt message at position ${position}: ${why}; it was skipped`);
  }

  #message(buffer: Buffer, offset: number, length: number, position: number, slot: number, deliveries: number): Message {
    const data = Buffer.allocUnsafe(length);
    buffer.copy(data, 0, offset, offset + length);
    const window = this.#window;
    const shape = window.words[(slot + SLOT_SHAPE) >>> 2]!;
    if (shape === 0) return { data, sequence: position, pid: this.#pidAt(slot), sentAt: this.#sentAtOf(slot), deliveries, kind: 0, extension: EMPTY };
    // The extension sits just before the payload: in the slot, or in the scratch copy (which holds the payload only).
    const extensionLength = shape & SHAPE_EXTENSION_MASK;
    const extension = Buffer.from(window.bytes.subarray(slot + SLOT_HEADER_LENGTH, slot + SLOT_HEADER_LENGTH + extensionLength));
    const kind = (shape >>> SHAPE_KIND_SHIFT) & 0xff;
    const message = { data, sequence: position, pid: this.#pidAt(slot), sentAt: this.#sentAtOf(slot), deliveries, kind, extension };
    return kind === KIND_IMPORTED ? { ...message, origin: decodeOriginExtension(kind, extension) } : message;
  }

  /** The message the last take of tryReceive visited (null: a skip record, a lost or corrupt one). */
  #received: Message | null = null;
  /** tryReceive's visitor, made once: no closure per call on the per-message path. */
  readonly #receiveOne = (buffer: Buffer, offset: number, length: number, position: number, slot: number): void => {
    this.#received = this.#message(buffer, offset, length, position, slot, this.#member!.deliveries);
  };

  readonly #dropOne = (): void => {
    this.#received = null;
  };

  /** Takes the oldest message for this group, or returns null when there is none. */
  tryReceive(): Message | null {
    const member = this.#requireMember();
    for (;;) {
      this.#received = null;
      const taken = this.#visitTake(member, 1, this.#receiveOne, this.#dropOne);
      if (taken === 0) return null;
      member.finish();
      const message = this.#received;
      this.#received = null;
      if (message) return message;
      this.#reportCorrupt(0);
    }
  }

  /** Sender pid, stamp and sequence of the message tryReceiveInto returned last. */
  lastPid = 0;
  lastSentAt = 0;
  lastReceivedSequence = -1;

  /**
   * Takes the oldest message into `target` (at `offset`) without allocating: returns its length,
   * or -1 when there is none. `target` must have room for the largest message.
   */
  tryReceiveInto(target: Uint8Array, offset = 0): number {
    const member = this.#requireMember();
    const room = target.length - offset;
    const into = this.#into;
    for (;;) {
      into.target = target;
      into.offset = offset;
      into.room = room;
      into.length = -1;
      const taken = this.#visitTake(member, 1, this.#copyInto, this.#dropInto);
      into.target = EMPTY;
      if (taken === 0) return -1;
      const length = into.length;
      if (length === -2) {
        member.keep();
        throw new RangeError(`target has ${room} bytes from offset ${offset}; the message at position ${member.takeStart} takes ${this.#tooLong}`);
      }
      member.finish();
      if (length >= 0) return length;
      this.#reportCorrupt(0);
    }
  }

  /** Where tryReceiveInto's visitor copies (one object, reused). */
  readonly #into: { target: Uint8Array; offset: number; room: number; length: number } = { target: EMPTY, offset: 0, room: 0, length: -1 };
  #tooLong = 0;
  readonly #copyInto = (buffer: Buffer, offset: number, length: number, position: number, slot: number): void => {
    const into = this.#into;
    if (length > into.room) {
      into.length = -2;
      this.#tooLong = length;
      return;
    }
    const target = into.target;
    if (length <= 64) {
      for (let i = 0; i < length; i++) target[into.offset + i] = buffer[offset + i]!;
    } else {
      target.set(buffer.subarray(offset, offset + length), into.offset);
    }
    into.length = length;
    this.lastPid = this.#pidAt(slot);
    this.lastSentAt = this.#sentAtOf(slot);
    this.lastReceivedSequence = position;
  };
  readonly #dropInto = (): void => {
    this.#into.length = -1;
  };

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
    return this.tryReceiveBatchRaw(
      max,
      (buffer, offset, length, position) => {
        const member = this.#requireMember();
        const slot = member.slotOf(position);
        this.#window = member.window;
        handler(buffer.subarray(offset, offset + length), position, this.#pidAt(slot), this.#sentAtOf(slot));
      },
      done,
    );
  }

  /**
   * The origin of the message at `position` while a handler of tryReceiveBatchWith holds it:
   * set for a message `bridge import` brought in (kind 3, docs/format.md §9b), else undefined.
   */
  originAt(position: number): Origin | undefined {
    const member = this.#requireMember();
    const slot = member.slotOf(position); // in the member's current window
    const window = member.window;
    const shape = window.words[(slot + SLOT_SHAPE) >>> 2]!;
    if (((shape >>> SHAPE_KIND_SHIFT) & 0xff) !== KIND_IMPORTED) return undefined;
    const start = slot + SLOT_HEADER_LENGTH;
    return decodeOriginExtension(KIND_IMPORTED, window.bytes.subarray(start, start + (shape & SHAPE_EXTENSION_MASK)));
  }

  /** tryReceiveBatchWith without allocating: `handler` gets a buffer, offset, length and position. */
  tryReceiveBatchRaw(max: number, handler: RawHandler, done?: () => void): number {
    const member = this.#requireMember();
    for (;;) {
      let handled = 0;
      let finished = false;
      try {
        const taken = this.#visitTake(member, max, (buffer, offset, length, position) => {
          handler(buffer, offset, length, position);
          handled++;
        });
        if (taken === 0) return 0;
        if (handled > 0) {
          done?.();
          this.#fault('receive-handled');
        }
        member.finish();
        finished = true;
      } finally {
        if (!finished) member.keep();
      }
      this.#reportCorrupt(handled);
      if (handled > 0) return handled;
    }
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
    const member = this.#requireMember();
    const batch: Message[] = [];
    while (batch.length < max) {
      const taken = this.#visitTake(
        member,
        max - batch.length,
        (buffer, offset, length, position, slot) => {
          batch.push(this.#message(buffer, offset, length, position, slot, member.deliveries));
        },
        (position) => {
          const at = batch.findIndex((message) => message.sequence === position);
          if (at >= 0) batch.splice(at, 1);
        },
      );
      if (taken === 0) break;
      member.finish();
    }
    this.#reportCorrupt(batch.length);
    return batch;
  }

  /**
   * Takes up to `max` waiting messages (copies) and holds them: they are finished only by
   * ack(). Until then they hold this group's floor; if this process dies, recovery hands them to
   * another member of the group. Null when nothing is waiting. One batch at a time.
   */
  hold(max: number): HeldBatch | null {
    const held = this.#holdTake('ack()', max, (buffer, offset, length, position, slot, deliveries) =>
      this.#message(buffer, offset, length, position, slot, deliveries),
    );
    return held && { messages: held.messages, ack: held.finish };
  }

  /**
   * Takes up to `max` messages, made into records by `make`, and holds them: the take is
   * finished only by the returned `finish` (once). Null when nothing is waiting. One held batch
   * at a time (`verb` names what ends the open one, for the error).
   */
  #holdTake<T extends { readonly sequence: number }>(
    verb: string,
    max: number,
    make: (buffer: Buffer, offset: number, length: number, position: number, slot: number, deliveries: number) => T,
  ): { messages: T[]; finish: () => void } | null {
    const member = this.#requireMember();
    if (member.holding && this.#held) throw new MmapipcError(`a held batch is still open: ${verb} it before taking another`);
    for (;;) {
      const messages: T[] = [];
      const taken = this.#visitTake(
        member,
        max,
        (buffer, offset, length, position, slot) => {
          messages.push(make(buffer, offset, length, position, slot, member.deliveries));
        },
        (position) => {
          const at = messages.findIndex((message) => message.sequence === position);
          if (at >= 0) messages.splice(at, 1);
        },
      );
      if (taken === 0) return null;
      if (messages.length === 0) {
        member.finish();
        this.#reportCorrupt(0);
        continue;
      }
      this.#corrupt = undefined;
      this.#held = true;
      let finished = false;
      return {
        messages,
        finish: () => {
          if (finished) return;
          finished = true;
          this.#held = false;
          this.#fault('receive-handled');
          member.finish();
        },
      };
    }
  }

  #held = false;

  /**
   * Takes up to `max` waiting messages and returns views of them in the ring (no copy), held
   * until release(); null when nothing is waiting. A lossy group's (or a changed group's)
   * messages are copies, checked whole, since their slots may be reused under a view.
   */
  tryView(max = 1): HeldViews | null {
    const held = this.#holdTake('release()', max, (buffer, offset, length, position, slot, deliveries) => ({
      // In the mapping while the gate guards the run; a checked copy otherwise (its scratch is reused).
      data: buffer !== this.#scratch ? buffer.subarray(offset, offset + length) : Buffer.from(buffer.subarray(offset, offset + length)),
      sequence: position,
      pid: this.#pidAt(slot),
      sentAt: this.#sentAtOf(slot),
      deliveries,
    }));
    return held && { messages: held.messages, release: held.finish, [Symbol.dispose]: held.finish };
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
