/**
 * RingFile: the library's handle on a ring in a mapped file. It joins the pure ring algorithm
 * to the kernel: the mapping, the shared lock, the futex for sleeping, this process's entry in
 * the participant table, and the group it receives for.
 */
import { MmapipcError } from '../errors.js';
import type { RingHeader } from '../layout/header.js';
import { MEMBERS_WAITING_OFFSET, SENDERS_WAITING_OFFSET } from '../layout/ring-layout.js';
import {
  receiveAsync,
  receiveBlocking,
  sendAsync,
  sendBlocking,
  waitForMessage,
  waitForRoom,
  type AsyncWaitHooks,
  type WaitOptions,
} from '../ring/blocking.js';
import { listGroups, type GroupInfo, type GroupStart } from '../ring/groups.js';
import { whyMemberWaits, whySendersWait } from './blockers.js';
import { addParticipantRole, holdsClaim, unregisterParticipant, type IsAlive, type Liveness } from '../ring/participants.js';
import type { RecoveryReport } from '../ring/recovery.js';
import type { Gap, HeldBatch, HeldViews, Message, MessageClaim, Ring } from '../ring/ring.js';
import { viewsOf, type RingViews } from '../ring/views.js';
import { bellSleeper, type RingSleeper } from '../sys/bell-sleeper.js';
import { getpid, syncMapping } from '../sys/libc.js';
import { attach } from './attach.js';
import { fileEntryLocks, fileLiveness, type FileEntryLocks } from './entry-locks.js';
import { createRingGroup, removeRingGroup, resetRingGroup, setRingGroupLossy, type GroupTarget } from './group-ops.js';
import { closeRingFile, openRingFile, type OpenedRing } from './open.js';
import { RecoverySchedule } from './recovery-schedule.js';
import { ROLE_BITS, type RingFileOptions, type RingRole } from './ring-file-options.js';
import { Requester, type Reply, type RequestOptions } from '../reqrep/client.js';
import type { HandleOptions } from '../reqrep/handle.js';
import { Server, type RequestHandler, type ServeOptions } from '../reqrep/server.js';
import { serveWith } from '../reqrep/serve-with.js';

export type { Message, HeldBatch, HeldViews, MessageView, MessageClaim, Gap } from '../ring/ring.js';
export type { WaitOptions } from '../ring/blocking.js';
export type { GroupStart } from '../ring/groups.js';
export type { RequestOptions, Reply } from '../reqrep/client.js';
export type { ServeOptions, ServeEvent, RequestHandler, Server } from '../reqrep/server.js';
export type { ServedRequest } from '../reqrep/served-request.js';

export type { RingFileOptions, RingRole } from './ring-file-options.js';

export class RingFile implements AsyncIterable<Message> {
  readonly path: string;
  readonly header: RingHeader;
  /** True when this call created the file. */
  readonly created: boolean;
  /** The group this handle receives for (undefined for a sender only). */
  readonly group: string | undefined;
  readonly #opened: OpenedRing;
  readonly #views: RingViews;
  readonly #ring: Ring;
  readonly #sleeper: RingSleeper;
  readonly #participant: number;
  /** Entry locks on this ring's descriptor; the lock of #participant is held until close. */
  readonly #locks: FileEntryLocks;
  readonly #pid: number;
  readonly #sync: boolean;
  /** When this handle looks for dead peers' claims; its ifDue is handed to every wait. */
  readonly #recovery: RecoverySchedule;
  readonly #recover: () => boolean;
  /** What the group operations act on. */
  readonly #groupTarget: GroupTarget;
  #closed = false;
  /** Async waits in progress: the mapping stays until the last one has left the ring. */
  #pending = 0;
  readonly #closing = new AbortController();
  /** This handle's requests in flight and its reply ring (made at the first request). */
  #requester: Requester | undefined;
  /** Servers started from this handle: stopped by close(). */
  readonly #servers = new Set<Server>();

  /** Opens (and by default creates) the ring at `path`. */
  static open(path: string, options: RingFileOptions = {}): RingFile {
    return new RingFile(openRingFile(path, options), options);
  }

  /** Creates a new ring; fails if the path exists. */
  static create(path: string, options: Omit<RingFileOptions, 'create'> = {}): RingFile {
    const ring = RingFile.open(path, options);
    if (!ring.created) {
      ring.close();
      throw new MmapipcError('already exists; remove it first (mmapipc rm) or open it instead', { subject: path });
    }
    return ring;
  }

