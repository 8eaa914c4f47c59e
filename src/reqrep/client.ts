/**
 * The asking side of request/reply (docs/format.md §9a). One Requester per RingFile: one reply
 * ring (made at the first request, removed on close), a map from correlation to the promise that
 * waits for it, and one loop that reads the reply ring while anything is pending. Each request
 * ends exactly once: its reply, an error reply, its deadline, its signal, close(), or — when no
 * live server is left in its group — "server died".
 */
import { statSync } from 'node:fs';
import { AbortError, ErrorReplyError, MessageTooLargeError, NoRespondersError, ServerDiedError, TimeoutError } from '../errors.js';
import { DEFAULT_SERVE_GROUP, KIND_REPLY, KIND_REQUEST, REPLY_EXTENSION_LENGTH, REQUEST_EXTENSION_LENGTH, ReplyStatus } from '../layout/request-layout.js';
import type { Message } from '../ring/ring.js';
import type { OpenHandle, RingHandle } from './handle.js';
import { DeadlineTimer } from '../sys/deadline-timer.js';
import { liveMembers } from './liveness.js';
import { releaseOrphans } from './orphans.js';
import { ensureRepliesDir, newReplyRingName, removeReplyRing, replyModes, sweepReplyRings } from './reply-ring.js';
import { decodeReply, encodeRequest } from './wire.js';

export interface RequestOptions {
  /** How long to wait for the reply, in ms (default 5000; Infinity: no deadline). `timeout` is the same. */
  readonly timeoutMs?: number;
  readonly timeout?: number;
  /** Rejects the request with AbortError when it aborts. */
  readonly signal?: AbortSignal;
  /** The group that serves the ring (default "requests"). */
  readonly group?: string;
}

/** A reply: the message from the reply ring, whose `deliveries` says how often the request was delivered before. */
export type Reply = Message;

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** How often a waiting client looks for a live server in the group it asked (§9a: at least once a second). */
const LIVENESS_CHECK_MS = 200;

interface Pending {
  readonly group: string;
  /** performance.now() at which it times out (Infinity: never). */
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
}

/** How long a look that found a live server is trusted, for requests that follow. */
const RESPONDERS_FRESH_MS = 250;

export class Requester {
  readonly #ring: RingHandle;
  readonly #open: OpenHandle;
  #reply: RingHandle | undefined;
  #replyId: Buffer | undefined;
  #replyFile: { path: string; ino: number; dev: number } | undefined;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #looping = false;
  #closed = false;

  constructor(ring: RingHandle, open: OpenHandle) {
    this.#ring = ring;
    this.#open = open;
  }

  /** Requests in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The reply ring's path, once made. */
  get replyRingPath(): string | undefined {
    return this.#replyFile?.path;
  }

