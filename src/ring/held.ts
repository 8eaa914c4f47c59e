/**
 * Held batches of a group member: messages taken and kept unfinished until the caller says
 * (ack() for copies, release() for zero-copy views). Until then they hold the group's floor, so
 * their slots are not reused, and a process that dies holding them leaves them to recovery
 * (./recovery.ts) for another member. One held batch at a time per ring object.
 */
import { MmapipcError } from '../errors.js';
import type { Fault } from './fault.js';
import type { Member } from './member.js';
import type { HeldBatch, HeldViews } from './messages.js';
import type { TakeReader } from './take-reader.js';

export class HeldTakes {
  readonly #member: Member;
  readonly #reader: TakeReader;
  readonly #fault: Fault;
  /** A batch handed out and not yet finished. */
  #held = false;

  constructor(member: Member, reader: TakeReader, fault: Fault) {
    this.#member = member;
    this.#reader = reader;
    this.#fault = fault;
  }

  /** Up to `max` waiting messages as copies, finished by ack(); null when nothing is waiting. */
  hold(max: number): HeldBatch | null {
    const reader = this.#reader;
    const held = this.#holdTake('ack()', max, (buffer, offset, length, position, slot, deliveries) =>
      reader.message(buffer, offset, length, position, slot, deliveries),
    );
    return held && { messages: held.messages, ack: held.finish };
  }

  /**
   * Up to `max` waiting messages as views in the ring, finished by release(); null when nothing
   * is waiting. A lossy group's (or a changed group's) messages are copies, checked whole, since
   * their slots may be reused under a view.
   */
  tryView(max: number): HeldViews | null {
    const reader = this.#reader;
    const held = this.#holdTake('release()', max, (buffer, offset, length, position, slot, deliveries) => ({
      // In the mapping while the gate guards the run; a checked copy otherwise (its scratch is reused).
      data: !reader.isScratch(buffer) ? buffer.subarray(offset, offset + length) : Buffer.from(buffer.subarray(offset, offset + length)),
      sequence: position,
      pid: reader.pidAt(slot),
      sentAt: reader.sentAtOf(slot),
      deliveries,
    }));
    return held && { messages: held.messages, release: held.finish, [Symbol.dispose]: held.finish };
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
    const member = this.#member;
    const reader = this.#reader;
    if (member.holding && this.#held) throw new MmapipcError(`a held batch is still open: ${verb} it before taking another`);
    for (;;) {
      const messages: T[] = [];
      const taken = reader.visitTake(
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
        reader.reportCorrupt(0);
        continue;
      }
      reader.forgetCorrupt();
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
}
