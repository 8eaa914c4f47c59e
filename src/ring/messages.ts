/**
 * What the ring hands out and takes in: received messages (copies), zero-copy views and claims,
 * held batches, and the handlers of the allocation-free receive calls. Types only.
 */
import type { Origin } from '../layout/origin-layout.js';

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

export type MessageHandler = (view: Buffer, sequence: number, pid: number, sentAt: number) => void;
export type RawHandler = (buffer: Buffer, offset: number, length: number, position: number) => void;
