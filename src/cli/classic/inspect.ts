/**
 * `mmapipc stat --layout classic` and `mmapipc peek --layout classic`: the struct's words and
 * the waiting messages, read without taking anything.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ClassicFile } from '../../classic/classic-file.js';
import { CLASSIC_SLOT_COUNT, CLASSIC_SLOT_LENGTH, CLASSIC_STRUCT_LENGTH, isConsistent } from '../../classic/classic-layout.js';
import type { PeekOptions, StatOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { ringPath } from '../options.js';
import { note, printable, write } from '../output.js';
import { jsonContent } from './json.js';

const DEFAULT_PEEK_COUNT = 10;
const WATCH_INTERVAL_MS = 1000;

export interface ClassicStatRecord {
  file: string;
  layout: 'classic';
  fileBytes: number;
  structBytes: number;
  slots: number;
  slotSize: number;
  waiting: number;
  readIndex: number;
  writeIndex: number;
  /** write_index == (read_index + message_count) mod 100; false after a lost update. */
  consistent: boolean;
  time: string;
}

export function classicStatRecord(file: ClassicFile): ClassicStatRecord {
  const state = file.ring.state;
  return {
    file: file.path,
    layout: 'classic',
    fileBytes: file.fileLength,
    structBytes: CLASSIC_STRUCT_LENGTH,
    slots: CLASSIC_SLOT_COUNT,
    slotSize: CLASSIC_SLOT_LENGTH,
    waiting: state.count,
    readIndex: state.readIndex,
    writeIndex: state.writeIndex,
    consistent: isConsistent(state),
    time: new Date().toISOString(),
  };
}

function statLines(record: ClassicStatRecord, context: CliContext): string[] {
  const color = context.output.out.color;
  const full = record.waiting >= record.slots;
  const waiting = `${record.waiting}/${record.slots}`;
  const indicesSay = (record.writeIndex - record.readIndex + record.slots) % record.slots;
  return [
    `${color.bold('file')}         ${record.file}`,
    `${color.bold('layout')}       classic: the tutorial's struct message_buffer (${record.structBytes} bytes; file ${record.fileBytes} bytes)`,
    `${color.bold('slots')}        ${record.slots} × ${record.slotSize} bytes`,
    `${color.bold('waiting')}      ${full ? color.red(waiting) : record.waiting > 0 ? color.yellow(waiting) : color.green(waiting)} (message_count)`,
    `${color.bold('read index')}   ${record.readIndex}`,
    `${color.bold('write index')}  ${record.writeIndex}`,
    record.consistent
      ? `${color.bold('consistent')}   yes`
      : `${color.bold('consistent')}   ${color.red(`no: message_count is ${record.waiting}, the indices say ${indicesSay} (or ${indicesSay + record.slots}); an update was lost (docs/classic-layout.md)`)}`,
  ];
}

/** `path`: the one file stat was given (stat checks there is one). */
export async function statClassic(path: string, options: Pick<StatOptions, 'json' | 'watch'>, context: CliContext): Promise<void> {
  const file = ClassicFile.open(path);
  try {
    const out = context.output.out;
    const inPlace = Boolean(options.watch) && out.isTTY && !options.json;
    let drawn = 0;
    for (let first = true; ; first = false) {
      const record = classicStatRecord(file);
      if (options.json) {
        write(out, `${JSON.stringify(record)}\n`);
      } else {
        const lines = statLines(record, context);
        const before = inPlace ? (drawn > 0 ? `\x1b[${drawn}A\x1b[J` : '') : first ? '' : '\n';
        write(out, `${before}${lines.join('\n')}\n`);
        drawn = lines.length;
      }
      if (!options.watch || context.signal.aborted) return;
      try {
        await sleep(WATCH_INTERVAL_MS, undefined, { signal: context.signal });
      } catch {
        return; // interrupted
      }
    }
  } finally {
    file.close();
  }
}

export async function peekClassic(options: PeekOptions, context: CliContext): Promise<void> {
  const file = ClassicFile.open(ringPath(options.file, context.env));
  try {
    const { readIndex, count } = file.ring.state;
    const messages = file.ring.peek(options.count ?? DEFAULT_PEEK_COUNT);
    const out = context.output.out;
    const slotOf = (i: number) => (readIndex + i) % CLASSIC_SLOT_COUNT;
    if (options.json) {
      write(out, messages.map((m, i) => `${JSON.stringify({ slot: slotOf(i), bytes: m.length, ...jsonContent(m) })}\n`).join(''));
    } else if (out.isTTY) {
      write(out, messages.map((m, i) => `${out.color.cyan(`[${slotOf(i)}]`)} ${printable(m.toString('utf8'))}\n`).join(''));
      if (messages.length === 0) note(context.output, `mmapipc: ${file.path}: no messages waiting`);
      else if (count > messages.length) note(context.output, `mmapipc: ${file.path}: ${count - messages.length} more waiting (pass --count to see more)`);
    } else {
      write(out, Buffer.concat(messages.flatMap((m) => [m, Buffer.from('\n')])));
    }
  } finally {
    file.close();
  }
}
