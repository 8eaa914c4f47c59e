/**
 * `mmapipc receive`'s loop once the ring is open: takes messages and writes them to stdout in
 * the chosen framing (raw runs gathered into one write, one message at a time into a pipe and
 * finished once read, human lines, JSON lines), waits between them, and notices a reader that
 * left. The command's options and its opening of the ring are ../commands/receive.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TimeoutError } from '../../errors.js';
import { readerGone } from '../../sys/libc.js';
import type { RingFile } from '../../ring-file/ring-file.js';
import type { ReceiveOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { ClosedOutputError, printable, write } from '../output.js';
import { jsonRecord, trailerByte, trailerLength, writeHeader, type OutputFraming } from '../output-framing.js';
import { PipeDelivery } from '../pipe-delivery.js';
import type { GapReport } from '../gap-report.js';
import type { WaitNotice } from '../wait-notice.js';
import type { Texts } from '../texts.js';
import { formatDuration } from '../duration.js';

/** How many messages `receive` takes without --count or --follow. */
export const DEFAULT_COUNT = 20;
/** The tutorial receiver's pause after each message. */
export const DEMO_INTERVAL_MS = 150;
/** Raw output is gathered into writes of about this size. */
const OUTPUT_BATCH_BYTES = 64 * 1024;
/** How often an idle receiver checks that the reader of its stdout pipe is still there. */
const READER_CHECK_MS = 250;

export class Receiver {
  readonly #ring: RingFile;
  readonly #options: ReceiveOptions;
  readonly #context: CliContext;
  readonly #texts: Texts;
  readonly #demo: boolean;
  readonly #path: string;
  readonly #limit: number;
  readonly #interval: number;
  readonly #framing: OutputFraming;
  readonly #notice: WaitNotice;
  readonly #gaps: GapReport;
  /** Set when stdout is a pipe and --batch is not: one message at a time, finished once read. */
  readonly #pipe: PipeDelivery | undefined;
  #received = 0;

  constructor(
    ring: RingFile,
    options: ReceiveOptions,
    context: CliContext,
    texts: Texts,
    demo: boolean,
    path: string,
    framing: OutputFraming,
    notice: WaitNotice,
    gaps: GapReport,
  ) {
    this.#ring = ring;
    this.#framing = framing;
    this.#notice = notice;
    this.#gaps = gaps;
    this.#pipe = options.batch ? undefined : PipeDelivery.for(context.output.out.fd);
    this.#options = options;
    this.#context = context;
    this.#texts = texts;
    this.#demo = demo;
    this.#path = path;
    this.#limit = options.follow ? Infinity : (options.count ?? DEFAULT_COUNT);
    this.#interval = options.interval ?? (demo ? DEMO_INTERVAL_MS : 0);
  }

  get received(): number {
    return this.#received;
  }

