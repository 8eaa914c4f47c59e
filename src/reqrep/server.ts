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
import type { HeldBatch, Message } from '../ring/ring.js';
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

/** A request taken by a member and not yet done with. */
interface Taken {
  readonly member: RingHandle;
  readonly held: HeldBatch;
  /** Set once it is done with: finished (acked) after its answer, or left to recovery by a stop. */
  over: boolean;
}

export class Server implements AsyncIterable<ServedRequest> {
  readonly path: string;
  readonly group: string;
  readonly concurrency: number;
  /** What the start did to an idle `default` group (replaced only by a server that created its group). */
  readonly defaultGroup: DefaultOutcome;
  readonly #members: RingHandle[] = [];
  /** Members holding no request: the next request goes to the last of them. */
  readonly #idle: RingHandle[] = [];
  readonly #taken = new Set<Taken>();
  readonly #replies: ReplySender;
  /** Where a new request goes: the iterator's queue, or serveWith's handler. */
  #sink: (request: ServedRequest) => void = (request) => {
    this.#queue.push(request);
    this.#wakeIterator?.();
  };
  readonly #queue: ServedRequest[] = [];
  #wakeIterator: (() => void) | undefined;
  /** Wakes the dispatcher waiting for a member to become idle. */
  #wakeDispatcher: (() => void) | undefined;
  readonly #stop = new AbortController();
  readonly #onEvent: ServeOptions['onEvent'];
  #failure: unknown;
  /** Resolves when the server has stopped and let go of what it held. */
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
    this.#idle.push(...this.#members);
    this.defaultGroup = outcome;
    const { signal } = options;
    if (signal) {
      if (signal.aborted) this.stop();
      else signal.addEventListener('abort', () => this.stop(), { once: true });
    }
    const pruner = setInterval(() => this.#replies.prune(), IDLE_CHECK_MS);
    pruner.unref();
    this.done = this.#dispatch().then(() => {
      clearInterval(pruner);
      for (const member of this.#members) member.close();
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

  /**
   * Stops taking requests. Requests taken and not answered yet are left to recovery, which hands
   * them to another server of the group (their members close unfinished).
   */
  stop(): void {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    for (const taken of this.#taken) taken.over = true;
    this.#taken.clear();
    this.#wakeDispatcher?.();
    this.#wakeIterator?.();
  }

  /** Hands every request, from now on, to `run` instead of the iterator (serveWith). */
  handleWith(run: (request: ServedRequest) => void): void {
    this.#sink = run;
    for (let request = this.#queue.shift(); request; request = this.#queue.shift()) run(request);
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

  /**
   * One loop per server, whatever its concurrency: while a member is idle, the next request goes
   * to it; only one wait at a time is on the ring (N members each waiting would all wake for
   * every request and all but one find nothing).
   */
  async #dispatch(): Promise<void> {
    const signal = this.#stop.signal;
    try {
      while (!signal.aborted) {
        const member = this.#idle[this.#idle.length - 1];
        if (!member) {
          await new Promise<void>((resolve) => (this.#wakeDispatcher = resolve));
          this.#wakeDispatcher = undefined;
          continue;
        }
        const held = member.hold(1);
        if (held) {
          this.#idle.pop();
          this.#take(member, held);
        } else {
          await member.waitForMessage({ timeoutMs: IDLE_CHECK_MS, signal });
        }
      }
    } catch (error) {
      this.#failure ??= error;
      this.stop();
    }
  }

  /** Handles one request taken by `member`; finishes it once it is done with (not when the server stopped first). */
  #take(member: RingHandle, held: HeldBatch): void {
    const taken: Taken = { member, held, over: false };
    this.#taken.add(taken);
    const message = held.messages[0]!;
    const started = performance.now();
    const header = message.kind === KIND_REQUEST ? decodeRequest(message.extension) : undefined;
    let replyBytes = 0;
    let errorText: string | undefined;
    let status: ReplyStatusValue = ReplyStatus.ok;
    const finish = (outcome: RequestOutcome | 'not-a-request' | 'given-up'): void => {
      if (taken.over) return; // stopped first: recovery hands it on
      taken.over = true;
      this.#taken.delete(taken);
      try {
        held.ack();
      } catch (error) {
        this.#failure ??= error;
        this.stop();
        return;
      }
      this.#report(message, header, outcome === 'sent' ? (status === ReplyStatus.ok ? 'replied' : 'error') : outcome, started, replyBytes, errorText);
      this.#idle.push(member);
      this.#wakeDispatcher?.();
    };
    if (!header) return finish('not-a-request');
    if (header.deadline !== 0 && Date.now() > header.deadline) return finish('expired');
    if (message.deliveries >= MAX_REQUEST_DELIVERIES) {
      void this.#replies.send(header, ReplyStatus.givenUp, message.deliveries, Buffer.alloc(0)).then(
        (sent) => finish(sent === 'sent' ? 'given-up' : sent),
        () => finish('no-client'),
      );
      return;
    }
    const request = new ServedRequest(
      message,
      header,
      (answerStatus, payload) => {
        const fitted = this.#fit(header, answerStatus, payload);
        status = fitted.status;
        replyBytes = fitted.payload.length;
        if (fitted.status === ReplyStatus.error) errorText = fitted.payload.toString('utf8');
        return this.#replies.send(header, fitted.status, message.deliveries, fitted.payload);
      },
      finish,
    );
    this.#sink(request);
  }

  #report(message: Message, header: RequestHeader | undefined, outcome: ServeEvent['outcome'], started: number, replyBytes: number, error?: string): void {
    this.#onEvent?.({
      sequence: message.sequence,
      correlation: header?.correlation ?? 0,
      pid: message.pid,
      deliveries: message.deliveries,
      outcome,
      bytes: message.data.length,
      replyBytes: outcome === 'replied' || outcome === 'error' ? replyBytes : 0,
      ms: performance.now() - started,
      ...(error === undefined || outcome !== 'error' ? {} : { error }),
    });
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
 * Resolves once the server has stopped (rejects with what stopped it, if it failed).
 */
export function serveWith(server: Server, handler: RequestHandler): Promise<void> {
  const answer = (request: ServedRequest, reply: Uint8Array | string | void): void => {
    if (!request.answered) void request.respond(reply ?? Buffer.alloc(0)).catch(() => {});
  };
  const fail = (request: ServedRequest, error: unknown): void => {
    if (!request.answered) void request.fail(error instanceof Error ? error.message : String(error)).catch(() => {});
  };
  server.handleWith((request) => {
    let reply: ReturnType<RequestHandler>;
    try {
      reply = handler(request);
    } catch (error) {
      fail(request, error);
      return;
    }
    if (reply !== null && typeof reply === 'object' && typeof (reply as Promise<unknown>).then === 'function') {
      (reply as Promise<Uint8Array | string | void>).then(
        (value) => answer(request, value),
        (error: unknown) => fail(request, error),
      );
    } else answer(request, reply as Uint8Array | string | void);
  });
  return server.done;
}

/** The largest request payload a ring takes: its largest message (the extension goes in the room every ring keeps, docs/format.md §2). */
export function maxRequestLength(ring: { readonly maxMessageLength: number }): number {
  return ring.maxMessageLength;
}
