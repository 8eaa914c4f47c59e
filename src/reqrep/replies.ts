/**
 * A server's side of replies: the reply rings it answers into, opened on first use and kept open,
 * closed again once their client is gone (file removed, or no live member: §9a). A reply goes
 * to the reply ring named in the request, or nowhere: never to anyone else.
 */
import { existsSync } from 'node:fs';
import { KIND_REPLY, REPLY_EXTENSION_LENGTH, ReplyStatus, type ReplyStatusValue } from '../layout/request-layout.js';
import { DEFAULT_GROUP } from '../layout/ring-layout.js';
import type { OpenHandle, RingHandle } from './handle.js';
import { liveMembers } from './liveness.js';
import { replyRingPath } from './reply-ring.js';
import { encodeReply, type RequestHeader } from './wire.js';

/** What became of a reply: sent, its client is gone, or its deadline passed while the reply ring was full. */
export type ReplyOutcome = 'sent' | 'no-client' | 'expired';

/** Reply rings kept open at once; the least recently used is closed beyond this. */
const MAX_OPEN_REPLY_RINGS = 64;
/** How long one wait for room in a full reply ring lasts before the client is looked at again. */
const ROOM_CHECK_MS = 1000;
/**
 * How long a look that found the client alive is trusted: the look costs a system call per
 * entry, and replying to a client that died a moment ago only costs a message nobody reads.
 */
const CLIENT_FRESH_MS = 250;

export class ReplySender {
  readonly #requestPath: string;
  readonly #open: OpenHandle;
  /** By reply ring path, least recently used first. */
  readonly #rings = new Map<string, RingHandle>();
  #closed = false;

  constructor(requestPath: string, open: OpenHandle) {
    this.#requestPath = requestPath;
    this.#open = open;
  }

  /** The largest reply payload the request's reply ring takes (undefined: the client is gone). */
  limitFor(request: RequestHeader): number | undefined {
    const ring = this.#ringFor(request);
    return ring ? ring.maxMessageLength : undefined; // the extension goes in the room every ring keeps
  }

  /**
   * Sends the reply for `request`. Waits while its reply ring is full, as long as the client
   * lives and the deadline has not passed.
   */
  async send(request: RequestHeader, status: ReplyStatusValue, deliveries: number, payload: Uint8Array): Promise<ReplyOutcome> {
    const ring = this.#ringFor(request);
    if (!ring) return 'no-client';
    const extension = encodeReply(request.correlation, status, deliveries);
    for (;;) {
      if (ring.closed) return 'no-client';
      if (ring.ring.trySendRecord(KIND_REPLY, extension, payload)) return 'sent';
      const left = request.deadline === 0 ? ROOM_CHECK_MS : request.deadline - Date.now();
      if (left <= 0) return 'expired';
      await ring.waitForRoom({ timeoutMs: Math.min(left, ROOM_CHECK_MS), length: REPLY_EXTENSION_LENGTH + payload.length });
      if (!this.#clientAlive(ring, false)) {
        this.#drop(ring);
        return 'no-client';
      }
    }
  }

  #ringFor(request: RequestHeader): RingHandle | undefined {
    if (this.#closed) return undefined;
    const last = this.#last;
    if (last !== undefined && !last.ring.closed && last.id.equals(request.replyRing) && this.#clientAlive(last.ring)) return last.ring;
    const path = replyRingPath(this.#requestPath, request.replyRing);
    let ring = this.#rings.get(path);
    if (ring) {
      this.#rings.delete(path);
      this.#rings.set(path, ring); // most recently used
    } else {
      try {
        ring = this.#open(path, { role: 'sender', create: false });
      } catch {
        return undefined; // removed, or not a ring we may use: nobody to answer
      }
      this.#rings.set(path, ring);
      if (this.#rings.size > MAX_OPEN_REPLY_RINGS) this.#drop(this.#rings.values().next().value!);
    }
    if (!this.#clientAlive(ring)) {
      this.#drop(ring);
      return undefined;
    }
    this.#last = { id: Buffer.from(request.replyRing), ring };
    return ring;
  }

  /** The reply ring answered last, found again without a path or a map (a client asking many times in a row). */
  #last: { readonly id: Buffer; readonly ring: RingHandle } | undefined;

  #clientAlive(ring: RingHandle, fresh = true): boolean {
    if (ring.closed) return false;
    const now = performance.now();
    if (fresh && this.#seenAlive.get(ring) !== undefined && this.#seenAlive.get(ring)! > now - CLIENT_FRESH_MS) return true;
    const alive = liveMembers(ring, DEFAULT_GROUP) > 0;
    if (alive) this.#seenAlive.set(ring, now);
    return alive;
  }

  /** When each open reply ring's client was last seen alive. */
  readonly #seenAlive = new WeakMap<RingHandle, number>();

  #drop(ring: RingHandle): void {
    this.#rings.delete(ring.path);
    ring.close();
  }

  /** Closes the reply rings whose client is gone, so that nothing holds their files open (their sweep needs that). */
  prune(): void {
    for (const ring of [...this.#rings.values()]) if (!existsSync(ring.path) || !this.#clientAlive(ring, false)) this.#drop(ring);
  }

  close(): void {
    this.#closed = true;
    for (const ring of [...this.#rings.values()]) this.#drop(ring);
  }
}

/** A reply larger than the client's reply ring takes (`limit` bytes; Infinity when unknown) becomes an error reply saying so. */
export function fitReply(limit: number, status: ReplyStatusValue, payload: Uint8Array): { status: ReplyStatusValue; payload: Buffer } {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (bytes.length <= limit) return { status, payload: bytes };
  if (status === ReplyStatus.ok) {
    const text = Buffer.from(`the reply of ${bytes.length} bytes is larger than the largest reply the client's ring takes (${limit} bytes)`);
    return { status: ReplyStatus.error, payload: text.subarray(0, limit) };
  }
  return { status, payload: bytes.subarray(0, limit) };
}
