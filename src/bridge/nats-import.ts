/**
 * NATS JetStream -> ring. Reads with an ordered consumer (ephemeral, no acknowledgements: the
 * position is the bridge's cursor, not server state, so no "ack all" can ever acknowledge what
 * was not committed), starting right after the cursor. The client re-creates the consumer after
 * a reconnect or a gap at the next sequence it expects. A jump in stream sequences means the
 * stream removed messages (limits, purge, delete) before they were read: counted as lost.
 */
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JsMsg, jetstream } from '@nats-io/jetstream';
import { EngineConfigError } from '../errors.js';
import type { Cursor } from './files.js';
import type { ImportSource, Incoming, IncomingBatch } from './import-loop.js';
import { NATS_TIMEOUT_MS, streamInfo, type NatsSession } from './nats-connect.js';
import { ORIGIN_HEADERS } from './origin.js';
import { RetryableError } from './runtime.js';

export type StartAt = { readonly kind: 'from-start' } | { readonly kind: 'new' } | { readonly kind: 'seq'; readonly seq: number };

export interface NatsImportPlan {
  readonly stream: string;
  /** The last stream sequence already in the ring (0: none). */
  readonly position: number;
  readonly from: 'cursor' | StartAt['kind'];
  readonly lastSequence: number;
  /** Messages after `position` the stream no longer has (removed before they were read). */
  readonly removed: number;
  readonly waiting: number;
  readonly maxMessageSize: number;
  /** True when the stream's limit guarantees every message fits a slot (else checked per message). */
  readonly sizesGuaranteed: boolean;
}

/** Up to this many messages wait in the client between pulls. */
const PREFETCH = 1000;
/**
 * Pulls expire, and the server sends heartbeats, this often: a consumer the client failed to
 * re-create (seen after a server restart: a pull for 0 messages) shows as missed heartbeats
 * within seconds instead of the default 30 s, and the bridge then opens a new one itself.
 */
const PULL_EXPIRES_MS = 2000;
const IDLE_HEARTBEAT_MS = 500;
const MISSED_HEARTBEATS_BEFORE_RESET = 3;
/** With a backlog on the server, how long to wait for the client's next pull to fill a batch. */
const GATHER_MS = 20;
/** How long a quiet consumer may go before the bridge asks the stream whether it is missing something. */
const STALL_CHECK_MS = 3000;

export async function prepareNatsImport(
  session: NatsSession,
  stream: string,
  cursor: Cursor | undefined,
  start: StartAt,
  slotSize: number,
): Promise<NatsImportPlan> {
  const info = await streamInfo(session, stream);
  if (info === undefined) throw new EngineConfigError(`stream '${stream}' does not exist`, { subject: session.target.display });
  const last = info.state.last_seq;
  let position: number;
  if (cursor !== undefined) {
    position = Number(cursor.position);
    if (!Number.isSafeInteger(position) || position < 0) throw new EngineConfigError(`the cursor's position '${cursor.position}' is not a stream sequence`);
    if (position > last) {
      throw new EngineConfigError(
        `the cursor is at sequence ${position} but stream '${stream}' ends at ${last}: the stream was re-created; remove the cursor file to start over`,
        { subject: session.target.display },
      );
    }
  } else {
    position = start.kind === 'from-start' ? 0 : start.kind === 'new' ? last : Math.max(0, start.seq - 1);
  }
  const maxMessageSize = info.config.max_msg_size ?? -1;
  const firstKept = info.state.messages === 0 ? last + 1 : info.state.first_seq;
  const removed = Math.max(0, firstKept - 1 - position);
  return {
    stream,
    position,
    from: cursor !== undefined ? 'cursor' : start.kind,
    lastSequence: last,
    removed,
    waiting: info.state.messages === 0 ? 0 : Math.max(0, last - Math.max(position, firstKept - 1)),
    maxMessageSize,
    // The origin goes in the message's extension, outside the payload's room (docs/bridge.md).
    sizesGuaranteed: maxMessageSize > 0 && maxMessageSize <= slotSize,
  };
}

export class NatsImportSource implements ImportSource {
  readonly #session: NatsSession;
  readonly #js: JetStreamClient;
  readonly #stream: string;
  /** The last stream sequence handed out. */
  #position: number;
  /** For --once: the stream's last sequence when the bridge started. */
  readonly #target: number;
  #lastPending = -1;
  /** Removed before the start: reported with the first batch. */
  #removedAtStart: number;
  #messages: ConsumerMessages | undefined;
  #iterator: AsyncIterator<JsMsg> | undefined;
  #next: Promise<IteratorResult<JsMsg>> | undefined;
  /** Set when the consumer stopped delivering: reopened at the next call. */
  #stale = false;
  /** When next() last found nothing, if it has found nothing since. */
  #idleSince: number | undefined;

  constructor(session: NatsSession, plan: NatsImportPlan) {
    this.#session = session;
    this.#js = jetstream(session.nc, { timeout: NATS_TIMEOUT_MS });
    this.#stream = plan.stream;
    this.#position = plan.position + plan.removed;
    this.#removedAtStart = plan.removed;
    this.#target = plan.lastSequence;
  }

