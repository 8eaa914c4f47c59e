/**
 * `mmapipc send`: the tutorial's sender (no message and stdin a terminal, or --demo), one
 * message per argument, or one per line (or NUL) of piped stdin. The options and opening are
 * here; the loops that send are ../send/sender.ts.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { SendOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { durationOption, parseCount, ringPath } from '../options.js';
import { note } from '../output.js';
import { addCreateOptions, addFileOption, addTimeoutOption, openFromOptions } from '../ring-options.js';
import { addLangOption } from '../lang-option.js';
import { addLayoutOption } from '../classic/layout-option.js';
import { DEMO_COUNT, DEMO_INTERVAL_MS, Sender } from '../send/sender.js';
import { textsFor } from '../texts.js';
import { INPUT_FRAMINGS, type InputFraming } from '../input-framing.js';

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
    .option('-0, --null', 'stdin messages are separated by NUL bytes, not newlines (--framing null)')
    .option('--whole', 'all of stdin is one message (--framing whole)')
    .addOption(
      new Option('--framing <framing>', 'how stdin is cut into messages: lines (default), null, whole, length (4-byte little-endian length, then the bytes), jsonl ({"message":"text"} or {"base64":"..."} per line)').choices(
        INPUT_FRAMINGS,
      ),
    )
    .option('--truncate', 'cut a message that does not fit a slot (at a UTF-8 character boundary) instead of refusing it')
    .option('--sync', 'flush the ring to its file (msync) after each message, so it is on disk before the next')
    .option('--json', 'print a JSON line per message sent, with its sequence number')
    .option('-q, --quiet', 'print nothing per message')
    .option('-v, --verbose', 'print a line per message, and what a long wait waits for, even when not on a terminal')
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
  mmapipc send --whole < report.pdf          all of stdin as one message
  mmapipc receive --json | mmapipc send --framing jsonl --file ./copy.ring
                                             copy messages exactly (newlines, NUL bytes and all)
  mmapipc send --json --file ./q.ring job1   a JSON line with the sequence number

A message larger than the ring's maximum is refused as soon as stdin passes it (exit 5;
the messages before it are sent). On a terminal, a wait of more than a second for room
says on stderr who holds the ring up. If send's stdout closes (| head), it goes on sending
and exits 0: the report is not its job. Interrupted, it says how many it sent (exit 130, 143).`,
  );
  command.action((messages: string[], options: SendOptions) => send(messages, options, context));
}

export async function send(messages: string[], options: SendOptions, context: CliContext): Promise<void> {
  // The classic layout's code is loaded only for it: a one-shot send starts faster without it.
  if (options.layout === 'classic') return (await import('../classic/send.js')).sendClassic(messages, options, context);
  const demo = options.demo ?? (messages.length === 0 && Boolean(context.stdin.isTTY));
  if (demo && messages.length > 0) throw new UsageError('--demo sends its own messages; drop the message arguments');
  const framing = inputFraming(options);
  const ring = openFromOptions(options, context, 'sender', true);
  const sender = new Sender(ring, options, context, textsFor(options.lang), demo);
  try {
    if (demo) await sender.demo();
    else if (messages.length > 0) await sender.sendAll(messages.map((text) => Buffer.from(text)));
    else await sender.sendStream(framing);
  } finally {
    ring.close();
  }
  if (context.signal.aborted) note(context.output, `mmapipc: ${ringPath(options.file, context.env)}: interrupted: ${sender.interruptedReport}`);
}

/** --framing, or its short forms --null and --whole; two that disagree are a usage error. */
function inputFraming(options: SendOptions): InputFraming {
  const asked = [options.framing, options.null ? 'null' : undefined, options.whole ? 'whole' : undefined].filter((f): f is InputFraming => f !== undefined);
  const distinct = [...new Set(asked)];
  if (distinct.length > 1) throw new UsageError(`--null, --whole and --framing ask for different framings (${distinct.join(', ')}); pick one`);
  return distinct[0] ?? 'lines';
}
