/**
 * `mmapipc receive --layout classic`: the tutorial's receiver protocol over its struct
 * message_buffer. Waits for the file (inotify), then for messages by polling, as the C receiver
 * does. A message is taken (read_index and the count advanced) only after it has been written
 * out, so output that fails leaves it in the ring.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ClassicFile } from '../../classic/classic-file.js';
import { CLASSIC_SLOT_COUNT } from '../../classic/classic-layout.js';
import { pollUntil } from '../../classic/poll.js';
import { TimeoutError } from '../../errors.js';
import type { ReceiveOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { ringPath } from '../options.js';
import { printable, write } from '../output.js';
import { textsFor } from '../texts.js';
import { waitForFile } from '../wait-for-file.js';
import { jsonContent } from './json.js';
import { formatDuration } from '../duration.js';

const DEFAULT_COUNT = 20;
const DEMO_INTERVAL_MS = 150;

export async function receiveClassic(options: ReceiveOptions, context: CliContext): Promise<void> {
  const path = ringPath(options.file, context.env);
  const { signal } = context;
  const appeared = await waitForFile(path, { timeoutMs: options.timeout, signal });
  if (!appeared) {
    if (signal.aborted) return;
    throw new TimeoutError(`no file appeared within ${formatDuration(options.timeout ?? 0)}`, { subject: path });
  }
  const file = ClassicFile.open(path);
  try {
    const out = context.output.out;
    const texts = textsFor(options.lang);
    const human = (options.demo ?? out.isTTY) && !options.json;
    const interval = options.interval ?? (options.demo ?? out.isTTY ? DEMO_INTERVAL_MS : 0);
    const limit = options.follow ? Infinity : (options.count ?? DEFAULT_COUNT);
    const terminator = options.null ? '\0' : '\n';
    const emit = (message: Buffer, remaining: number) => {
      if (options.json) {
        write(out, `${JSON.stringify({ ...jsonContent(message), bytes: message.length, buffer: remaining, capacity: CLASSIC_SLOT_COUNT })}\n`);
      } else if (human) {
        const line = texts.received(printable(message.toString('utf8')), remaining, CLASSIC_SLOT_COUNT);
        write(out, `${line.replace(/^(\S+)/, (label) => out.color.cyan(label))}\n`);
      } else {
        write(out, Buffer.concat([message, Buffer.from(terminator)]));
      }
    };
    if (human) write(out, `${out.color.bold(texts.receiverStart)}\n`);
    let received = 0;
    while (received < limit && !signal.aborted) {
      if (!file.ring.tryReceiveWith(emit)) {
        const arrived = await pollUntil(() => file.ring.count > 0, { timeoutMs: options.timeout, signal });
        if (!arrived && !signal.aborted) {
          throw new TimeoutError(`no message arrived within ${formatDuration(options.timeout ?? 0)} (${received} received)`, { subject: path });
        }
        continue;
      }
      received++;
      if (interval > 0 && received < limit) {
        try {
          await sleep(interval, undefined, { signal });
        } catch {
          // aborted: the loop checks the signal
        }
      }
    }
    if (human && !signal.aborted) write(out, `${out.color.bold(texts.receiverDone)}\n`);
  } finally {
    file.close();
  }
}
