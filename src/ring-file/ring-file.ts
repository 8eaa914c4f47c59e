/**
 * RingFile: the library's handle on a ring in a mapped file. It joins the pure ring algorithm
 * to the kernel: the mapping, the shared lock, the futex for sleeping, and this process's entry
 * in the participant table.
 */
import { MmapipcError } from '../errors.js';
import type { RingHeader } from '../layout/header.js';
import { RECEIVERS_WAITING_OFFSET, ROLE_RECEIVER, ROLE_SENDER, SENDERS_WAITING_OFFSET } from '../layout/ring-layout.js';
import {
  receiveAsync,
  receiveBlocking,
  sendAsync,
  sendBlocking,
  waitForMessage,
  waitForRoom,
  type WaitOptions,
} from '../ring/blocking.js';
import { addParticipantRole, registerParticipant, unregisterParticipant } from '../ring/participants.js';
import { Ring, type HeldBatch, type Message } from '../ring/ring.js';
import { futexSleeper } from '../sys/futex-sleeper.js';
import { getpid, syncMapping } from '../sys/libc.js';
import { processLiveness, processStartTicks } from '../sys/process.js';
import { closeRingFile, openRingFile, type OpenRingOptions, type OpenedRing } from './open.js';

export type { HeldBatch, Message } from '../ring/ring.js';
export type { WaitOptions } from '../ring/blocking.js';

export type RingRole = 'sender' | 'receiver' | 'both' | 'observer';

