/**
 * `mmapipc receive`: waits for the ring to appear, then takes messages. On a pipe, stdout
 * carries exactly the messages (one per line, or NUL-terminated); on a terminal, the
 * tutorial's human lines; with --json, a JSON line per message.
 */
import { Option, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { TimeoutError } from '../../errors.js';
import type { Message, RingFile } from '../../ring-file/ring-file.js';
import type { CliContext } from '../context.js';
import { parseCount, parseDuration, ringPath } from '../options.js';
import { ClosedOutputError, write } from '../output.js';
import { addFileOption, addTimeoutOption, openFromOptions, type RingCliOptions } from '../ring-options.js';
import { ENGLISH, type Texts } from '../texts.js';
import { waitForFile } from '../wait-for-file.js';

export interface ReceiveOptions extends RingCliOptions {
  count?: number;
  follow?: boolean;
  interval?: number;
  json?: boolean;
  null?: boolean;
  demo?: boolean;
}

const DEFAULT_COUNT = 20;
const DEMO_INTERVAL_MS = 150;
/** Raw output is gathered into writes of about this size. */
const OUTPUT_BATCH_BYTES = 64 * 1024;

export function registerReceive(program: Command, context: CliContext): void {
  const command = program.command('receive').description('take messages from the ring, waiting for them (and for the ring) as needed');
  addFileOption(command);
  command
    .addOption(new Option('-n, --count <n>', `how many messages to take (default ${DEFAULT_COUNT})`).argParser(parseCount))
    .option('-F, --follow', 'take messages until interrupted (no count)')
    .addOption(new Option('-i, --interval <duration>', `pause after each message (demo: ${DEMO_INTERVAL_MS}ms, else 0)`).argParser(parseDuration))
    .option('--json', 'print a JSON line per message: sequence, sender pid, time, message')
    .option('-0, --null', 'end each message with a NUL byte instead of a newline')
    .option('--demo', "the tutorial's receiver: human lines, 150 ms between messages");
  addTimeoutOption(command, 'waiting for the ring or for a message');
  command.addHelpText(
    'after',
    `
Examples:
  mmapipc receive                        on a terminal: the tutorial's receiver
  mmapipc receive --count 1 --timeout 5s take one message; exit 124 if none comes in 5 s
  mmapipc receive --follow | head -3     stream messages until the reader stops
  mmapipc receive --json --count 10      structured lines for scripts`,
  );
  command.action((options: ReceiveOptions) => receive(options, context));
}

export async function receive(options: ReceiveOptions, context: CliContext): Promise<void> {
  const path = ringPath(options.file, context.env);
  const demo = options.demo ?? context.output.out.isTTY;
  const appeared = await waitForFile(path, { timeoutMs: options.timeout, signal: context.signal });
  if (!appeared) {
    if (context.signal.aborted) return;
    throw new TimeoutError(`no ring appeared within ${options.timeout} ms`, { subject: path });
  }
  const ring = openFromOptions(options, context, 'receiver', false);
  try {
    await new Receiver(ring, options, context, ENGLISH, demo, path).run();
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
    while (this.#received < this.#limit && !this.#context.signal.aborted) {
      const first = this.#ring.tryReceive() ?? (await this.#wait());
      if (first === null) return; // interrupted
      const batch = [first];
      // Without a pause between messages, take what is already there in one go.
      if (this.#interval === 0 && !human) this.#gather(batch);
      this.#received += batch.length;
      this.#emit(batch, human);
      if (this.#interval > 0 && this.#received < this.#limit) await this.#pause();
    }
    if (human && !this.#context.signal.aborted) this.#line(this.#texts.receiverDone);
  }

  async #wait(): Promise<Message | null> {
    const message = await this.#ring.receiveAsync({ timeoutMs: this.#options.timeout, signal: this.#context.signal });
    if (message === null && !this.#context.signal.aborted) {
      throw new TimeoutError(`no message arrived within ${this.#options.timeout} ms (${this.#received} received)`, {
        subject: this.#path,
      });
    }
    return message;
  }

  #gather(batch: Message[]): void {
    let bytes = batch[0]!.data.length;
    while (this.#received + batch.length < this.#limit && bytes < OUTPUT_BATCH_BYTES) {
      const next = this.#ring.tryReceive();
      if (next === null) break;
      batch.push(next);
      bytes += next.data.length + 1;
    }
  }

  #emit(batch: Message[], human: boolean): void {
    const out = this.#context.output.out;
    let chunk: string | Buffer;
    if (this.#options.json) {
      chunk = batch.map((message) => `${JSON.stringify(jsonRecord(message))}\n`).join('');
    } else if (human) {
      const color = out.color;
      const occupancy = this.#ring.occupancy;
      chunk = batch
        .map((message) => {
          const text = this.#texts.received(message.data.toString('utf8'), occupancy, this.#ring.capacity);
          return `${text.replace(/^(\S+)/, (label) => color.cyan(label))}\n`;
        })
        .join('');
    } else {
      const terminator = Buffer.from(this.#options.null ? '\0' : '\n');
      chunk = Buffer.concat(batch.flatMap((message) => [message.data, terminator]));
    }
    try {
      write(out, chunk);
    } catch (error) {
      // The reader went away: hand what we took back to the ring rather than lose it.
      if (error instanceof ClosedOutputError) for (const message of batch) this.#ring.trySend(message.data);
      throw error;
    }
  }

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

function jsonRecord(message: Message): Record<string, unknown> {
  const text = message.data.toString('utf8');
  const exact = Buffer.byteLength(text) === message.data.length && Buffer.from(text).equals(message.data);
  return {
    sequence: message.sequence,
    pid: message.pid,
    time: message.sentAt > 0 ? new Date(message.sentAt).toISOString() : null,
    bytes: message.data.length,
    ...(exact ? { message: text } : { base64: message.data.toString('base64') }),
  };
}