  async run(): Promise<void> {
    const human = this.#demo && this.#framing !== 'jsonl';
    if (human) this.#line(this.#texts.receiverStart);
    // Without a pause between messages, take what is already there in one go.
    const batchLimit = this.#interval === 0 && !human ? Math.max(1, Math.floor(OUTPUT_BATCH_BYTES / (this.#ring.header.slotSize + 1))) : 1;
    while (this.#received < this.#limit && !this.#context.signal.aborted) {
      const taken = this.#pipe ? await this.#deliverOne(this.#pipe, human) : this.#take(Math.min(batchLimit, this.#limit - this.#received), human);
      if (taken === 0) {
        this.#gaps.flush(); // caught up: the burst's gaps are one line
        if (!(await this.#wait())) return; // interrupted
        continue;
      }
      this.#received += taken;
      if (this.#interval > 0 && this.#received < this.#limit) await this.#pause();
    }
    if (human && !this.#context.signal.aborted) this.#line(this.#texts.receiverDone);
  }

  /**
   * Sleeps until a message is there; false when interrupted, TimeoutError when --timeout ran
   * out. While stdout is a pipe, looks every READER_CHECK_MS whether its reader has gone (as
   * after `| head -3`), so an idle receiver ends then instead of at its next message.
   */
  #wait(): Promise<boolean> {
    return this.#notice.during(
      () => this.#waitingLine(),
      () => this.#waitLoop(),
    );
  }

  async #waitLoop(): Promise<boolean> {
    const { timeout } = this.#options;
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    const out = this.#context.output.out;
    // The first look happens even with --timeout 0: it also takes over messages that a dead
    // receiver was holding (recovery runs before any sleep).
    for (let first = true; ; first = false) {
      const remaining = Math.max(0, deadline - performance.now());
      if (remaining === 0 && !first) {
        const blocked = this.#ring.whyBlocked('receive');
        throw new TimeoutError(`no message arrived within ${formatDuration(timeout ?? 0)} (${this.#received} received)${blocked ? `; ${blocked}` : ''}`, { subject: this.#path });
      }
      const slice = out.isTTY ? remaining : Math.min(remaining, READER_CHECK_MS);
      const arrived = await this.#ring.waitForMessage({ timeoutMs: slice === Infinity ? undefined : slice, signal: this.#context.signal });
      if (arrived) return true;
      if (this.#context.signal.aborted) return false;
      if (!out.isTTY && readerGone(out.fd)) throw new ClosedOutputError('output closed');
    }
  }

  /**
   * Takes up to `max` waiting messages and writes them out while their slots are still held:
   * the slots are freed only after the write, so a receiver killed mid-write — or whose reader
   * has gone (EPIPE) — leaves them claimed, and the next receiver delivers them (at least once).
   */
  #take(max: number, human: boolean): number {
    if (!human && this.#framing !== 'jsonl') return this.#takeRaw(max);
    const out = this.#context.output.out;
    const pieces: Array<Buffer | string> = [];
    const format = (view: Buffer, sequence: number, pid: number, sentAt: number) => {
      if (this.#framing === 'jsonl') {
        // bridge: an imported message shows its origin (kept in its extension, beside the payload)
        pieces.push(`${JSON.stringify(jsonRecord(view, sequence, pid, sentAt, this.#ring.group, this.#ring.ring.deliveries, this.#ring.ring.originAt(sequence)))}\n`);
      } else {
        const text = this.#texts.received(printable(view.toString('utf8')), this.#ring.occupancy, this.#ring.capacity);
        pieces.push(`${text.replace(/^(\S+)/, (label) => out.color.cyan(label))}\n`);
      }
    };
    const taken = this.#ring.ring.tryReceiveBatchWith(max, format, () => write(out, joinPieces(pieces)));
    if (taken > 0) this.#ring.ring.touch();
    return taken;
  }

  /**
   * Raw output, the common case in pipelines: small messages copied into one reused buffer, one
   * write per batch; a message too large for it is written straight from its slot (no copy).
   */
  #takeRaw(max: number): number {
    const framing = this.#framing;
    const trailer = trailerLength(framing);
    const terminator = trailerByte(framing);
    const out = this.#context.output.out;
    let used = 0;
    const taken = this.#ring.ring.tryReceiveBatchRaw(
      max,
      (buffer, offset, length) => {
        const record = length + 4 + trailer;
        if (used + record > this.#outputBuffer.length) {
          if (used > 0) write(out, this.#outputBuffer.subarray(0, used));
          used = 0;
        }
        if (record > this.#outputBuffer.length) {
          write(out, this.#outputBuffer.subarray(0, writeHeader(framing, length, this.#outputBuffer, 0)));
          write(out, buffer.subarray(offset, offset + length));
          if (trailer > 0) write(out, framing === 'null' ? NUL : NEWLINE);
          return;
        }
        used += writeHeader(framing, length, this.#outputBuffer, used);
        buffer.copy(this.#outputBuffer, used, offset, offset + length);
        used += length;
        if (trailer > 0) this.#outputBuffer[used++] = terminator;
      },
      () => {
        if (used > 0) write(out, this.#outputBuffer.subarray(0, used));
      },
    );
    if (taken > 0) this.#ring.ring.touch();
    return taken;
  }

  /**
   * Into a pipe: takes one message, writes it, and finishes it only once the reader has read
   * it. A reader that left before reading it (or a write that failed) leaves it unfinished: the
   * ring hands it to the next receiver of the group when this process has exited. Interrupted
   * while the reader has not read it yet, it stays unfinished too (at least once).
   */
  async #deliverOne(pipe: PipeDelivery, human: boolean): Promise<number> {
    if (pipe.readerGone) throw new ClosedOutputError('output closed');
    const held = this.#ring.hold(1);
    if (held === null) return 0;
    const message = held.messages[0]!;
    const out = this.#context.output.out;
    if (this.#framing === 'jsonl') {
      write(out, `${JSON.stringify(jsonRecord(message.data, message.sequence, message.pid, message.sentAt, this.#ring.group, message.deliveries, message.origin))}\n`);
    } else if (human) {
      const payload = message.data;
      const text = this.#texts.received(printable(payload.toString('utf8')), this.#ring.occupancy, this.#ring.capacity);
      write(out, `${text.replace(/^(\S+)/, (label) => out.color.cyan(label))}\n`);
    } else {
      const payload = message.data;
      const header = Buffer.allocUnsafe(4);
      const headerLength = writeHeader(this.#framing, payload.length, header, 0);
      if (headerLength > 0) write(out, header.subarray(0, headerLength));
      write(out, payload);
      if (trailerLength(this.#framing) > 0) write(out, this.#framing === 'null' ? NUL : NEWLINE);
    }
    if (!(await pipe.drained(this.#context.signal))) return 0; // interrupted: left unfinished
    held.ack();
    this.#ring.ring.touch();
    return 1;
  }

  /** What a long wait for a message says on a terminal. */
  #waitingLine(): string {
    const why = this.#ring.whyBlocked('receive');
    return `mmapipc: ${this.#path}: waiting for a message for group ${this.#ring.group ?? 'default'} (${this.#received} received so far)${why ? `: ${why}` : ''}`;
  }

  #outputBuffer = Buffer.allocUnsafe(OUTPUT_BATCH_BYTES + 1024);

  #line(text: string): void {
    write(this.#context.output.out, `${this.#context.output.out.color.bold(text)}\n`);
  }

  async #pause(): Promise<void> {
    try {
      await sleep(this.#interval, undefined, { signal: this.#context.signal });
    } catch {
      // aborted: the loop checks the signal
    }
  }
}

function joinPieces(pieces: Array<Buffer | string>): Buffer {
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
}

const NUL = Buffer.from([0]);
const NEWLINE = Buffer.from([0x0a]);
