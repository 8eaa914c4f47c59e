/**
 * The receive calls of a ring object that is a group member: each takes what is waiting, hands it
 * on (a copy, a copy into the caller's buffer, or a view to a handler) and only then finishes the
 * take; a handler that throws leaves the take this member's (kept, first next time). The slots
 * are read by ./take-reader.ts; the contracts are stated on Ring (./ring.ts), which delegates here.
 */
import { SHAPE_EXTENSION_MASK, SHAPE_KIND_SHIFT, SLOT_HEADER_LENGTH, SLOT_SHAPE } from '../layout/ring-layout.js';
import { decodeOriginExtension, KIND_IMPORTED, type Origin } from '../layout/origin-layout.js';
import type { Fault } from './fault.js';
import type { Member } from './member.js';
import type { Message, MessageHandler, RawHandler } from './messages.js';
import { EMPTY, type TakeReader } from './take-reader.js';

export class Receiver {
  readonly #member: Member;
  readonly #reader: TakeReader;
  readonly #fault: Fault;

  constructor(member: Member, reader: TakeReader, fault: Fault) {
    this.#member = member;
    this.#reader = reader;
    this.#fault = fault;
  }

  /** The message the last take of tryReceive visited (null: a skip record, a lost or corrupt one). */
  #received: Message | null = null;
  /** tryReceive's visitor, made once: no closure per call on the per-message path. */
  readonly #receiveOne = (buffer: Buffer, offset: number, length: number, position: number, slot: number): void => {
    this.#received = this.#reader.message(buffer, offset, length, position, slot, this.#member.deliveries);
  };

  readonly #dropOne = (): void => {
    this.#received = null;
  };

  tryReceive(): Message | null {
    const member = this.#member;
    for (;;) {
      this.#received = null;
      const taken = this.#reader.visitTake(1, this.#receiveOne, this.#dropOne);
      if (taken === 0) return null;
      member.finish();
      const message = this.#received;
      this.#received = null;
      if (message) return message;
      this.#reader.reportCorrupt(0);
    }
  }

  /** Sender pid, stamp and sequence of the message tryReceiveInto returned last. */
  lastPid = 0;
  lastSentAt = 0;
  lastReceivedSequence = -1;

  tryReceiveInto(target: Uint8Array, offset: number): number {
    const member = this.#member;
    const room = target.length - offset;
    const into = this.#into;
    for (;;) {
      into.target = target;
      into.offset = offset;
      into.room = room;
      into.length = -1;
      const taken = this.#reader.visitTake(1, this.#copyInto, this.#dropInto);
      into.target = EMPTY;
      if (taken === 0) return -1;
      const length = into.length;
      if (length === -2) {
        member.keep();
        throw new RangeError(`target has ${room} bytes from offset ${offset}; the message at position ${member.takeStart} takes ${this.#tooLong}`);
      }
      member.finish();
      if (length >= 0) return length;
      this.#reader.reportCorrupt(0);
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
    this.lastPid = this.#reader.pidAt(slot);
    this.lastSentAt = this.#reader.sentAtOf(slot);
    this.lastReceivedSequence = position;
  };
  readonly #dropInto = (): void => {
    this.#into.length = -1;
  };

  tryReceiveBatchWith(max: number, handler: MessageHandler, done?: () => void): number {
    return this.tryReceiveBatchRaw(
      max,
      (buffer, offset, length, position) => {
        const member = this.#member;
        const reader = this.#reader;
        const slot = member.slotOf(position);
        reader.window = member.window;
        handler(buffer.subarray(offset, offset + length), position, reader.pidAt(slot), reader.sentAtOf(slot));
      },
      done,
    );
  }

  /** The origin of the message at `position` while a handler of tryReceiveBatchWith holds it (kind 3 only). */
  originAt(position: number): Origin | undefined {
    const member = this.#member;
    const slot = member.slotOf(position); // in the member's current window
    const window = member.window;
    const shape = window.words[(slot + SLOT_SHAPE) >>> 2]!;
    if (((shape >>> SHAPE_KIND_SHIFT) & 0xff) !== KIND_IMPORTED) return undefined;
    const start = slot + SLOT_HEADER_LENGTH;
    return decodeOriginExtension(KIND_IMPORTED, window.bytes.subarray(start, start + (shape & SHAPE_EXTENSION_MASK)));
  }

  tryReceiveBatchRaw(max: number, handler: RawHandler, done?: () => void): number {
    const member = this.#member;
    for (;;) {
      let handled = 0;
      let finished = false;
      try {
        const taken = this.#reader.visitTake(max, (buffer, offset, length, position) => {
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
      this.#reader.reportCorrupt(handled);
      if (handled > 0) return handled;
    }
  }

  tryReceiveBatch(max: number): Message[] {
    const member = this.#member;
    const reader = this.#reader;
    const batch: Message[] = [];
    while (batch.length < max) {
      const taken = reader.visitTake(
        max - batch.length,
        (buffer, offset, length, position, slot) => {
          batch.push(reader.message(buffer, offset, length, position, slot, member.deliveries));
        },
        (position) => {
          const at = batch.findIndex((message) => message.sequence === position);
          if (at >= 0) batch.splice(at, 1);
        },
      );
      if (taken === 0) break;
      member.finish();
    }
    reader.reportCorrupt(batch.length);
    return batch;
  }
}
