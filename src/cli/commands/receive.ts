/**
 * `mmapipc receive`: waits for the ring to appear, then takes messages. On a pipe, stdout
 * carries exactly the messages (one per line, or NUL-terminated); on a terminal, the
 * tutorial's human lines; with --json, a JSON line per message.
 */
import { Option, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { TimeoutError } from '../../errors.js';
import { readerGone } from '../../sys/libc.js';
import type { RingFile } from '../../ring-file/ring-file.js';
import type { ReceiveOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { durationOption, parseCount, ringPath } from '../options.js';
import { ClosedOutputError, note, printable, write } from '../output.js';
import { addFileOption, addGroupOptions, addTimeoutOption, openFromOptions } from '../ring-options.js';
import type { Gap } from '../../ring/member.js';
import { addLangOption } from '../lang-option.js';
import { addLayoutOption } from '../classic/layout-option.js';
import { receiveClassic } from '../classic/receive.js';
import { textsFor, type Texts } from '../texts.js';
import { waitForFile } from '../wait-for-file.js';
// bridge: messages a `bridge import` brought in carry an origin frame (src/bridge/origin.ts).
import { decodeOrigin, frameHeaderLength, originRecord } from '../../bridge/origin.js';
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
    .option('-0, --null', 'end each message with a NUL byte instead of a newline')
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
  mmapipc receive --follow | head -3     stream messages until the reader stops
  mmapipc receive --json --count 10      structured lines for scripts
  mmapipc receive --group audit --from earliest --follow
                                         a group of its own: sees every message, from the oldest kept
  mmapipc receive --group metrics --lossy --follow
                                         never holds senders back; each gap is reported on stderr

Groups: every group receives every message; members of one group share its messages.
A lossless group (the default) holds senders back while it is behind; a lossy one
skips what senders overwrote and reports it ("missed N messages") on stderr.`,
  );
  command.action((options: ReceiveOptions) => receive(options, context));
}

export async function receive(options: ReceiveOptions, context: CliContext): Promise<void> {
  if (options.layout === 'classic') return receiveClassic(options, context);
  const path = ringPath(options.file, context.env);
  if (options.count === 0 && !options.follow) return; // like head -n 0: nothing to take, nothing to wait for
  const demo = options.demo ?? context.output.out.isTTY;
  const appeared = await waitForFile(path, { timeoutMs: options.timeout, signal: context.signal });
  if (!appeared) {
    if (context.signal.aborted) return;
    throw new TimeoutError(`no ring appeared within ${formatDuration(options.timeout ?? 0)}`, { subject: path });
  }
  const onGap = (gap: Gap) => {
    const line = options.json
      ? JSON.stringify({ gap: true, group: gap.group, from: gap.from, count: gap.count })
      : `mmapipc: ${path}: group ${gap.group} missed ${gap.count} message(s) from sequence ${gap.from} (senders overwrote them before it read them)`;
    note(context.output, line);
  };
  const ring = openFromOptions(options, context, 'receiver', false, onGap);
  try {
    await new Receiver(ring, options, context, textsFor(options.lang), demo, path).run();
  } finally {
    ring.close();
  }
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
  #received = 0;

  constructor(ring: RingFile, options: ReceiveOptions, context: CliContext, texts: Texts, demo: boolean, path: string) {
    this.#ring = ring;
    this.#options = options;
    this.#context = context;
    this.#texts = texts;
    this.#demo = demo;
    this.#path = path;
    this.#limit = options.follow ? Infinity : (options.count ?? DEFAULT_COUNT);
    this.#interval = options.interval ?? (demo ? DEMO_INTERVAL_MS : 0);
  }

  async run(): Promise<void> {
    const human = this.#demo && !this.#options.json;
    if (human) this.#line(this.#texts.receiverStart);
    // Without a pause between messages, take what is already there in one go.
    const batchLimit = this.#interval === 0 && !human ? Math.max(1, Math.floor(OUTPUT_BATCH_BYTES / (this.#ring.maxMessageLength + 1))) : 1;
    while (this.#received < this.#limit && !this.#context.signal.aborted) {
      const taken = this.#take(Math.min(batchLimit, this.#limit - this.#received), human);
      if (taken === 0) {
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
  async #wait(): Promise<boolean> {
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
      const arrived = await this.#ring.waitForMessage({
        timeoutMs: slice === Infinity ? undefined : slice,
        signal: this.#context.signal,
      });
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
    if (!human && !this.#options.json) return this.#takeRaw(max);
    const out = this.#context.output.out;
    const pieces: Array<Buffer | string> = [];
    const format = (view: Buffer, sequence: number, pid: number, sentAt: number) => {
      if (this.#options.json) {
        pieces.push(`${JSON.stringify(jsonRecord(view, sequence, pid, sentAt, this.#ring.group, this.#ring.ring.deliveries))}\n`);
      } else {
        const payload = decodeOrigin(view).payload; // bridge: without the origin frame
        const text = this.#texts.received(printable(payload.toString('utf8')), this.#ring.occupancy, this.#ring.capacity);
        pieces.push(`${text.replace(/^(\S+)/, (label) => out.color.cyan(label))}\n`);
      }
    };
    const taken = this.#ring.ring.tryReceiveBatchWith(max, format, () => write(out, joinPieces(pieces)));
    if (taken > 0) this.#ring.ring.touch();
    return taken;
  }

  /** Raw output, the common case in pipelines: copied into one reused buffer, one write per batch. */
  #takeRaw(max: number): number {
    const terminator = this.#options.null ? 0 : 0x0a;
    let used = 0;
    const taken = this.#ring.ring.tryReceiveBatchRaw(
      max,
      (buffer, offset, length) => {
        // bridge: an imported message is written without its origin frame
        const frame = frameHeaderLength(buffer, offset, length);
        offset += frame;
        length -= frame;
        if (used + length + 1 > this.#outputBuffer.length) {
          const grown = Buffer.allocUnsafe(Math.max(this.#outputBuffer.length * 2, used + length + 1));
          this.#outputBuffer.copy(grown, 0, 0, used);
          this.#outputBuffer = grown;
        }
        buffer.copy(this.#outputBuffer, used, offset, offset + length);
        used += length;
        this.#outputBuffer[used++] = terminator;
      },
      () => write(this.#context.output.out, this.#outputBuffer.subarray(0, used)),
    );
    if (taken > 0) this.#ring.ring.touch();
    return taken;
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

/** A JSON record of a message: its text when it is valid UTF-8, else its bytes in base64. */
function jsonRecord(message: Buffer, sequence: number, pid: number, sentAt: number, group?: string, deliveries = 0): Record<string, unknown> {
  // bridge: an imported message's origin (engine, stream, sequence) is shown, its frame stripped
  const { origin, payload: data } = decodeOrigin(message);
  const text = data.toString('utf8');
  const exact = Buffer.from(text).equals(data);
  return {
    sequence,
    pid,
    time: sentAt > 0 ? new Date(sentAt).toISOString() : null,
    bytes: data.length,
    group: group ?? null,
    deliveries,
    ...(exact ? { message: text } : { base64: data.toString('base64') }),
    ...(origin ? { origin: originRecord(origin) } : {}),
  };
}