  async request(payload: Uint8Array | string, options: RequestOptions = {}): Promise<Reply> {
    if (this.#closed) throw new AbortError('the ring is closed', { subject: this.#ring.path });
    const { signal } = options;
    if (signal?.aborted) throw new AbortError('the request was aborted before it was sent', { subject: this.#ring.path });
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const group = options.group ?? DEFAULT_SERVE_GROUP;
    const timeoutMs = options.timeoutMs ?? options.timeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const ring = this.#ring;
    const limit = ring.maxMessageLength; // the extension goes in the room every ring keeps (docs/format.md §2)
    if (data.length > limit) throw new MessageTooLargeError(data.length, limit, ring.path, 'or create the ring with more room (--size)');
    if (!this.#hasResponders(group)) throw noResponders(ring.path, group);
    this.#replyRing();
    const started = performance.now();
    const deadline = Number.isFinite(timeoutMs) ? Date.now() + Math.max(0, timeoutMs) : 0;
    const correlation = this.#next++;
    const extension = encodeRequest({ correlation, deadline, replyRing: this.#replyId! });

    // Sent first (waiting for room if the ring is full), then waited for.
    while (!ring.ring.trySendRecord(KIND_REQUEST, extension, data)) {
      const remaining = Number.isFinite(timeoutMs) ? timeoutMs - (performance.now() - started) : undefined;
      if (remaining !== undefined && remaining <= 0) throw timedOut(ring.path, timeoutMs, 'the request ring stayed full; the request was not sent');
      const room = await ring.waitForRoom({ timeoutMs: remaining, signal, length: REQUEST_EXTENSION_LENGTH + data.length });
      if (signal?.aborted) throw new AbortError('the request was aborted before it was sent', { subject: ring.path });
      if (!room && remaining !== undefined) throw timedOut(ring.path, timeoutMs, 'the request ring stayed full; the request was not sent');
    }
    ring.ring.touch();

    return new Promise<Reply>((resolve, reject) => {
      const onAbort = () => end(() => reject(new AbortError('the request was aborted before its reply came', { subject: ring.path })));
      const end = (settle: () => void) => {
        if (!this.#pending.delete(correlation)) return;
        signal?.removeEventListener('abort', onAbort);
        if (this.#pending.size === 0) this.#timer.idle();
        settle();
      };
      const timesOutAt = Number.isFinite(timeoutMs) ? started + Math.max(0, timeoutMs) : Infinity;
      this.#pending.set(correlation, {
        group,
        deadline: timesOutAt,
        timeoutMs,
        resolve: (value) => end(() => resolve(value)),
        reject: (error) => end(() => reject(error)),
      });
      this.#timer.arm(timesOutAt);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#startLoop();
    });
  }

  /**
   * One timer for every pending request (a setTimeout and clearTimeout per request cost more
   * than the rest of a request's bookkeeping), src/sys/deadline-timer.ts.
   */
  readonly #timer = new DeadlineTimer<Pending>(
    () => this.#pending.values(),
    (pending) => pending.reject(timedOut(this.#ring.path, pending.timeoutMs, 'the server is slow, stopped or busy; it skips the request when it gets to it')),
  );



  /**
   * True when the serving group has a live member. A yes is trusted for RESPONDERS_FRESH_MS (the
   * look costs a system call per member): a server that dies after it is learned of while waiting.
   */
  #hasResponders(group: string): boolean {
    const now = performance.now();
    if (this.#respondersSeen.get(group)! > now - RESPONDERS_FRESH_MS) return true;
    if (liveMembers(this.#ring, group) === 0) {
      this.#respondersSeen.delete(group);
      return false;
    }
    this.#respondersSeen.set(group, now);
    return true;
  }

  readonly #respondersSeen = new Map<string, number>();

  /** The reply ring: made at the first request, after sweeping stale ones. */
  #replyRing(): RingHandle {
    if (this.#reply) return this.#reply;
    const path = this.#ring.path;
    const modes = replyModes(path);
    ensureRepliesDir(path, modes.sharing);
    sweepReplyRings(path);
    const name = newReplyRingName(path);
    // The request ring's geometry: a reply may be as large as a request.
    const { slotCount, slotSize } = this.#ring.header;
    const reply = this.#open(name.path, { role: 'receiver', create: true, id: name.id, mode: modes.file, slots: slotCount, slotSize, groups: 1 });
    try {
      const status = statSync(name.path);
      this.#replyFile = { path: name.path, ino: status.ino, dev: status.dev };
    } catch (error) {
      reply.close();
      throw error;
    }
    this.#reply = reply;
    this.#replyId = name.id;
    return reply;
  }

  /** Reads replies while anything is pending; looks for live servers between reads. */
  #startLoop(): void {
    if (this.#looping) return;
    this.#looping = true;
    void this.#loop().finally(() => {
      this.#looping = false;
      if (this.#pending.size > 0 && !this.#closed) this.#startLoop();
    });
  }

  async #loop(): Promise<void> {
    const reply = this.#reply!;
    let nextCheck = performance.now() + LIVENESS_CHECK_MS;
    while (this.#pending.size > 0 && !this.#closed) {
      const wait = Math.max(0, nextCheck - performance.now());
      let message: Message | null;
      try {
        message = await reply.receiveAsync({ timeoutMs: wait }); // close() closes the reply ring: the wait ends
      } catch (error) {
        this.#failAll(error as Error);
        return;
      }
      if (this.#closed) return;
      if (message) {
        this.#deliver(message);
        this.#drain();
      }
      if (performance.now() >= nextCheck) {
        this.#checkServers();
        nextCheck = performance.now() + LIVENESS_CHECK_MS;
      }
    }
  }

  /** Every reply already in the reply ring. */
  #drain(): void {
    const reply = this.#reply;
    if (!reply || reply.closed) return;
    for (let message = reply.tryReceive(); message; message = reply.tryReceive()) this.#deliver(message);
  }

  #deliver(message: Message): void {
    if (message.kind !== KIND_REPLY || message.extension.length < REPLY_EXTENSION_LENGTH) return; // not a reply: nobody asked
    const header = decodeReply(message.extension)!;
    const pending = this.#pending.get(header.correlation);
    if (!pending) return; // a stale reply to a request given up
    const path = this.#ring.path;
    if (header.status === ReplyStatus.ok) pending.resolve({ ...message, deliveries: header.deliveries });
    else if (header.status === ReplyStatus.error) pending.reject(new ErrorReplyError(message.data.toString('utf8'), { subject: path }));
    else pending.reject(new ServerDiedError(`the request was given up: ${header.deliveries} server(s) died holding it`, { subject: path }));
  }

  /**
   * Groups whose every server is gone: their requests will get no reply. Replies published
   * before the servers went are read first (a server publishes before it exits).
   */
  #checkServers(): void {
    const ring = this.#ring;
    const abandoned = new Set<string>();
    for (const pending of this.#pending.values()) {
      if (!abandoned.has(pending.group) && liveMembers(ring, pending.group) === 0) abandoned.add(pending.group);
    }
    if (abandoned.size === 0) return;
    this.#drain();
    for (const group of abandoned) {
      let orphaned = false;
      for (const pending of [...this.#pending.values()]) {
        if (pending.group !== group) continue;
        orphaned = true;
        pending.reject(new ServerDiedError(`no live server is left in group '${group}' to answer the request (its server died holding it, or stopped serving)`, { subject: ring.path }));
      }
      // What the dead servers held would otherwise stay claimed until a server of the group comes back.
      if (orphaned) releaseOrphans(ring.path, group, this.#open);
    }
  }

  #failAll(error: Error): void {
    for (const pending of [...this.#pending.values()]) pending.reject(error);
  }

  /** Ends every pending request (AbortError), closes and removes the reply ring. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new AbortError('the ring was closed before the reply came', { subject: this.#ring.path }));
    this.#timer.close();
    if (this.#reply) {
      this.#reply.close();
      const file = this.#replyFile!;
      removeReplyRing(file.path, file.ino, file.dev);
    }
  }
}

export function noResponders(path: string, group: string): NoRespondersError {
  return new NoRespondersError(`no responders: no live process serves group '${group}' of this ring; start one (mmapipc serve --file ${path} -- COMMAND)`, { subject: path });
}

function timedOut(path: string, timeoutMs: number, what: string): TimeoutError {
  return new TimeoutError(`no reply within ${timeoutMs / 1000} s (${what})`, { subject: path });
}
