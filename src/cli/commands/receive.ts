/**
 * `mmapipc receive`: waits for the ring to appear, then takes messages. On a pipe, stdout
 * carries exactly the messages (one per line, or NUL-terminated); on a terminal, the
 * tutorial's human lines; with --json, a JSON line per message. The options and opening are
 * here; the loop that takes and writes is ../receive/receiver.ts.
 */
import { Option, type Command } from 'commander';
import { GroupError, TimeoutError } from '../../errors.js';
import type { ReceiveOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { durationOption, parseCount, ringPath } from '../options.js';
import { note } from '../output.js';
import { OUTPUT_FRAMINGS, outputFraming } from '../output-framing.js';
import { GapReport } from '../gap-report.js';
import { WaitNotice } from '../wait-notice.js';
import { addFileOption, addGroupOptions, addTimeoutOption, openFromOptions } from '../ring-options.js';
import type { Gap } from '../../ring/member.js';
import { addLangOption } from '../lang-option.js';
import { addLayoutOption } from '../classic/layout-option.js';
import { receiveClassic } from '../classic/receive.js';
import { DEFAULT_COUNT, DEMO_INTERVAL_MS, Receiver } from '../receive/receiver.js';
import { textsFor } from '../texts.js';
import { waitForFile } from '../wait-for-file.js';
import { formatDuration } from '../duration.js';

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
