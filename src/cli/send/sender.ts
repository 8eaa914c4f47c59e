/**
 * `mmapipc send`'s loops once the ring is open: the tutorial's demo, the arguments, or stdin cut
 * into messages as it arrives (in batches when nothing is reported per message); each waits for
 * room and says on stderr what holds it up, reports what it sent, and keeps sending when its
 * report's reader has gone. The command's options and its opening of the ring are
 * ../commands/send.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageTooLargeError, TimeoutError } from '../../errors.js';
import type { RingFile } from '../../ring-file/ring-file.js';
import type { SendOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { ringPath } from '../options.js';
import { ClosedOutputError, printable, write } from '../output.js';
import type { Texts } from '../texts.js';
import { truncateUtf8 } from '../utf8.js';
import { Progress } from '../progress.js';
import { formatDuration } from '../duration.js';
import { Framer, type InputFraming } from '../input-framing.js';
import { WaitNotice } from '../wait-notice.js';

/** The tutorial sender's message count and pause between messages. */
export const DEMO_COUNT = 20;
export const DEMO_INTERVAL_MS = 100;

export class Sender {
  readonly #ring: RingFile;
  readonly #options: SendOptions;
  readonly #context: CliContext;
  readonly #texts: Texts;
  readonly #demo: boolean;
  readonly #path: string;
  readonly #human: boolean;
  readonly #notice: WaitNotice;
  /** Messages sent so far, and how many were asked for (undefined: stdin, not known). */
  #sent = 0;
  #total: number | undefined;
  /** The reader of stdout went away: reports stop, sending goes on. */
  #outputGone = false;

  constructor(ring: RingFile, options: SendOptions, context: CliContext, texts: Texts, demo: boolean) {
    this.#ring = ring;
    this.#options = options;
    this.#context = context;
    this.#texts = texts;
    this.#demo = demo;
    this.#path = ringPath(options.file, context.env);
    this.#human = !options.quiet && !options.json && (demo || options.verbose === true || context.output.out.isTTY);
    const err = context.output.err;
    this.#notice = new WaitNotice(err, (err.isTTY && !options.quiet) || options.verbose === true);
  }

  /** What an interrupted send did not do: "98 of 1000 sent", or "98 sent, the rest of stdin not read". */
  get interruptedReport(): string {
    return this.#total === undefined ? `${this.#sent} sent, the rest of stdin not read` : `${this.#sent} of ${this.#total} sent`;
  }

