/**
 * One request as a server's handler sees it: its payload and metadata, and respond()/fail(),
 * each of which answers it at most once. Until it is answered (or dropped) the member that took
 * it holds it: if the server dies now, another server of the group gets it (deliveries + 1).
 */
import { ReplyStatus, type ReplyStatusValue } from '../layout/request-layout.js';
import type { Message } from '../ring/ring.js';
import type { ReplyOutcome } from './replies.js';
import type { RequestHeader } from './wire.js';

export type RequestOutcome = ReplyOutcome | 'dropped';

export class ServedRequest {
  /** The request's payload. */
  readonly data: Buffer;
  /** Its position in the request ring. */
  readonly sequence: number;
  /** The client's pid. */
  readonly pid: number;
  readonly sentAt: number;
  /** How many times it was delivered before (> 0: a server died holding it, and this is the redelivery). */
  readonly deliveries: number;
  /** The client's number for it. */
  readonly correlation: number;
  /** ms since the epoch after which the client no longer wants the reply; 0: none. */
  readonly deadline: number;
  readonly #send: (status: ReplyStatusValue, payload: Uint8Array) => Promise<ReplyOutcome>;
  /** Called once, when the request is answered or dropped: the member finishes it then. */
  readonly #settle: (outcome: RequestOutcome) => void;
  #answered = false;

  constructor(
    message: Message,
    header: RequestHeader,
    send: (status: ReplyStatusValue, payload: Uint8Array) => Promise<ReplyOutcome>,
    settle: (outcome: RequestOutcome) => void,
  ) {
    this.data = message.data;
    this.sequence = message.sequence;
    this.pid = message.pid;
    this.sentAt = message.sentAt;
    this.deliveries = message.deliveries;
    this.correlation = header.correlation;
    this.deadline = header.deadline;
    this.#send = send;
    this.#settle = settle;
  }

  /** True once the deadline has passed: the client has given up, and a reply would go unread. */
  get expired(): boolean {
    return this.deadline !== 0 && Date.now() > this.deadline;
  }

  /** ms left before the deadline (Infinity: none). */
  get remainingMs(): number {
    return this.deadline === 0 ? Infinity : this.deadline - Date.now();
  }

  /** True once respond(), fail() or drop() was called. */
  get answered(): boolean {
    return this.#answered;
  }

  /** Sends `payload` as the reply. Resolves to what became of it ('expired': past the deadline, nothing sent). */
  respond(payload: Uint8Array | string): Promise<RequestOutcome> {
    return this.#answer(ReplyStatus.ok, typeof payload === 'string' ? Buffer.from(payload) : payload);
  }

  /** Sends an error reply: the client's request rejects with ErrorReplyError carrying `text`. */
  fail(text: string): Promise<RequestOutcome> {
    return this.#answer(ReplyStatus.error, Buffer.from(text));
  }

  /** Finishes the request with no reply (the client times out); `expired` when it is dropped for its deadline. */
  drop(reason: 'dropped' | 'expired' = 'dropped'): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#settle(reason);
  }

  async #answer(status: ReplyStatusValue, payload: Uint8Array): Promise<RequestOutcome> {
    if (this.#answered) throw new Error(`request ${this.correlation} was already answered`);
    this.#answered = true;
    let outcome: RequestOutcome = 'expired';
    try {
      if (!this.expired) outcome = await this.#send(status, payload);
    } finally {
      this.#settle(outcome);
    }
    return outcome;
  }
}