export interface RingFileOptions extends OpenRingOptions {
  /** What this process will do; recorded for `mmapipc stat` (default 'both'). */
  readonly role?: RingRole;
  /** Stamp messages with the time they were sent (default true). */
  readonly stamp?: boolean;
  /** msync the mapping after every send, so messages reach the disk before send returns. */
  readonly sync?: boolean;
  /**
   * A claim stuck this long is given up even when its owner cannot be proven dead (a stopped
   * sender, say); default 10 s. Claims of proven-dead owners are recovered at once.
   */
  readonly stallTimeoutMs?: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 10_000;
/** How often a waiting receiver looks for dead peers when nothing is stuck, and when something is. */
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
  readonly #opened: OpenedRing;
  readonly #ring: Ring;
  readonly #sleeper: ReturnType<typeof futexSleeper>;
  readonly #participant: number;
  readonly #pid: number;
  readonly #sync: boolean;
  readonly #stallTimeoutMs: number;
  readonly #stuckSince = new Map<string, number>();
  #nextRecovery = 0;
  #stuck = false;
  readonly #recover = (): boolean => this.#recoverIfDue();
  #closed = false;
  /** Async waits in progress: the mapping stays until the last one has left the ring. */
  #pending = 0;
  readonly #closing = new AbortController();

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
    this.#stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const memory = opened.mapping.buffer;
    const entry = registerParticipant(
      memory,
      { pid: this.#pid, role: ROLE_BITS[options.role ?? 'both'], startTicks: processStartTicks(this.#pid) ?? 0, attachedAt: Date.now() },
      (pid, start) => processLiveness(pid, start) === 'alive',
    );
    this.#participant = entry.index;
    this.#ring = new Ring(memory, opened.header, {
      identity: { pid: this.#pid, participant: this.#participant, generation: entry.generation },
      stamp: options.stamp ?? true,
    });
    this.#sleeper = futexSleeper(memory);
    this.#ring.wake = (target) => this.#sleeper.wake(target === 'receivers' ? RECEIVERS_WAITING_OFFSET : SENDERS_WAITING_OFFSET);
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
    return this.header.slotSize;
  }

  /** Messages waiting (or being written) right now. */
  get occupancy(): number {
    return this.#ring.occupancy;
  }

  #assertOpen(): void {
    if (this.#closed) throw new MmapipcError('ring is closed', { subject: this.path });
  }

  /** Runs recovery at most once per interval (more often while something is stuck). */
  #recoverIfDue(): boolean {
    const now = performance.now();
    if (now < this.#nextRecovery) return this.#stuck;
    const report = this.#ring.recover({
      isAlive: (pid, start) => processLiveness(pid, start) === 'alive',
      now,
      stallTimeoutMs: this.#stallTimeoutMs,
      stuckSince: this.#stuckSince,
    });
    this.#stuck = report.stuck || report.released > 0 || report.rescued.length > 0;
    this.#nextRecovery = now + (this.#stuck ? STUCK_RECOVERY_INTERVAL_MS : RECOVERY_INTERVAL_MS);
    return this.#stuck;
  }

  /** Looks for claims of dead processes now (receivers also do this whenever they wait). */
  recover(): void {
    this.#assertOpen();
    this.#nextRecovery = 0;
    this.#recoverIfDue();
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
    const sent = sendBlocking(this.#ring, this.#sleeper, message, options);
    if (sent) this.#afterSend();
    return sent;
  }

  /** Sends, sleeping on another thread while full, so the event loop keeps running. */
  async sendAsync(message: Buffer | Uint8Array | string, options: WaitOptions = {}): Promise<boolean> {
    const sent = await this.#whileOpen(options, (waitOptions) => sendAsync(this.#ring, this.#sleeper, message, waitOptions));
    if (sent) this.#afterSend();
    return sent;
  }

  /** Runs an async wait that close() can cut short; the mapping outlives it. */
  async #whileOpen<T>(options: WaitOptions, work: (options: WaitOptions) => Promise<T>): Promise<T> {
    this.#assertOpen();
    // One controller per wait, unhooked afterwards: AbortSignal.any would keep every combined
    // signal alive as long as its sources (a leak in a long-running receiver).
    const controller = new AbortController();
    const abort = () => controller.abort();
    const sources = options.signal ? [options.signal, this.#closing.signal] : [this.#closing.signal];
    for (const source of sources) {
      if (source.aborted) controller.abort();
      else source.addEventListener('abort', abort, { once: true });
    }
    this.#pending++;
    try {
      return await work({ ...options, signal: controller.signal });
    } finally {
      for (const source of sources) source.removeEventListener('abort', abort);
      if (--this.#pending === 0 && this.#closed) this.#release();
    }
  }

  /** Sends all of `messages` in order, sleeping while full; returns how many were sent before a timeout. */
  sendBatch(messages: ReadonlyArray<Buffer | Uint8Array | string>, options: WaitOptions = {}): number {
    this.#assertOpen();
    let sent = 0;
    while (sent < messages.length) {
      sent += this.#ring.trySendBatch(messages, sent);
      if (sent === messages.length || !sendBlocking(this.#ring, this.#sleeper, messages[sent]!, options)) break;
      sent++;
    }
    if (sent > 0) this.#afterSend();
    return sent;
  }

  /** Takes the oldest message, or null when the ring is empty. */
  tryReceive(): Message | null {
    this.#assertOpen();
    return this.#ring.tryReceive();
  }

  /**
   * Claims up to `max` waiting messages without freeing them (non-blocking; null when none):
   * their slots are freed by the batch's ack(). If this process dies first, recovery hands them
   * to another receiver. One batch at a time. (v1 stand-in for the v2 API of the same name.)
   */
  hold(max: number): HeldBatch | null {
    this.#assertOpen();
    return this.#ring.hold(max);
  }

  /** Takes the oldest message, sleeping while empty; null when `timeoutMs` ran out. Blocks the thread. */
  receive(options: WaitOptions = {}): Message | null {
    this.#assertOpen();
    return receiveBlocking(this.#ring, this.#sleeper, options, this.#recover);
  }

  /** Takes the oldest message, sleeping on another thread while empty. */
  receiveAsync(options: WaitOptions = {}): Promise<Message | null> {
    return this.#whileOpen(options, (waitOptions) => receiveAsync(this.#ring, this.#sleeper, waitOptions, this.#recover));
  }

  /** Up to `max` messages: waits (like receive) for the first, then takes what is there. */
  receiveBatch(max: number, options: WaitOptions = {}): Message[] {
    this.#assertOpen();
    const first = receiveBlocking(this.#ring, this.#sleeper, options, this.#recover);
    if (first === null) return [];
    return [first, ...this.#ring.tryReceiveBatch(max - 1)];
  }

  /** Resolves true once a message is waiting (without taking it); false on timeout or abort. */
  waitForMessage(options: WaitOptions = {}): Promise<boolean> {
    return this.#whileOpen(options, (waitOptions) => waitForMessage(this.#ring, this.#sleeper, waitOptions, this.#recover));
  }

  /** Resolves true once there is room for a message; false on timeout or abort. */
  waitForRoom(options: WaitOptions = {}): Promise<boolean> {
    return this.#whileOpen(options, (waitOptions) => waitForRoom(this.#ring, this.#sleeper, waitOptions));
  }

  /** Receives forever (until close or break), sleeping between messages. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (!this.#closed) {
      const message = await this.receiveAsync();
      if (message) yield message;
      else if (this.#closed) return;
    }
  }

  /** Records that this process also sends or receives (for stat). */
  addRole(role: RingRole): void {
    addParticipantRole(this.#opened.mapping.buffer, this.#participant, ROLE_BITS[role]);
  }

  /** Flushes the mapping to the file (msync). */
  flush(): void {
    this.#assertOpen();
    syncMapping(this.#opened.mapping, this.path);
  }

  /** Unmaps the ring and drops the lock. Messages stay in the file. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    unregisterParticipant(this.#opened.mapping.buffer, this.#participant, this.#pid);
    if (this.#pending === 0) this.#release();
    else this.#closing.abort(); // the last pending wait unmaps
  }

  #release(): void {
    closeRingFile(this.#opened);
  }

  get closed(): boolean {
    return this.#closed;
  }
}
