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
import { FRAME_FIXED_LENGTH, ORIGIN_HEADERS } from './origin.js';
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
    sizesGuaranteed: maxMessageSize > 0 && maxMessageSize + FRAME_FIXED_LENGTH + stream.length + String(last).length + 20 <= slotSize,
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

  async #open(): Promise<AsyncIterator<JsMsg>> {
    if (this.#iterator) return this.#iterator;
    try {
      const consumer = await this.#js.consumers.get(this.#stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: this.#position + 1,
      });
      this.#messages = await consumer.consume({ max_messages: PREFETCH });
    } catch (error) {
      throw new RetryableError('disconnected', `cannot read stream '${this.#stream}': ${(error as Error).message}`, { cause: error });
    }
    this.#iterator = this.#messages[Symbol.asyncIterator]();
    return this.#iterator;
  }

  async next(max: number, waitMs: number): Promise<IncomingBatch> {
    if (this.#removedAtStart > 0) return this.#batch([], 0); // report those first
    const iterator = await this.#open();
    this.#next ??= iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([this.#next, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)))]);
    clearTimeout(timer);
    if (first === 'timeout') return this.#batch([], 0);
    this.#next = undefined;
    if (first.done) {
      this.#reset();
      throw new RetryableError('disconnected', `the consumer of stream '${this.#stream}' stopped`);
    }
    const messages: Incoming[] = [];
    let lost = this.#take(first.value, messages);
    while (messages.length < max && (this.#messages?.getPending() ?? 0) > 0) {
      const result = await iterator.next();
      if (result.done) break;
      lost += this.#take(result.value, messages);
    }
    return this.#batch(messages, lost);
  }

  /** Adds the message; returns how many the stream removed before it. */
  #take(message: JsMsg, into: Incoming[]): number {
    const seq = message.seq;
    if (seq <= this.#position) return 0; // delivered again after a consumer reset: already handed out
    const lost = seq - this.#position - 1;
    this.#position = seq;
    this.#lastPending = message.info.pending;
    into.push({ position: String(seq), data: message.data, fromRing: message.headers?.get(ORIGIN_HEADERS.ring) || undefined });
    return lost;
  }

  #batch(messages: Incoming[], lost: number): IncomingBatch {
    lost += this.#removedAtStart;
    this.#removedAtStart = 0;
    return { messages, lost, position: String(this.#position), lag: this.#lastPending < 0 ? null : this.#lastPending };
  }

  #reset(): void {
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