  private constructor(opened: OpenedRing, options: RingFileOptions) {
    this.#opened = opened;
    this.path = opened.path;
    this.header = opened.header;
    this.created = opened.created;
    this.#pid = getpid();
    this.#sync = options.sync ?? false;
    this.#views = viewsOf(opened.memory.head, opened.header);
    this.#locks = fileEntryLocks(opened.fd, opened.path);
    const attached = attach(opened, this.#views, this.#locks, this.#pid, options);
    this.#participant = attached.participant;
    this.group = attached.group;
    this.#ring = attached.ring;
    this.#recovery = new RecoverySchedule(this.#ring, this.#locks);
    this.#recover = this.#recovery.ifDue;
    this.#groupTarget = { path: this.path, header: this.header, views: this.#views, ring: this.#ring };
    if (options.onGap) this.#ring.onGap = options.onGap;
    this.#sleeper = bellSleeper(opened.mapping, opened.fd);
    this.#ring.wake = (target) => this.#sleeper.wake(target === 'receivers' ? MEMBERS_WAITING_OFFSET : SENDERS_WAITING_OFFSET);
  }

  /** The pure ring, for callers that drive it directly (benchmarks, stat). */
  get ring(): Ring {
    this.#assertOpen();
    return this.#ring;
  }

  get capacity(): number {
    return this.header.slotCount;
  }

  /** Largest message in bytes. */
  get maxMessageLength(): number {
    return this.header.maxMessageLength;
  }

  /** Messages this group has not taken yet (a sender only: that the slowest lossless group has not finished). */
  get occupancy(): number {
    return this.#ring.occupancy;
  }

  /** Called for each gap a lossy group finds. */
  set onGap(handler: (gap: Gap) => void) {
    this.#ring.onGap = handler;
  }

  #assertOpen(): void {
    if (this.#closed) throw new MmapipcError('ring is closed', { subject: this.path });
  }

  /** Looks for claims of dead processes now (every waiting process also does this); returns what it did. */
  recover(): RecoveryReport {
    this.#assertOpen();
    return this.#recovery.now();
  }

  /** Whether the process of participant entry `index` is alive (docs/format.md §5.2); this handle's own entry is. */
  liveness(index: number): Liveness {
    this.#assertOpen();
    return index === this.#participant ? 'alive' : fileLiveness(this.#opened.fd)(index);
  }

  #afterSend(): void {
    if (this.#sync) syncMapping(this.#opened.mapping, this.path);
  }

  /** Sends if there is room now; false when full. Throws MessageTooLargeError for an oversize message. */
  trySend(message: Buffer | Uint8Array | string): boolean {
    this.#assertOpen();
    const sent = this.#ring.trySend(message);
    if (sent) this.#afterSend();
    return sent;
  }

  /** Sends, sleeping while full; false when `timeoutMs` ran out. Blocks the thread. */
  send(message: Buffer | Uint8Array | string, options: WaitOptions = {}): boolean {
    this.#assertOpen();
    const sent = sendBlocking(this.#ring, this.#sleeper, message, options, this.#recover);
    if (sent) this.#afterSend();
    return sent;
  }

  /** Sends, sleeping on another thread while full, so the event loop keeps running. */
  async sendAsync(message: Buffer | Uint8Array | string, options: WaitOptions = {}): Promise<boolean> {
    const sent = await this.#whileOpen((hooks) => sendAsync(this.#ring, this.#sleeper, message, options, this.#recover, hooks));
    if (sent) this.#afterSend();
    return sent;
  }

  /**
   * Runs an async wait while keeping the mapping: close() during the wait ends it (the closing
   * signal, checked by the wait; close() wakes the sleeper) and the last wait to leave unmaps.
   * No controller, listener or promise of our own per wait: the wait settles the caller's
   * promise directly and calls #leave as it does.
   */
  #whileOpen<T>(work: (hooks: AsyncWaitHooks) => Promise<T>): Promise<T> {
    // A closed ring rejects (as an async method would), it does not throw at the call.
    if (this.#closed) return Promise.reject(new MmapipcError('ring is closed', { subject: this.path }));
    this.#pending++;
    return work(this.#waitHooks);
  }

  /** An async wait has left the ring: the last one out after close() unmaps. */
  readonly #leave = (): void => {
    if (--this.#pending === 0 && this.#closed) this.#release();
  };

  readonly #waitHooks: AsyncWaitHooks = { closing: this.#closing.signal, done: this.#leave };

  /** Sends all of `messages` in order, sleeping while full; returns how many were sent before a timeout. */
  sendBatch(messages: ReadonlyArray<Buffer | Uint8Array | string>, options: WaitOptions = {}): number {
    this.#assertOpen();
    const deadline = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
    let sent = 0;
    while (sent < messages.length) {
      sent += this.#ring.trySendBatch(messages, sent);
      if (sent === messages.length) break;
      const remaining = deadline - performance.now();
      if (!sendBlocking(this.#ring, this.#sleeper, messages[sent]!, { ...options, timeoutMs: Math.max(0, remaining) }, this.#recover)) break;
      sent++;
    }
    if (sent > 0) this.#afterSend();
    return sent;
  }

  /**
   * Claims the space of one message of `length` bytes to write in place (zero-copy send): write
   * into `claim.data`, then `claim.commit()` (or `abort()`; a `using` declaration aborts a claim
   * left uncommitted). Null when the ring has no room now.
   */
  tryClaim(length: number): MessageClaim | null {
    return this.tryClaimBatch([length]);
  }

  /** Claims the space of as many of `lengths` as fit now, in one step: one commit publishes them all. */
  tryClaimBatch(lengths: readonly number[]): MessageClaim | null {
    this.#assertOpen();
    const claim = this.#ring.tryClaimBatch(lengths);
    if (!claim) return null;
    const commit = claim.commit;
    return {
      ...claim,
      commit: (committed?: number | readonly number[]) => {
        const last = commit(committed);
        this.#afterSend();
        return last;
      },
    };
  }

  /** Claims the space of one message, sleeping (on another thread) while the ring has no room; null on timeout. */
  async claim(length: number, options: WaitOptions = {}): Promise<MessageClaim | null> {
    for (;;) {
      const claim = this.tryClaim(length);
      if (claim) return claim;
      if (!(await this.waitForRoom({ ...options, length }))) return null;
    }
  }

  /**
   * Takes up to `max` waiting messages and returns views of them in the mapping (zero-copy
   * receive), held until `release()`: their slots are not reused before. Null when nothing is
   * waiting. Lossy groups get copies (their slots may be reused under a view).
   */
  tryView(max = 1): HeldViews | null {
    this.#assertOpen();
    return this.#ring.tryView(max);
  }

  /** tryView, sleeping (on another thread) until a message is waiting; null on timeout. */
  async view(max = 1, options: WaitOptions = {}): Promise<HeldViews | null> {
    for (;;) {
      const views = this.tryView(max);
      if (views) return views;
      if (!(await this.waitForMessage(options))) return null;
    }
  }

  /** Takes the oldest message for this group, or null when there is none. */
  tryReceive(): Message | null {
    this.#assertOpen();
    return this.#ring.tryReceive();
  }

  /** Takes the oldest message, sleeping while empty; null when `timeoutMs` ran out. Blocks the thread. */
  receive(options: WaitOptions = {}): Message | null {
    this.#assertOpen();
    return receiveBlocking(this.#ring, this.#sleeper, options, this.#recover);
  }

  /** Takes the oldest message, sleeping on another thread while empty. */
  receiveAsync(options: WaitOptions = {}): Promise<Message | null> {
    return this.#whileOpen((hooks) => receiveAsync(this.#ring, this.#sleeper, options, this.#recover, hooks));
  }

  /** Up to `max` messages: waits (like receive) for the first, then takes what is there. */
  receiveBatch(max: number, options: WaitOptions = {}): Message[] {
    this.#assertOpen();
    const first = receiveBlocking(this.#ring, this.#sleeper, options, this.#recover);
    if (first === null) return [];
    return [first, ...this.#ring.tryReceiveBatch(max - 1)];
  }

  /**
   * Takes up to `max` waiting messages and holds them until `ack()`: nothing is finished before,
   * so if this process dies, another member of the group receives them (at least once). Null when
   * nothing is waiting; one held batch at a time. For handing messages on asynchronously (the
   * bridge acks only after the remote engine has).
   */
  hold(max: number): HeldBatch | null {
    this.#assertOpen();
    return this.#ring.hold(max);
  }

  /** Resolves true once a message is waiting (without taking it); false on timeout or abort. */
  waitForMessage(options: WaitOptions = {}): Promise<boolean> {
    return this.#whileOpen((hooks) => waitForMessage(this.#ring, this.#sleeper, options, this.#recover, hooks));
  }

  /** Resolves true once there is room for a message; false on timeout or abort. */
  waitForRoom(options: WaitOptions & { readonly length?: number } = {}): Promise<boolean> {
    return this.#whileOpen((hooks) => waitForRoom(this.#ring, this.#sleeper, options, this.#recover, options.length ?? 0, hooks));
  }

  /** Receives forever (until close or break), sleeping between messages. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (!this.#closed) {
      const message = await this.receiveAsync();
      if (message) yield message;
      else if (this.#closed) return;
    }
  }

  // ---- requests and replies (docs/format.md §9a) ----

  /**
   * Sends `payload` as a request to the servers of the ring's serving group and resolves to their
   * reply. Rejects with NoRespondersError at once when no live server is there, TimeoutError at
   * the deadline (default 5 s), ErrorReplyError when the server failed, ServerDiedError when the
   * server died and none is left to take the request over, AbortError on `signal` or close().
   * Any number may be in flight; each reply reaches only the request that asked for it.
   */
  request(payload: Uint8Array | string, options: RequestOptions = {}): Promise<Reply> {
    this.#assertOpen();
    this.#requester ??= new Requester(this, openHandle);
    return this.#requester.request(payload, options);
  }

  /** The reply ring this handle made for its requests (undefined before the first). */
  get replyRingPath(): string | undefined {
    return this.#requester?.replyRingPath;
  }

  /**
   * Serves the ring's requests as group `options.group` (default "requests"): an async iterator
   * of requests, each answered with respond() or fail(). Up to `concurrency` requests are out at
   * once; one not answered when the server stops (or dies) goes to another server.
   */
  requests(options: ServeOptions = {}): Server {
    this.#assertOpen();
    const server = new Server(this.path, openHandle, options);
    this.#servers.add(server);
    void server.done.catch(() => {}).finally(() => this.#servers.delete(server));
    return server;
  }

  /** Runs `handler` on every request until `options.signal` aborts or the ring closes: its return value is the reply, a throw an error reply. */
  serve(handler: RequestHandler, options: ServeOptions = {}): Promise<void> {
    return serveWith(this.requests(options), handler);
  }

  // ---- groups ----

  /** The ring's consumer groups. */
  groups(): GroupInfo[] {
    this.#assertOpen();
    return listGroups(this.#views, this.header);
  }

  /** Creates a group (or returns the existing one of that name). GroupError when the table is full or the name is bad. */
  createGroup(name: string, options: { from?: GroupStart; lossy?: boolean } = {}): GroupInfo {
    this.#assertOpen();
    return createRingGroup(this.#groupTarget, name, options);
  }

  /** Removes a group: it stops holding senders back at once. */
  removeGroup(name: string): GroupInfo {
    this.#assertOpen();
    return removeRingGroup(this.#groupTarget, name);
  }

  /** Moves a group's cursor: replay from 'earliest' or a sequence number, or skip to 'latest'. Returns the new position. */
  resetGroup(name: string, to: GroupStart): number {
    this.#assertOpen();
    return resetRingGroup(this.#groupTarget, name, to);
  }

  /** Makes a group lossy (it stops holding senders back) or lossless. */
  setGroupLossy(name: string, lossy: boolean): GroupInfo {
    this.#assertOpen();
    return setRingGroupLossy(this.#groupTarget, name, lossy);
  }

  /** Who holds this side up, in words (for a timeout's error): undefined when nothing does. */
  whyBlocked(side: 'send' | 'receive'): string | undefined {
    this.#assertOpen();
    const memory = this.#opened.mapping.buffer;
    // This descriptor sees no conflict with its own lock: its own entry is alive by definition.
    const isAlive: IsAlive = (index) => this.liveness(index);
    return side === 'send' ? whySendersWait(memory, this.header, isAlive) : this.group ? whyMemberWaits(memory, this.header, this.group, isAlive) : undefined;
  }

  /** Records that this process also sends or receives (for stat). */
  addRole(role: RingRole): void {
    addParticipantRole(this.#views, this.#participant, ROLE_BITS[role]);
  }

  /** Flushes the mapping to the file (msync). */
  flush(): void {
    this.#assertOpen();
    syncMapping(this.#opened.mapping, this.path);
  }

  /** Unmaps the ring and drops the lock. Messages stay in the file. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#requester?.close();
    for (const server of this.#servers) server.stop();
    this.#closed = true;
    // Messages it took and could not hand on (a closed output, a handler that threw) must not
    // vanish with the entry: the entry keeps them and, unlocked, reads as a dead process's, so
    // recovery hands them to another member. Otherwise the entry is freed before it is unlocked.
    if (!holdsClaim(this.#views, this.#participant)) unregisterParticipant(this.#views, this.#participant, this.#pid);
    if (this.#participant >= 0) this.#locks.unlock(this.#participant);
    if (this.#pending === 0) this.#release();
    else {
      this.#closing.abort(); // each pending wait sees it when woken; the last one out unmaps
      this.#sleeper.interrupt();
    }
  }

  #release(): void {
    this.#sleeper.close();
    closeRingFile(this.#opened);
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/** How request/reply opens the other rings it needs (reply rings, server members). */
function openHandle(path: string, options: HandleOptions): RingFile {
  return RingFile.open(path, options);
}
