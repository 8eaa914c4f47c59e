/**
 * `mmapipc peek`: the waiting messages, oldest first, left in the ring. Like receive's output:
 * raw lines on a pipe, numbered human lines on a terminal, a JSON line each with --json.
 */
import { Option, type Command } from 'commander';
import type { PeekedMessage } from '../../ring/inspect.js';
import { RingObserver } from '../../ring-file/observe.js';
import type { PeekOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { parseCount, ringPath } from '../options.js';
import { note, write } from '../output.js';
import { addFileOption } from '../ring-options.js';
import { addLayoutOption } from '../classic/layout-option.js';
import { formatDuration } from './stat-view.js';
import { originRecord } from '../../bridge/origin.js';

export const DEFAULT_PEEK_COUNT = 10;

export function registerPeek(program: Command, context: CliContext): void {
  const command = program.command('peek').description('show waiting messages, oldest first, without taking them');
  addFileOption(command);
  addLayoutOption(command);
  command
    .addOption(new Option('-n, --count <n>', `show at most n messages (default ${DEFAULT_PEEK_COUNT})`).argParser(parseCount))
    .option('--json', 'print a JSON line per message: sequence, pid, time, bytes, message (or base64)')
    .option('-g, --group <name>', 'what this group has not taken yet (default: "default")');
  command.addHelpText(
    'after',
    `
On a terminal each line shows the message's sequence number (the one receive will
report), sender pid and age; on a pipe, just the messages, one per line.
Nothing is consumed: a receive afterwards still gets every message.

Examples:
  mmapipc peek                           the next 10 messages
  mmapipc peek --count 1 --file ./q.ring the message a receive would take next
  mmapipc peek --json --count 100        structured lines for scripts`,
  );
  command.action((options: PeekOptions) => peek(options, context));
}

export async function peek(options: PeekOptions, context: CliContext): Promise<void> {
  if (options.layout === 'classic') return (await import('../classic/inspect.js')).peekClassic(options, context);
  const path = ringPath(options.file, context.env);
  const observer = RingObserver.open(path);
  try {
    observer.validate(); // a slot no process of the ring could have written: exit 3, as openers refuse it
    const max = options.count ?? DEFAULT_PEEK_COUNT;
    const messages = observer.peek(max, options.group);
    const out = context.output.out;
    if (options.json) {
      write(out, messages.map((message) => `${JSON.stringify(jsonRecord(message))}\n`).join(''));
    } else if (out.isTTY) {
      const now = Date.now();
      const lines = messages.map((message) => {
        const age = message.sentAt > 0 ? `, ${formatDuration(Math.max(0, now - message.sentAt))} ago` : '';
        return `${out.color.cyan(`#${message.sequence}`)} ${message.data.toString('utf8')} ${out.color.dim(`(pid ${message.pid}${age})`)}\n`;
      });
      write(out, lines.join(''));
      const waiting = observer.snapshot().state.waiting;
      if (messages.length === 0) note(context.output, `mmapipc: ${path}: no messages waiting`);
      else if (waiting > messages.length) {
        note(context.output, `mmapipc: ${path}: ${waiting - messages.length} more waiting (pass --count to see more)`);
      }
    } else {
      write(out, Buffer.concat(messages.flatMap((message) => [message.data, Buffer.from('\n')])));
    }
  } finally {
    observer.close();
  }
}

/** The same record receive --json prints for a message. */
function jsonRecord(message: PeekedMessage): Record<string, unknown> {
  const text = message.data.toString('utf8');
  const exact = Buffer.from(text).equals(message.data);
  return {
    sequence: message.sequence,
    pid: message.pid,
    time: message.sentAt > 0 ? new Date(message.sentAt).toISOString() : null,
    bytes: message.data.length,
    ...(exact ? { message: text } : { base64: message.data.toString('base64') }),
    ...(message.origin ? { origin: originRecord(message.origin) } : {}),
  };
}
