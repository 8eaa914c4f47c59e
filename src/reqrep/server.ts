/**
 * The serving side of request/reply (docs/format.md §9a): members of one group of the request
 * ring (default "requests"), one per request handled at once, each holding the request it took
 * until it is answered — so a server that dies leaves it to recovery, which hands it to another
 * server (deliveries + 1; redelivered at most once: a third delivery is answered "given up").
 * Requests come out of an async iterator; serve() runs a handler on each.
 */
import { GroupError, UsageError } from '../errors.js';
import {
  DEFAULT_SERVE_GROUP,
  KIND_REQUEST,
  MAX_REQUEST_DELIVERIES,
  ReplyStatus,
  type ReplyStatusValue,
} from '../layout/request-layout.js';
import { findGroup } from '../ring/groups.js';
import type { Message } from '../ring/ring.js';
import { viewsOf } from '../ring/views.js';
import type { OpenHandle, RingHandle } from './handle.js';
import { ReplySender } from './replies.js';
import { ServedRequest, type RequestOutcome } from './served-request.js';
import { replaceIdleDefault, type DefaultOutcome } from './settle-default.js';
import { decodeRequest, type RequestHeader } from './wire.js';

export interface ServeOptions {
  /** The group to serve as (default "requests"); created if missing. */
  readonly group?: string;
  /** Requests handled at once (default 1): one member of the group each. */
  readonly concurrency?: number;
  /** Stops serving when it aborts: no new request is taken; unanswered ones go to another server. */
  readonly signal?: AbortSignal;
  /** Called once per request taken, when it is done with. */
  readonly onEvent?: (event: ServeEvent) => void;
}

/** What happened to one request. */
export interface ServeEvent {
  readonly sequence: number;
  readonly correlation: number;
  /** The client's pid. */
  readonly pid: number;
  readonly deliveries: number;
  /**
   * replied / error: a reply (or an error reply) was sent; expired: its deadline passed, nothing
   * sent; given-up: delivered twice before, answered "given up"; no-client: its client is gone;
   * dropped: the handler dropped it; not-a-request: a message of another kind, finished unread.
   */
  readonly outcome: 'replied' | 'error' | 'expired' | 'given-up' | 'no-client' | 'dropped' | 'not-a-request';
  /** Bytes of the request, and of the reply sent (0 when none). */
  readonly bytes: number;
  readonly replyBytes: number;
  /** ms from taking the request to being done with it. */
  readonly ms: number;
  /** The error reply's text (outcome error). */
  readonly error?: string;
}

export type RequestHandler = (request: ServedRequest) => Promise<Uint8Array | string | void> | Uint8Array | string | void;

/** The longest a member waits for a request before it looks at its reply rings and the stop signal again. */
const IDLE_CHECK_MS = 1000;
export const MAX_CONCURRENCY = 32;

export class Server implements AsyncIterable<ServedRequest> {
  readonly path: string;
  readonly group: string;
  readonly concurrency: number;
  /** What the start did to an idle `default` group (replaced only by a server that created its group). */
  readonly defaultGroup: DefaultOutcome;
  readonly #members: RingHandle[] = [];
  readonly #replies: ReplySender;
  readonly #queue: ServedRequest[] = [];
  #wakeIterator: (() => void) | undefined;
  readonly #stop = new AbortController();
  readonly #onEvent: ServeOptions['onEvent'];
  #failure: unknown;
  /** Resolves when every member has stopped. */
  readonly done: Promise<void>;

  constructor(path: string, open: OpenHandle, options: ServeOptions = {}) {
    this.path = path;
    this.group = options.group ?? DEFAULT_SERVE_GROUP;
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new UsageError(`concurrency is 1 to ${MAX_CONCURRENCY}, got ${concurrency}`);
    }
    this.concurrency = concurrency;
    this.#onEvent = options.onEvent;
    this.#replies = new ReplySender(path, open);
    let outcome: DefaultOutcome = 'none';
    try {
      for (let i = 0; i < concurrency; i++) {
        const existed = i > 0 || this.#groupExists(path, open);
        const member = open(path, { role: 'receiver', group: this.group, create: true });
        this.#members.push(member);
        if (!existed) outcome = replaceIdleDefault(member, this.group);
      }
    } catch (error) {
      for (const member of this.#members) member.close();
      if (error instanceof GroupError && error.subject === undefined) throw new GroupError(error.message, { subject: path });
      throw error;
    }
    this.defaultGroup = outcome;
    const { signal } = options;
    if (signal) {
      if (signal.aborted) this.stop();
      else signal.addEventListener('abort', () => this.stop(), { once: true });
    }
    const pruner = setInterval(() => this.#replies.prune(), IDLE_CHECK_MS);
    pruner.unref();
    this.done = Promise.all(this.#members.map((member) => this.#run(member))).then(() => {
      clearInterval(pruner);
      this.#replies.close();
      this.#wakeIterator?.();
      if (this.#failure !== undefined) throw this.#failure;
    });
    this.done.catch(() => {}); // reported through the iterator or to whoever awaits done
  }

  #groupExists(path: string, open: OpenHandle): boolean {
    const look = open(path, { role: 'sender', create: true });
    try {
      return findGroup(viewsOf(look.ring.memory, look.header), look.header, this.group) !== undefined;
    } finally {
      look.close();
    }
  }

  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Stops taking requests. Requests taken and not answered yet go to another server of the group (recovery). */
  stop(): void {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    this.#wakeIterator?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ServedRequest> {
    try {
      for (;;) {
        if (this.stopped) break;
        const next = this.#queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (this.#wakeIterator = resolve));
        this.#wakeIterator = undefined;
      }
      await this.done;
    } finally {
      this.stop();
    }
  }