  caughtUp(): boolean {
    if (this.#removedAtStart > 0) return false;
    return this.#position >= this.#target || (this.#lastPending === 0 && (this.#messages?.getPending() ?? 0) === 0);
  }

  /** The consumer's messages, opened after the position; bounded by NATS_TIMEOUT_MS (the client may retry forever). */
  async #open(): Promise<AsyncIterator<JsMsg>> {
    if (this.#stale) this.#reset();
    if (this.#iterator) return this.#iterator;
    const opening = (async () => {
      const consumer = await this.#js.consumers.get(this.#stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.#position + 1 });
      return consumer.consume({ max_messages: PREFETCH, expires: PULL_EXPIRES_MS, idle_heartbeat: IDLE_HEARTBEAT_MS });
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), NATS_TIMEOUT_MS)));
    let messages: ConsumerMessages | 'timeout';
    try {
      messages = await Promise.race([opening, timeout]);
    } catch (error) {
      throw new RetryableError('disconnected', `cannot read stream '${this.#stream}': ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (messages === 'timeout') {
      opening.then((late) => late.stop()).catch(() => {});
      throw new RetryableError('disconnected', `cannot read stream '${this.#stream}': no consumer within ${NATS_TIMEOUT_MS} ms`);
    }
    this.#messages = messages;
    void this.#watch(messages);
    this.#iterator = messages[Symbol.asyncIterator]();
    return this.#iterator;
  }

  /** Marks the consumer stale when it has stopped delivering. */
  async #watch(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of messages.status()) {
        if (messages !== this.#messages) return;
        if (status.type === 'heartbeats_missed' && status.count >= MISSED_HEARTBEATS_BEFORE_RESET) this.#stale = true;
      }
    } catch {
      // the consumer ended: next() notices
    }
  }

  async next(max: number, waitMs: number): Promise<IncomingBatch> {
    if (this.#removedAtStart > 0) return this.#batch([], 0); // report those first
    const iterator = await this.#open();
    this.#next ??= iterator.next();
    const first = await this.#within(this.#next, waitMs);
    if (first === 'timeout') {
      await this.#checkStalled();
      return this.#batch([], 0);
    }
    this.#idleSince = undefined;
    this.#next = undefined;
    if (first.done) {
      this.#reset();
      throw new RetryableError('disconnected', `the consumer of stream '${this.#stream}' stopped`);
    }
    const messages: Incoming[] = [];
    let lost = this.#take(first.value, messages);
    // Take what the client holds; while the server says more are waiting, wait a moment for
    // them too, so that a backlog crosses in full batches (one cursor write each).
    while (messages.length < max) {
      if ((this.#messages?.getPending() ?? 0) === 0 && this.#pendingAfter() <= 0) break;
      this.#next ??= iterator.next();
      // Bounded even when the client says it holds more: a consumer it is resetting may never yield them.
      const result = await this.#within(this.#next, GATHER_MS);
      if (result === 'timeout') break;
      this.#next = undefined;
      if (result.done) break;
      lost += this.#take(result.value, messages);
    }
    return this.#batch(messages, lost);
  }

  /**
   * Nothing came: if the stream has messages after the position (the last message said so, or
   * the stream's info does, looked up every STALL_CHECK_MS of quiet), the client's consumer has
   * stalled (seen after server restarts): open a new one at the position.
   */
  async #checkStalled(): Promise<void> {
    const now = performance.now();
    this.#idleSince ??= now;
    if (this.#lastPending > 0) {
      this.#stale = true;
      this.#lastPending = -1;
      return;
    }
    if (now - this.#idleSince < STALL_CHECK_MS) return;
    this.#idleSince = now;
    const info = await streamInfo(this.#session, this.#stream);
    if (info === undefined) throw new EngineConfigError(`stream '${this.#stream}' went away`, { subject: this.#session.target.display });
    if (info.state.last_seq > this.#position && info.state.messages > 0) this.#stale = true;
  }

  /** `promise`, or 'timeout' after `ms` (the promise stays pending for the next call). */
  async #within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([promise, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Adds the message; returns how many the stream removed before it. */
  #take(message: JsMsg, into: Incoming[]): number {
    const seq = message.seq;
    if (seq <= this.#position) return 0; // delivered again after a consumer reset: already handed out
    const lost = seq - this.#position - 1;
    this.#position = seq;
    this.#lastTaken = message; // its info (a parse of the reply subject) is read only when needed
    into.push({ position: String(seq), data: message.data, fromRing: message.headers?.get(ORIGIN_HEADERS.ring) || undefined });
    return lost;
  }

  #lastTaken: JsMsg | undefined;

  /** Messages the server still has after the last one taken (-1: unknown). */
  #pendingAfter(): number {
    if (this.#lastTaken !== undefined) {
      this.#lastPending = this.#lastTaken.info.pending;
      this.#lastTaken = undefined;
    }
    return this.#lastPending;
  }

  #batch(messages: Incoming[], lost: number): IncomingBatch {
    this.#pendingAfter();
    lost += this.#removedAtStart;
    this.#removedAtStart = 0;
    return { messages, lost, position: String(this.#position), lag: this.#lastPending < 0 ? null : this.#lastPending };
  }

  #reset(): void {
    this.#stale = false;
    this.#messages?.stop();
    this.#messages = undefined;
    this.#iterator = undefined;
    this.#next = undefined;
  }

  async close(): Promise<void> {
    this.#reset();
    await this.#session.nc.close().catch(() => {});
  }
}
