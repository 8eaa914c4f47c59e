/**
 * RingFile: the library's handle on a ring in a mapped file. It joins the pure ring algorithm
 * to the kernel: the mapping, the shared lock, the futex for sleeping, this process's entry in
 * the participant table, and the group it receives for.
 */
import { GroupError, MmapipcError } from '../errors.js';
import type { RingHeader } from '../layout/header.js';
import { DEFAULT_GROUP, MEMBERS_WAITING_OFFSET, ROLE_RECEIVER, ROLE_SENDER, SENDERS_WAITING_OFFSET } from '../layout/ring-layout.js';
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
import { createGroup, listGroups, removeGroup, resetGroup, setGroupLossy, type GroupInfo, type GroupStart } from '../ring/groups.js';
import { whyMemberWaits, whySendersWait } from './blockers.js';
import { addParticipantRole, holdsClaim, registerParticipant, setParticipantGroup, unregisterParticipant, type IsAlive, type Liveness } from '../ring/participants.js';
import type { RecoveryReport } from '../ring/recovery.js';
import { Ring, type Gap, type HeldBatch, type HeldViews, type Message, type MessageClaim } from '../ring/ring.js';
import { viewsOf, type RingViews } from '../ring/views.js';
import { faultHook } from '../sys/fault-hook.js';
import { bellSleeper, type RingSleeper } from '../sys/bell-sleeper.js';
import { errnoName } from '../sys/errno.js';
import { geteuid, getpid, syncMapping } from '../sys/libc.js';
import { pidNamespaceId, processStartTicks } from '../sys/process.js';
import { fileEntryLocks, fileLiveness, type FileEntryLocks } from './entry-locks.js';
import { closeRingFile, openRingFile, type OpenRingOptions, type OpenedRing } from './open.js';
import { Requester, type Reply, type RequestOptions } from '../reqrep/client.js';
import type { HandleOptions } from '../reqrep/handle.js';
import { Server, serveWith, type RequestHandler, type ServeOptions } from '../reqrep/server.js';

export type { Message, HeldBatch, HeldViews, MessageView, MessageClaim, Gap } from '../ring/ring.js';
export type { WaitOptions } from '../ring/blocking.js';
export type { GroupStart } from '../ring/groups.js';
export type { RequestOptions, Reply } from '../reqrep/client.js';
export type { ServeOptions, ServeEvent, RequestHandler, Server } from '../reqrep/server.js';
export type { ServedRequest } from '../reqrep/served-request.js';

export type RingRole = 'sender' | 'receiver' | 'both' | 'observer';

export interface RingFileOptions extends OpenRingOptions {
  /** What this process will do; recorded for `mmapipc stat` (default 'both'). */
  readonly role?: RingRole;
  /** Stamp messages with the time they were sent (default true). */
  readonly stamp?: boolean;
  /** msync the mapping after every send, so messages reach the disk before send returns. */
  readonly sync?: boolean;
  /** The consumer group to receive for (default "default"); created if it does not exist. */
  readonly group?: string;
  /** Where a group created by this open starts: 'latest' (default), 'earliest' or a sequence number. */
  readonly from?: GroupStart;
  /** A group created by this open is lossy: it never holds senders back, and reports gaps. */
  readonly lossy?: boolean;
  /** Called for each gap a lossy group finds (messages overwritten before it read them). */
  readonly onGap?: (gap: Gap) => void;
}

/** How often a waiting process looks for dead peers when nothing is stuck, and when something is. */
const RECOVERY_INTERVAL_MS = 1000;
const STUCK_RECOVERY_INTERVAL_MS = 50;

