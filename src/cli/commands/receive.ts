/**
 * `mmapipc receive`: waits for the ring to appear, then takes messages. On a pipe, stdout
 * carries exactly the messages (one per line, or NUL-terminated); on a terminal, the
 * tutorial's human lines; with --json, a JSON line per message.
 */
import { Option, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { GroupError, TimeoutError } from '../../errors.js';
import { readerGone } from '../../sys/libc.js';
import type { RingFile } from '../../ring-file/ring-file.js';
import type { ReceiveOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { durationOption, parseCount, ringPath } from '../options.js';
import { ClosedOutputError, note, printable, write } from '../output.js';
import { jsonRecord, OUTPUT_FRAMINGS, outputFraming, trailerByte, trailerLength, writeHeader, type OutputFraming } from '../output-framing.js';
import { PipeDelivery } from '../pipe-delivery.js';
import { GapReport } from '../gap-report.js';
import { WaitNotice } from '../wait-notice.js';
import { addFileOption, addGroupOptions, addTimeoutOption, openFromOptions } from '../ring-options.js';
import type { Gap } from '../../ring/member.js';
import { addLangOption } from '../lang-option.js';
import { addLayoutOption } from '../classic/layout-option.js';
import { receiveClassic } from '../classic/receive.js';
import { textsFor, type Texts } from '../texts.js';
import { waitForFile } from '../wait-for-file.js';
import { formatDuration } from '../duration.js';

const DEFAULT_COUNT = 20;
const DEMO_INTERVAL_MS = 150;
/** Raw output is gathered into writes of about this size. */
const OUTPUT_BATCH_BYTES = 64 * 1024;
/** How often an idle receiver checks that the reader of its stdout pipe is still there. */
const READER_CHECK_MS = 250;

export function registerReceive(program: Command, context: CliContext): void {
  const command = program.command('receive').description('take messages from the ring, waiting for them (and for the ring) as needed');
  addFileOption(command);
  command
    .addOption(new Option('-n, --count <n>', `how many messages to take (default ${DEFAULT_COUNT})`).argParser(parseCount))
    .option('-F, --follow', 'take messages until interrupted (no count)')
    .addOption(durationOption('-i, --interval <duration>', `pause after each message, in seconds or with a unit (demo: ${DEMO_INTERVAL_MS}ms, else 0)`))
    .option('--json', 'print a JSON line per message: sequence, sender pid, time, message')
    .option('-0, --null', 'end each message with a NUL byte instead of a newline (--framing null)')
    .addOption(
      new Option('--framing <framing>', 'how messages are written: lines (default), null, length (4-byte little-endian length, then the bytes), jsonl (as --json)').choices(OUTPUT_FRAMINGS),
    )
    .option('--batch', 'into a pipe: take messages in runs, without waiting for the reader to read each (faster; a reader that stops early loses what it had not read)')
    .option('-v, --verbose', 'say what a long wait waits for even when stderr is not a terminal')
    .option('--demo', "the tutorial's receiver: human lines, 150 ms between messages");
  addGroupOptions(command);
  addTimeoutOption(command, 'waiting for the ring or for a message');
  addLangOption(command);
  addLayoutOption(command);
  command.addHelpText(
    'after',
    `
Examples:
  mmapipc receive                        on a terminal: the tutorial's receiver
  mmapipc receive --count 1 --timeout 5s take one message; exit 124 if none comes in 5 s
  mmapipc receive --follow | head -3     take exactly 3: the others stay in the ring
  mmapipc receive --follow --batch | wc -l   runs at a time into a pipe: fastest
  mmapipc receive --framing length --count 1 > msg.bin
                                         one message of any bytes, with its length before it
  mmapipc receive --json --count 10      structured lines for scripts
  mmapipc receive --group audit --from earliest --follow
                                         a group of its own: sees every message, from the oldest kept
  mmapipc receive --group metrics --lossy --follow
                                         never holds senders back; each gap is reported on stderr

Groups: every group receives every message; members of one group share its messages.
A lossless group (the default) holds senders back while it is behind; a lossy one
skips what senders overwrote and reports it on stderr, one line per burst
("group live missed 980 message(s) in 12 gaps between sequence ..."; --json: one record per gap).

Into a pipe, a message is finished only once the reader has read it, so a reader that
stops (| head -1) leaves the rest in the ring; --batch trades that for speed. On a
terminal, a wait of more than a second (for the ring file, for a message) says so on
stderr. Interrupted with --count, it says how many it received (exit 130, 143).`,
  );
  command.action((options: ReceiveOptions) => receive(options, context));
}

export async function receive(options: ReceiveOptions, context: CliContext): Promise<void> {
  if (options.layout === 'classic') return receiveClassic(options, context);
  const path = ringPath(options.file, context.env);
  const framing = outputFraming(options);
  if (options.count === 0 && !options.follow) return; // like head -n 0: nothing to take, nothing to wait for
  const demo = options.demo ?? context.output.out.isTTY;
  const err = context.output.err;
  const notice = new WaitNotice(err, err.isTTY || options.verbose === true);
  const appeared = await notice.during(
    () => `mmapipc: ${path}: waiting for the ring to appear (no file there yet; mmapipc send or mmapipc create makes it)`,
    () => waitForFile(path, { timeoutMs: options.timeout, signal: context.signal }),
  );
  if (!appeared) {
    if (context.signal.aborted) return;
    throw new TimeoutError(`no ring appeared within ${formatDuration(options.timeout ?? 0)}`, { subject: path });
  }
  const gaps = new GapReport(context.output, path);
  const onGap = (gap: Gap) => {
    if (options.json) note(context.output, JSON.stringify({ gap: true, group: gap.group, from: gap.from, count: gap.count }));
    else gaps.add(gap);
  };
  const ring = openFromOptions(options, context, 'receiver', false, onGap);
  const receiver = new Receiver(ring, options, context, textsFor(options.lang), demo, path, framing, notice, gaps);
  try {
    await receiver.run();
  } catch (error) {
    // The ring's members know the group, not the file: name the ring too (group rm under a member).
    if (error instanceof GroupError && error.subject === undefined) throw new GroupError(error.message, { subject: path, cause: error });
    throw error;
  } finally {
    ring.close();
    gaps.flush();
  }
  if (context.signal.aborted && !options.follow) note(context.output, `mmapipc: ${path}: interrupted: ${receiver.received} of ${options.count ?? DEFAULT_COUNT} received`);
}

class Receiver {
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