  /** One member: take a request, hold it until it is answered, finish it, take the next. */
  async #run(member: RingHandle): Promise<void> {
    const signal = this.#stop.signal;
    try {
      while (!signal.aborted) {
        const held = member.hold(1);
        if (!held) {
          await member.waitForMessage({ timeoutMs: IDLE_CHECK_MS, signal });
          continue;
        }
        // Stopped before it was answered: closing the member leaves the request to recovery.
        if (!(await this.#handle(held.messages[0]!))) return;
        held.ack();
      }
    } catch (error) {
      this.#failure ??= error;
      this.stop();
    } finally {
      member.close();
    }
  }

  /** Handles one request; false when the server stopped before it was answered (it must not be finished). */
  async #handle(message: Message): Promise<boolean> {
    const taken = performance.now();
    const header = message.kind === KIND_REQUEST ? decodeRequest(message.extension) : undefined;
    const report = (outcome: ServeEvent['outcome'], replyBytes = 0, error?: string) =>
      this.#onEvent?.({
        sequence: message.sequence,
        correlation: header?.correlation ?? 0,
        pid: message.pid,
        deliveries: message.deliveries,
        outcome,
        bytes: message.data.length,
        replyBytes,
        ms: performance.now() - taken,
        ...(error === undefined ? {} : { error }),
      });
    if (!header) {
      report('not-a-request');
      return true;
    }
    if (header.deadline !== 0 && Date.now() > header.deadline) {
      report('expired');
      return true;
    }
    if (message.deliveries >= MAX_REQUEST_DELIVERIES) {
      const sent = await this.#replies.send(header, ReplyStatus.givenUp, message.deliveries, Buffer.alloc(0));
      report(sent === 'sent' ? 'given-up' : sent);
      return true;
    }
    let sentStatus: ReplyStatusValue = ReplyStatus.ok;
    let sentBytes = 0;
    let errorText: string | undefined;
    const request = new ServedRequest(message, header, async (status, payload) => {
      const fitted = this.#fit(header, status, payload);
      sentStatus = fitted.status;
      sentBytes = fitted.payload.length;
      if (fitted.status === ReplyStatus.error) errorText = fitted.payload.toString('utf8');
      return this.#replies.send(header, fitted.status, message.deliveries, fitted.payload);
    });
    this.#queue.push(request);
    this.#wakeIterator?.();
    let onStop = () => {};
    const stopped = new Promise<'stopped'>((resolve) => {
      onStop = () => resolve('stopped');
      if (this.stopped) onStop();
      else this.#stop.signal.addEventListener('abort', onStop, { once: true });
    });
    const outcome: RequestOutcome | 'stopped' = await Promise.race([request.settled, stopped]);
    this.#stop.signal.removeEventListener('abort', onStop);
    if (outcome === 'stopped') return false;
    if (outcome === 'sent') report(sentStatus === ReplyStatus.ok ? 'replied' : 'error', sentBytes, errorText);
    else report(outcome);
    return true;
  }

  /** A reply larger than the client's reply ring takes becomes an error reply saying so. */
  #fit(header: RequestHeader, status: ReplyStatusValue, payload: Uint8Array): { status: ReplyStatusValue; payload: Buffer } {
    const limit = this.#replies.limitFor(header) ?? Infinity;
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (bytes.length <= limit) return { status, payload: bytes };
    if (status === ReplyStatus.ok) {
      const text = Buffer.from(`the reply of ${bytes.length} bytes is larger than the largest reply the client's ring takes (${limit} bytes)`);
      return { status: ReplyStatus.error, payload: text.subarray(0, limit) };
    }
    return { status, payload: bytes.subarray(0, limit) };
  }
}

/**
 * Runs `handler` on every request until the server stops: its return value is the reply, a
 * throw an error reply with the error's message. Up to the server's concurrency run at once.
 */
export async function serveWith(server: Server, handler: RequestHandler): Promise<void> {
  // The iterator ends once the server has stopped and every member has let go of what it held
  // (unanswered requests go to another server): a handler still running then answers nobody.
  for await (const request of server) {
    void (async () => {
      try {
        const reply = await handler(request);
        if (!request.answered) await request.respond(reply ?? Buffer.alloc(0));
      } catch (error) {
        if (!request.answered) await request.fail(error instanceof Error ? error.message : String(error)).catch(() => {});
      }
    })();
  }
}

/** The largest request payload a ring takes: its largest message (the extension goes in the room every ring keeps, docs/format.md §2). */
export function maxRequestLength(ring: { readonly maxMessageLength: number }): number {
  return ring.maxMessageLength;
}
