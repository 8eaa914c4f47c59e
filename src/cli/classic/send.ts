/**
 * `mmapipc send --layout classic`: the tutorial's sender protocol over its struct
 * message_buffer, with send's message sources (arguments, piped lines or NUL-separated records,
 * --demo) and outputs (the tutorial's lines, --json, quiet). Waits for room by polling.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ClassicFile } from '../../classic/classic-file.js';
import { CLASSIC_MAX_MESSAGE_LENGTH, CLASSIC_REMEDY, CLASSIC_SLOT_COUNT } from '../../classic/classic-layout.js';
import { pollUntil } from '../../classic/poll.js';
import { MessageTooLargeError, TimeoutError, UsageError } from '../../errors.js';
import type { SendOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { ringPath } from '../options.js';
import { printable, write } from '../output.js';
import { textsFor, type Texts } from '../texts.js';
import { truncateUtf8 } from '../utf8.js';
import { jsonContent } from './json.js';
import { refuseForClassic } from './layout-option.js';
import { formatDuration } from '../duration.js';

const DEMO_COUNT = 20;
const DEMO_INTERVAL_MS = 100;

export async function sendClassic(messages: string[], options: SendOptions, context: CliContext): Promise<void> {
  const demo = options.demo ?? (messages.length === 0 && Boolean(context.stdin.isTTY));
  if (demo && messages.length > 0) throw new UsageError('--demo sends its own messages; drop the message arguments');
  refuseForClassic(options, { slots: '--slots', slotSize: '--slot-size', whole: '--whole', framing: '--framing' });
  const path = ringPath(options.file, context.env);
  const texts = textsFor(options.lang);
  const file = ClassicFile.open(path, { create: true, mode: options.mode });
  try {
    const sender = new ClassicSender(file, options, context, texts, demo);
    if (demo) {
      const count = options.count ?? DEMO_COUNT;
      sender.line(texts.senderStart);
      await sender.sendEach(
        Array.from({ length: count }, (_, i) => Buffer.from(texts.demoMessage(i))),
        options.interval ?? DEMO_INTERVAL_MS,
      );
      if (!context.signal.aborted) sender.line(texts.senderDone);
    } else if (messages.length > 0) {
      // Every argument is checked before the first is sent, so a bad one sends nothing.
      const prepared = messages.map((text, i) => sender.fit(Buffer.from(text), i + 1));
      await sender.sendEach(prepared.slice(0, options.count ?? prepared.length), options.interval ?? 0);
    } else {
      let index = 0;
      for await (const record of records(context, options.null ? 0 : 0x0a)) {
        if (index >= (options.count ?? Infinity) || context.signal.aborted) break;
        index++;
        await sender.send(sender.fit(record, index), index);
        if (options.interval) await pause(options.interval, context.signal);
      }
    }
  } finally {
    file.close();
  }
}

class ClassicSender {
  readonly #file: ClassicFile;
  readonly #options: SendOptions;
  readonly #context: CliContext;
  readonly #texts: Texts;
  readonly #demo: boolean;
  readonly #human: boolean;

  constructor(file: ClassicFile, options: SendOptions, context: CliContext, texts: Texts, demo: boolean) {
    this.#file = file;
    this.#options = options;
    this.#context = context;
    this.#texts = texts;
    this.#demo = demo;
    this.#human = !options.quiet && !options.json && (demo || options.verbose === true || context.output.out.isTTY);
  }

  /** The message as it will be sent: at most 63 bytes, or cut (at a character boundary) with --truncate. */
  fit(message: Buffer, index: number): Buffer {
    if (message.length <= CLASSIC_MAX_MESSAGE_LENGTH) return message;
    if (this.#options.truncate) return truncateUtf8(message, CLASSIC_MAX_MESSAGE_LENGTH);
    const error = new MessageTooLargeError(message.length, CLASSIC_MAX_MESSAGE_LENGTH, this.#file.path, CLASSIC_REMEDY, true);
    if (!this.#demo) error.message = error.message.replace(/^message /, `message ${index} `);
    throw error;
  }

  async sendEach(messages: Buffer[], interval: number): Promise<void> {
    for (let i = 0; i < messages.length && !this.#context.signal.aborted; i++) {
      await this.send(messages[i]!, i + 1);
      if (i + 1 < messages.length) await pause(interval, this.#context.signal);
    }
  }

  /** Sends message number `index` (from 1), polling while the ring is full. */
  async send(message: Buffer, index: number): Promise<void> {
    const ring = this.#file.ring;
    let count = ring.trySend(message);
    if (count < 0) {
      await pollUntil(() => (count = ring.trySend(message)) >= 0, { timeoutMs: this.#options.timeout, signal: this.#context.signal });
      if (count < 0) {
        if (this.#context.signal.aborted) return;
        throw new TimeoutError(
          `classic ring stayed full (${CLASSIC_SLOT_COUNT}/${CLASSIC_SLOT_COUNT}) for ${formatDuration(this.#options.timeout ?? 0)}; message ${index} was not sent`,
          { subject: this.#file.path },
        );
      }
    }
    if (this.#options.sync) this.#file.sync();
    const out = this.#context.output.out;
    const text = message.toString('utf8');
    if (this.#options.json) {
      write(out, `${JSON.stringify({ ...jsonContent(message), bytes: message.length, buffer: count, capacity: CLASSIC_SLOT_COUNT })}\n`);
    } else if (this.#human) {
      const line = this.#texts.sent(printable(text), index - 1, count, CLASSIC_SLOT_COUNT);
      write(out, `${count >= CLASSIC_SLOT_COUNT ? out.color.yellow(line) : line.replace(/^(\S+)/, (label) => out.color.green(label))}\n`);
    }
  }

  line(text: string): void {
    if (this.#options.quiet || this.#options.json) return;
    write(this.#context.output.out, `${this.#context.output.out.color.bold(text)}\n`);
  }
}

/** Stdin split into records at `separator`; a last record without one counts too. */
async function* records(context: CliContext, separator: number): AsyncGenerator<Buffer> {
  if (context.signal.aborted) return;
  let pending = Buffer.alloc(0);
  const onAbort = () => context.stdin.destroy();
  context.signal.addEventListener('abort', onAbort);
  try {
    for await (const chunk of context.stdin as AsyncIterable<Buffer>) {
      const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let end = data.indexOf(separator); end !== -1; end = data.indexOf(separator, start)) {
        yield data.subarray(start, end);
        start = end + 1;
      }
      pending = Buffer.from(data.subarray(start));
    }
  } finally {
    context.signal.removeEventListener('abort', onAbort);
  }
  if (pending.length > 0) yield pending;
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks the signal
  }
}