  async demo(): Promise<void> {
    const count = this.#options.count ?? DEMO_COUNT;
    this.#total = count;
    const interval = this.#options.interval ?? DEMO_INTERVAL_MS;
    if (!this.#options.quiet && !this.#options.json) this.#line(this.#texts.senderStart);
    for (let i = 0; i < count && !this.#context.signal.aborted; i++) {
      await this.#send(Buffer.from(this.#texts.demoMessage(i)), i + 1);
      if (i + 1 < count) await this.#pause(interval);
    }
    if (!this.#options.quiet && !this.#options.json && !this.#context.signal.aborted) this.#line(this.#texts.senderDone);
  }

  /** Arguments: every one is checked before the first is sent, so a bad one sends nothing. */
  async sendAll(messages: Buffer[]): Promise<void> {
    const prepared = messages.map((message, i) => this.#fit(message, i + 1));
    const limit = Math.min(prepared.length, this.#options.count ?? prepared.length);
    this.#total = limit;
    for (let i = 0; i < limit && !this.#context.signal.aborted; i++) {
      await this.#send(prepared[i]!, i + 1);
      if (i + 1 < limit) await this.#pause(this.#options.interval ?? 0);
    }
  }

  /** Piped stdin, cut into messages by `framing` (input-framing.ts) and sent as they arrive. */
  async sendStream(framing: InputFraming): Promise<void> {
    if (this.#context.signal.aborted) return;
    const interval = this.#options.interval ?? 0;
    // Without per-message output, pauses or flushes, each chunk's messages go out as batches.
    const batched = interval === 0 && !this.#options.json && !this.#human && !this.#options.sync;
    const framer = new Framer({
      framing,
      limit: this.#ring.maxMessageLength,
      truncate: this.#options.truncate === true,
      max: this.#options.count ?? Infinity,
      tooLarge: (index, size, exact) => this.#tooLarge(size, index, exact),
    });
    const sendSome = async (messages: Buffer[]): Promise<void> => {
      if (batched) return this.#sendBatch(messages);
      for (const message of messages) {
        if (this.#context.signal.aborted) return;
        await this.#send(message, this.#sent + 1);
        if (interval > 0) await this.#pause(interval);
      }
    };
    let consumed = 0;
    const progress = this.#context.output.err.isTTY && !this.#options.quiet ? new Progress(this.#context.output.err) : undefined;
    const onAbort = () => this.#context.stdin.destroy();
    this.#context.signal.addEventListener('abort', onAbort);
    try {
      for await (const chunk of this.#context.stdin as AsyncIterable<Buffer>) {
        const messages: Buffer[] = [];
        try {
          framer.push(chunk, messages);
        } finally {
          // Messages before a refused one still go out, in order.
          await sendSome(messages);
        }
        if (framer.done || this.#context.signal.aborted) return;
        consumed += chunk.length;
        progress?.update(this.#sent, consumed);
      }
    } finally {
      progress?.done();
      this.#context.signal.removeEventListener('abort', onAbort);
    }
    if (this.#context.signal.aborted) return;
    const last: Buffer[] = [];
    framer.end(last);
    await sendSome(last);
  }

  /** Sends `lines` a run of slots at a time, sleeping while full. */
  async #sendBatch(lines: Buffer[]): Promise<void> {
    const ring = this.#ring;
    let sent = 0;
    while (sent < lines.length && !this.#context.signal.aborted) {
      const now = ring.ring.trySendBatch(lines, sent);
      sent += now;
      this.#sent += now;
      if (sent === lines.length) break;
      const room = await this.#notice.during(
        () => this.#waitingLine(),
        () => ring.waitForRoom({ timeoutMs: this.#options.timeout, signal: this.#context.signal, length: lines[sent]!.length }),
      );
      if (!room && !this.#context.signal.aborted) throw this.#fullTimeout(this.#sent + 1);
    }
    if (sent > 0) ring.ring.touch();
  }

  /** What a long wait for room says on a terminal: where, how full, and who holds senders back. */
  #waitingLine(): string {
    const ring = this.#ring;
    return `mmapipc: ${this.#path}: waiting for room (${ring.occupancy}/${ring.capacity} in the ring, ${this.#sent} sent so far): ${ring.whyBlocked('send') ?? 'the ring is full'}`;
  }

  #fullTimeout(index: number): TimeoutError {
    const ring = this.#ring;
    return new TimeoutError(
      `ring stayed full (${ring.capacity}/${ring.capacity}) for ${formatDuration(this.#options.timeout ?? 0)}; message ${index} was not sent (${this.#sent} were)${blockedBy(ring)}`,
      { subject: this.#path },
    );
  }

  /** Message `index` does not fit; `exact` false: stdin was cut off once `size` bytes of it passed the limit. */
  #tooLarge(size: number, index: number, exact = true): MessageTooLargeError {
    // The subject stays the path (errors read `mmapipc: <path>: <reason>`); the reason names the message.
    const error = new MessageTooLargeError(size, this.#ring.maxMessageLength, this.#path);
    error.message = error.message.replace(/^message of /, `message ${this.#demo ? '' : `${index} `}of ${exact ? '' : 'at least '}`);
    return error;
  }

  /** The message as it will be sent: checked against the ring's maximum, or cut with --truncate. */
  #fit(message: Buffer, index: number): Buffer {
    const limit = this.#ring.maxMessageLength;
    if (message.length <= limit) return message;
    if (this.#options.truncate) return truncateUtf8(message, limit);
    throw this.#tooLarge(message.length, index);
  }

  async #send(message: Buffer, index: number): Promise<void> {
    const ring = this.#ring;
    if (!ring.trySend(message)) {
      const sent = await this.#notice.during(
        () => this.#waitingLine(),
        () => ring.sendAsync(message, { timeoutMs: this.#options.timeout, signal: this.#context.signal }),
      );
      if (!sent) {
        if (this.#context.signal.aborted) return;
        throw this.#fullTimeout(index);
      }
    }
    this.#sent++;
    ring.ring.touch();
    if (this.#outputGone) return;
    try {
      this.#report(message, index, ring.ring.lastSentSequence);
    } catch (error) {
      // `send --json | head -1`: the report's reader left; every message is still sent.
      if (!(error instanceof ClosedOutputError)) throw error;
      this.#outputGone = true;
    }
  }

  #report(message: Buffer, index: number, sequence: number): void {
    const ring = this.#ring;
    if (this.#options.json) {
      // Like receive --json: the text when the bytes are valid UTF-8, else the bytes in base64.
      const text = message.toString('utf8');
      const content = Buffer.from(text).equals(message) ? { message: text } : { base64: message.toString('base64') };
      const record = { sequence, ...content, bytes: message.length, buffer: ring.occupancy, capacity: ring.capacity };
      write(this.#context.output.out, `${JSON.stringify(record)}\n`);
    } else if (this.#human) {
      const color = this.#context.output.out.color;
      const occupancy = ring.occupancy;
      const full = occupancy >= ring.capacity;
      const text = this.#texts.sent(printable(message.toString('utf8')), index - 1, occupancy, ring.capacity);
      write(this.#context.output.out, `${full ? color.yellow(text) : text.replace(/^(\S+)/, (label) => color.green(label))}\n`);
    }
  }

  #line(text: string): void {
    write(this.#context.output.out, `${this.#context.output.out.color.bold(text)}\n`);
  }

  async #pause(ms: number): Promise<void> {
    if (ms <= 0 || this.#context.signal.aborted) return;
    try {
      await sleep(ms, undefined, { signal: this.#context.signal });
    } catch {
      // aborted: the caller checks the signal
    }
  }
}

/** "; blocked by pid 4242 (stopped) for 12 s, ..." when the ring can say who holds it up. */
function blockedBy(ring: RingFile): string {
  const why = ring.whyBlocked('send');
  return why ? `; ${why}` : '';
}
