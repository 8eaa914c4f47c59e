/**
 * Reading one take of a group member (./member.ts): each slot's header checked against its span,
 * a message that may have been overwritten (a lossy group, or one changed under the run) copied
 * and checked against the tail before anyone sees it, corrupt slots noted and reported once
 * nothing else came, and received messages built as copies. Shared by the receive calls
 * (./receiver.ts) and held batches (./held.ts) of one ring object.
 */
import { RingFormatError } from '../errors.js';
import { SHAPE_EXTENSION_MASK, SHAPE_KIND_SHIFT, SLOT_HEADER_LENGTH, SLOT_LENGTH, SLOT_PID, SLOT_SENT_AT, SLOT_SHAPE, type RingGeometry } from '../layout/ring-layout.js';
import { decodeOriginExtension, KIND_IMPORTED } from '../layout/origin-layout.js';
import type { Member } from './member.js';
import type { Message } from './messages.js';
import type { SlotWindow, SlotWindows } from './slot-windows.js';

/** Gets a stable copy of a message's payload: `buffer` from `offset`, `length` bytes, and where it sits. */
export type TakeVisitor = (buffer: Buffer, offset: number, length: number, position: number, slot: number) => void;

export const EMPTY = Buffer.alloc(0);

export class TakeReader {
  readonly #member: Member;
  readonly #slotCount: number;
  readonly #stride: number;
  /** The most bytes of extension and payload one message holds: maxSpan slots less its header. */
  readonly #maxRecord: number;
  /** The window of the slot being visited (set by visitTake, and by a caller that looks a slot up itself). */
  window: SlotWindow;
  /** Where a lossy group's message is copied and checked before a handler sees it. */
  #scratch: Buffer | undefined;
  /** A corrupt slot seen in the last take: skipped, and reported once nothing else came. */
  #corrupt: RingFormatError | undefined;

  constructor(member: Member, slots: SlotWindows, geometry: RingGeometry) {
    this.#member = member;
    this.#slotCount = geometry.slotCount;
    this.#stride = geometry.slotStride;
    // A record's extension and payload together may use the extension reserve (docs/format.md §2).
    this.#maxRecord = geometry.maxSpan * geometry.slotStride - SLOT_HEADER_LENGTH;
    this.window = slots.windows[0]!;
  }

  /** The payload length of the message in `slot` spanning `span` slots (its shape word given), -1 when its header does not add up. */
  #lengthAt(slot: number, span: number, shape: number): number {
    const length = this.window.words[(slot + SLOT_LENGTH) >>> 2]!;
    const extension = shape & SHAPE_EXTENSION_MASK;
    // Within the largest message too: a span no sender writes must not reach past the slot's window.
    return length < 0 || extension % 8 !== 0 || SLOT_HEADER_LENGTH + extension + length > span * this.#stride || extension + length > this.#maxRecord ? -1 : length;
  }

  /** The pid in the header of the slot at `slot` of the current window. */
  pidAt(slot: number): number {
    return this.window.words[(slot + SLOT_PID) >>> 2]! >>> 0;
  }

  sentAtOf(slot: number): number {
    return this.window.doubles[(slot + SLOT_SENT_AT) >>> 3]!;
  }

  #scratchOf(length: number): Buffer {
    let scratch = this.#scratch;
    if (!scratch || scratch.length < length) scratch = this.#scratch = Buffer.allocUnsafe(Math.max(length, this.#stride));
    return scratch;
  }

  /** True when `buffer` is the scratch copy (reused by the next take), not the mapping. */
  isScratch(buffer: Buffer): boolean {
    return buffer === this.#scratch;
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
  visitTake(max: number, visit: TakeVisitor, retract?: (position: number) => void): number {
    const member = this.#member;
    const taken = member.take(max);
    if (taken === 0) return 0;
    const slotCount = this.#slotCount;
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
      const window = (this.window = member.window);
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

  /** Throws the corrupt slot a take skipped, when that take delivered nothing else. */
  reportCorrupt(handled: number): void {
    const corrupt = this.#corrupt;
    this.#corrupt = undefined;
    if (corrupt && handled === 0) throw corrupt;
  }

  /** Forgets a corrupt slot the last take skipped (its other messages were delivered). */
  forgetCorrupt(): void {
    this.#corrupt = undefined;
  }

  #corruptError(position: number, why: string): RingFormatError {
    return new RingFormatError(`corrupt message at position ${position}: ${why}; it was skipped`);
  }

  /** A received message: a copy of the payload visited at `offset` of `buffer`, with its header's fields. */
  message(buffer: Buffer, offset: number, length: number, position: number, slot: number, deliveries: number): Message {
    const data = Buffer.allocUnsafe(length);
    buffer.copy(data, 0, offset, offset + length);
    const window = this.window;
    const shape = window.words[(slot + SLOT_SHAPE) >>> 2]!;
    if (shape === 0) return { data, sequence: position, pid: this.pidAt(slot), sentAt: this.sentAtOf(slot), deliveries, kind: 0, extension: EMPTY };
    // The extension sits just before the payload: in the slot, or in the scratch copy (which holds the payload only).
    const extensionLength = shape & SHAPE_EXTENSION_MASK;
    const extension = Buffer.from(window.bytes.subarray(slot + SLOT_HEADER_LENGTH, slot + SLOT_HEADER_LENGTH + extensionLength));
    const kind = (shape >>> SHAPE_KIND_SHIFT) & 0xff;
    const message = { data, sequence: position, pid: this.pidAt(slot), sentAt: this.sentAtOf(slot), deliveries, kind, extension };
    return kind === KIND_IMPORTED ? { ...message, origin: decodeOriginExtension(kind, extension) } : message;
  }
}
