/**
 * `mmapipc send`: the tutorial's sender (no message and stdin a terminal, or --demo), one
 * message per argument, or one per line (or NUL) of piped stdin.
 */
import { Option, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageTooLargeError, TimeoutError, UsageError } from '../../errors.js';
import type { RingFile } from '../../ring-file/ring-file.js';
import type { SendOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { durationOption, parseCount, ringPath } from '../options.js';
import { printable, write } from '../output.js';
import { addCreateOptions, addFileOption, addTimeoutOption, openFromOptions } from '../ring-options.js';
import { addLangOption } from '../lang-option.js';
import { addLayoutOption } from '../classic/layout-option.js';
import { textsFor, type Texts } from '../texts.js';
import { truncateUtf8 } from '../utf8.js';
import { Progress } from '../progress.js';
import { formatDuration } from '../duration.js';

const DEMO_COUNT = 20;
const DEMO_INTERVAL_MS = 100;

export function registerSend(program: Command, context: CliContext): void {
  const command = program
    .command('send')
    .description('send messages into the ring (creating it if needed)')
    .argument('[messages...]', 'messages to send, one per argument (default: lines of stdin)');
  addFileOption(command);
  addCreateOptions(command);
  command
    .addOption(new Option('-n, --count <n>', `how many messages to send (demo: ${DEMO_COUNT}; stdin: stop after n)`).argParser(parseCount))
    .addOption(durationOption('-i, --interval <duration>', `pause between messages, in seconds or with a unit (demo: ${DEMO_INTERVAL_MS}ms, else 0)`))
    .option('-0, --null', 'stdin messages are separated by NUL bytes, not newlines')
    .option('--truncate', 'cut a message that does not fit a slot (at a UTF-8 character boundary) instead of refusing it')
    .option('--sync', 'flush the ring to its file (msync) after each message, so it is on disk before the next')
    .option('--json', 'print a JSON line per message sent, with its sequence number')
    .option('-q, --quiet', 'print nothing per message')
    .option('-v, --verbose', 'print a line per message even when stdout is not a terminal')
    .option('--demo', "the tutorial's sender: 20 messages 'Message #i: Hello!', 100 ms apart");
  addTimeoutOption(command, 'waiting for room in a full ring');
  addLangOption(command);
  addLayoutOption(command);
  command.addHelpText(
    'after',
    `
Examples:
  mmapipc send                               on a terminal: the tutorial's sender
  mmapipc send "hello" "world"               two messages
  printf 'a\\nb\\n' | mmapipc send             one message per line
  find . -print0 | mmapipc send --null       one message per NUL-terminated name
  mmapipc send --json --file ./q.ring job1   a JSON line with the sequence number`,
  );
  command.action((messages: string[], options: SendOptions) => send(messages, options, context));
}

export async function send(messages: string[], options: SendOptions, context: CliContext): Promise<void> {
  // The classic layout's code is loaded only for it: a one-shot send starts faster without it.
  if (options.layout === 'classic') return (await import('../classic/send.js')).sendClassic(messages, options, context);
  const demo = options.demo ?? (messages.length === 0 && Boolean(context.stdin.isTTY));
  if (demo && messages.length > 0) throw new UsageError('--demo sends its own messages; drop the message arguments');
  const ring = openFromOptions(options, context, 'sender', true);
  try {
    const sender = new Sender(ring, options, context, textsFor(options.lang), demo);
    if (demo) await sender.demo();
    else if (messages.length > 0) await sender.sendAll(messages.map((text) => Buffer.from(text)));
    else await sender.sendStream();
  } finally {
    ring.close();
  }
}

class Sender {
  readonly #ring: RingFile;
  readonly #options: SendOptions;
  readonly #context: CliContext;
  readonly #texts: Texts;
  readonly #demo: boolean;
  readonly #path: string;
  readonly #human: boolean;

  constructor(ring: RingFile, options: SendOptions, context: CliContext, texts: Texts, demo: boolean) {
    this.#ring = ring;
    this.#options = options;
    this.#context = context;
    this.#texts = texts;
    this.#demo = demo;
    this.#path = ringPath(options.file, context.env);
    this.#human = !options.quiet && !options.json && (demo || options.verbose === true || context.output.out.isTTY);
  }

  async demo(): Promise<void> {
    const count = this.#options.count ?? DEMO_COUNT;
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
    for (let i = 0; i < limit && !this.#context.signal.aborted; i++) {
      await this.#send(prepared[i]!, i + 1);
      if (i + 1 < limit) await this.#pause(this.#options.interval ?? 0);
    }
  }

  /** Piped stdin: one message per line (or NUL), sent as it arrives. */
  async sendStream(): Promise<void> {
    if (this.#context.signal.aborted) return;
    const separator = this.#options.null ? 0 : 0x0a;
    const limit = this.#options.count ?? Infinity;
    const interval = this.#options.interval ?? 0;
    // Without per-message output, pauses or flushes, each chunk's lines go out as batches.
    const batched = interval === 0 && !this.#options.json && !this.#human && !this.#options.sync;
    let pending: Buffer | undefined;
    let index = 0;
    let consumed = 0;
    const progress = this.#context.output.err.isTTY && !this.#options.quiet ? new Progress(this.#context.output.err) : undefined;
    const onAbort = () => this.#context.stdin.destroy();
    this.#context.signal.addEventListener('abort', onAbort);
    try {
      for await (const chunk of this.#context.stdin as AsyncIterable<Buffer>) {
        const data = pending ? Buffer.concat([pending, chunk]) : chunk;
        const lines: Buffer[] = [];
        let start = 0;
        try {
          for (let end = data.indexOf(separator); end !== -1; end = data.indexOf(separator, start)) {
            if (index >= limit || this.#context.signal.aborted) break;
            index++;
            const line = this.#fit(data.subarray(start, end), index);
            start = end + 1;
            if (batched) {
              lines.push(line);
              continue;
            }
            await this.#send(line, index);
            if (interval > 0) await this.#pause(interval);
          }
        } finally {
          // Lines before a refused one still go out, in order.
          if (lines.length > 0) await this.#sendBatch(lines, index - lines.length);
        }
        if (index >= limit || this.#context.signal.aborted) return;
        pending = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
        consumed += chunk.length;
        progress?.update(index, consumed);
      }
    } finally {
      progress?.done();
      this.#context.signal.removeEventListener('abort', onAbort);
    }
    if (pending && index < limit && !this.#context.signal.aborted) {
      index++;
      await this.#send(this.#fit(pending, index), index);
    }
  }

  /** Sends `lines` (message numbers from `first` + 1) a run of slots at a time, sleeping while full. */
  async #sendBatch(lines: Buffer[], first: number): Promise<void> {
    const ring = this.#ring;
    let sent = 0;
    while (sent < lines.length && !this.#context.signal.aborted) {
      sent += ring.ring.trySendBatch(lines, sent);
      if (sent === lines.length) break;
      const room = await ring.waitForRoom({ timeoutMs: this.#options.timeout, signal: this.#context.signal, length: lines[sent]!.length });
      if (!room && !this.#context.signal.aborted) {
        throw new TimeoutError(
          `ring stayed full (${ring.capacity}/${ring.capacity}) for ${formatDuration(this.#options.timeout ?? 0)}; message ${first + sent + 1} was not sent${blockedBy(ring)}`,
          { subject: this.#path },
        );
      }
    }
    if (sent > 0) ring.ring.touch();
  }

  /** The message as it will be sent: checked against the slot size, or cut with --truncate. */
  #fit(message: Buffer, index: number): Buffer {
    const limit = this.#ring.maxMessageLength;
    if (message.length <= limit) return message;
    if (this.#options.truncate) return truncateUtf8(message, limit);
    // The subject stays the path (errors read `mmapipc: <path>: <reason>`); the reason names the message.
    const error = new MessageTooLargeError(message.length, limit, this.#path);
    if (!this.#demo) error.message = error.message.replace(/^message /, `message ${index} `);
    throw error;
  }

  async #send(message: Buffer, index: number): Promise<void> {
    const ring = this.#ring;
    if (!ring.trySend(message)) {
      const sent = await ring.sendAsync(message, { timeoutMs: this.#options.timeout, signal: this.#context.signal });
      if (!sent) {
        if (this.#context.signal.aborted) return;
        throw new TimeoutError(
          `ring stayed full (${ring.capacity}/${ring.capacity}) for ${formatDuration(this.#options.timeout ?? 0)}; message ${index} was not sent${blockedBy(ring)}`,
          { subject: this.#path },
        );
      }
    }
    ring.ring.touch();
    this.#report(message, index, ring.ring.lastSentSequence);
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
