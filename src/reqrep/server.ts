/**
 * The serving side of request/reply (docs/format.md §9a): members of one group of the request
 * ring (default "requests"), one per request handled at once, each holding the request it took
 * until it is answered — so a server that dies leaves it to recovery, which hands it to another
 * server (deliveries + 1; redelivered at most once: a third delivery is answered "given up").
 * Requests come out of an async iterator; serveWith (./serve-with.ts) runs a handler on each.
 * What a server is given and reports: ./serve-types.ts; how a reply is fitted and sent: ./replies.ts.
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
import type { HeldBatch } from '../ring/ring.js';
import { viewsOf } from '../ring/views.js';
import type { OpenHandle, RingHandle } from './handle.js';
import { fitReply, ReplySender } from './replies.js';
import { serveEvent, type ServeOptions } from './serve-types.js';
import { ServedRequest, type RequestOutcome } from './served-request.js';
import { replaceIdleDefault, type DefaultOutcome } from './settle-default.js';
import { decodeRequest } from './wire.js';

export type { ServeOptions, ServeEvent, RequestHandler } from './serve-types.js';

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
      this.#onEvent?.(serveEvent(message, header, outcome === 'sent' ? (status === ReplyStatus.ok ? 'replied' : 'error') : outcome, started, replyBytes, errorText));
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
        const fitted = fitReply(this.#replies.limitFor(header) ?? Infinity, answerStatus, payload);
        status = fitted.status;
        replyBytes = fitted.payload.length;
        if (fitted.status === ReplyStatus.error) errorText = fitted.payload.toString('utf8');
        return this.#replies.send(header, fitted.status, message.deliveries, fitted.payload);
      },
      finish,
    );
    this.#sink(request);
  }
}