const ROLE_BITS: Record<RingRole, number> = {
  sender: ROLE_SENDER,
  receiver: ROLE_RECEIVER,
  both: ROLE_SENDER | ROLE_RECEIVER,
  observer: 0,
};

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
  #nextRecovery = 0;
  #stuck = false;
  readonly #recover = (): boolean => this.#recoverIfDue();
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
    const memory = opened.memory;
    this.#views = viewsOf(memory.head, opened.header);
    const role = options.role ?? 'both';
    const receives = role === 'receiver' || role === 'both' || options.group !== undefined;
    this.#participant = -1;
    this.#locks = fileEntryLocks(opened.fd, opened.path);
    try {
      const self = {
        pid: this.#pid,
        pidNamespace: pidNamespaceId(),
        uid: geteuid(),
        role: ROLE_BITS[role],
        startTicks: processStartTicks(this.#pid) ?? 0,
        attachedAt: Date.now(),
      };
      const entry = registerParticipant(this.#views, self, this.#locks);
      this.#participant = entry.index;
      if (entry.refused === 'locks-unavailable' && role !== 'observer') {
        const errno = this.#locks.lastUntestableErrno;
        throw new MmapipcError(
          `cannot take a participant entry: its file system refuses open-file-description locks (fcntl F_OFD_SETLK: ${errno === undefined ? '?' : errnoName(errno)}), which mmapipc needs to tell live processes from dead ones; put the ring on a local file system (/dev/shm, /tmp); network file systems are unsupported`,
          { subject: this.path },
        );
      }
      if (entry.index < 0 && role !== 'observer') {
        throw new MmapipcError('every entry of the participant table (64) is held by a live process or by a dead one\'s unresolved claims; close some', { subject: this.path });
      }
      let group: { index: number; generation: number; name: string } | undefined;
      if (receives) {
        const name = options.group ?? DEFAULT_GROUP;
        const info = createGroup(this.#views, opened.header, name, { lossy: options.lossy, from: options.from, now: Date.now() });
        group = { index: info.index, generation: info.generation, name: info.name };
        setParticipantGroup(this.#views, entry.index, info.index, info.generation);
      }
      this.group = group?.name;
      this.#ring = new Ring(memory, opened.header, {
        identity: { pid: this.#pid, participant: this.#participant, generation: entry.generation },
        stamp: options.stamp ?? true,
        group,
        fault: faultHook(),
      });
    } catch (error) {
      unregisterParticipant(this.#views, this.#participant, this.#pid);
      closeRingFile(opened); // drops the entry lock with the descriptor
      if (error instanceof GroupError && error.subject === undefined) throw new GroupError(error.message, { subject: this.path });
      throw error;
    }
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

  /** Runs recovery at most once per interval (more often while something is stuck). */
  #recoverIfDue(): boolean {
    const now = performance.now();
    if (now < this.#nextRecovery) return this.#stuck;
    const report = this.#ring.recover(this.#locks);
    this.#stuck = report.stuck || report.released > 0 || report.adopted > 0;
    this.#nextRecovery = now + (this.#stuck ? STUCK_RECOVERY_INTERVAL_MS : RECOVERY_INTERVAL_MS);
    return this.#stuck;
  }

  /** Looks for claims of dead processes now (every waiting process also does this); returns what it did. */
  recover(): RecoveryReport {
    this.#assertOpen();
    const report = this.#ring.recover(this.#locks);
    this.#stuck = report.stuck || report.released > 0 || report.adopted > 0;
    this.#nextRecovery = performance.now() + (this.#stuck ? STUCK_RECOVERY_INTERVAL_MS : RECOVERY_INTERVAL_MS);
    return report;
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

  /** Runs an async wait that close() can cut short; the mapping outlives it. */
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
    const group = this.#withSubject(() => createGroup(this.#views, this.header, name, { ...options, now: Date.now() }));
    this.#ring.notify('receivers');
    return group;
  }

  /** Removes a group: it stops holding senders back at once. */
  removeGroup(name: string): GroupInfo {
    this.#assertOpen();
    const group = this.#withSubject(() => removeGroup(this.#views, this.header, name));
    // Both sides: senders may have been held back by it, and its waiting members must learn it is gone.
    this.#ring.notify('receivers');
    this.#ring.notify('senders');
    return group;
  }

  /** Moves a group's cursor: replay from 'earliest' or a sequence number, or skip to 'latest'. Returns the new position. */
  resetGroup(name: string, to: GroupStart): number {
    this.#assertOpen();
    const position = this.#withSubject(() => resetGroup(this.#views, this.header, name, to));
    this.#ring.notify('receivers');
    this.#ring.notify('senders');
    return position;
  }

  /** Makes a group lossy (it stops holding senders back) or lossless. */
  setGroupLossy(name: string, lossy: boolean): GroupInfo {
    this.#assertOpen();
    const group = this.#withSubject(() => setGroupLossy(this.#views, this.header, name, lossy));
    this.#ring.notify('senders');
    return group;
  }

  #withSubject<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof GroupError && error.subject === undefined) throw new GroupError(error.message, { subject: this.path });
      throw error;
    }
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
