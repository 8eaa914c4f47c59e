/**
 * Where the CLI's words go: data on stdout, everything else on stderr, colour only on a
 * terminal (NO_COLOR turns it off, FORCE_COLOR on), writes synchronous so that output order
 * matches what happened and a closed pipe is noticed at once.
 */
import type { ChalkInstance } from 'chalk';
import { writeSync } from 'node:fs';
import { isTerminal } from '../sys/libc.js';
import { sleepSync } from '../sys/sleep.js';

export interface Stream {
  readonly fd: number;
  readonly isTTY: boolean;
  readonly color: ChalkInstance;
  /** Terminal width, or 80. */
  readonly columns: number;
}

function colorLevel(isTTY: boolean, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 1;
  }
  if (!isTTY || env.TERM === 'dumb') return 0;
  return 1;
}

/** chalk's styles that take arguments and return a style (rgb(...), hex(...)), rather than text. */
const STYLE_FACTORIES = new Set(['rgb', 'hex', 'ansi256', 'bgRgb', 'bgHex', 'bgAnsi256']);

/**
 * What a ChalkInstance at level 0 does, without loading chalk (about 15 ms of a one-shot
 * command's start): every style, chained or not, gives back its text unchanged.
 */
export const NO_COLOR: ChalkInstance = new Proxy(Object.assign((...text: unknown[]) => text.join(' '), { level: 0 }) as unknown as ChalkInstance, {
  get: (target, property) => {
    if (typeof property === 'symbol' || property === 'level' || property === 'then') return Reflect.get(target, property);
    return STYLE_FACTORIES.has(property) ? () => NO_COLOR : NO_COLOR;
  },
});

type ChalkConstructor = new (options: { level: 0 | 1 | 2 | 3 }) => ChalkInstance;

/**
 * The stream on `fd`; `Chalk` is needed only when it shows colour. Our writes are synchronous, so
 * a pipe or socket must stay blocking: a full pipe then puts us to sleep in the kernel until the
 * reader catches up. Node makes it non-blocking as soon as process.stdout/stderr exists, and
 * O_NONBLOCK is shared with every other process writing to that pipe; so process.stdout/stderr
 * are made only for a terminal (for its width), never for a pipe or file (which also spares a
 * one-shot command loading Node's stream and socket code). Should one exist anyway, it is put
 * back to blocking.
 */
export function stream(fd: 1 | 2, env: NodeJS.ProcessEnv = process.env, Chalk?: ChalkConstructor, isTTY = isTerminal(fd)): Stream {
  const level = colorLevel(isTTY, env);
  if (level > 0 && Chalk === undefined) throw new Error(`stream ${fd} shows colour: pass chalk's Chalk`);
  const color = level > 0 ? new Chalk!({ level }) : NO_COLOR;
  const columns = isTTY ? (fd === 1 ? process.stdout : process.stderr).columns : undefined;
  return { fd, isTTY, color, columns: columns || 80 };
}

/** Puts a pipe that Node made non-blocking (process.stdout/stderr exists after all) back to blocking. */
function restoreBlocking(fd: number): void {
  const stdio = fd === 1 ? process.stdout : fd === 2 ? process.stderr : undefined;
  (stdio as unknown as { _handle?: { setBlocking?: (blocking: boolean) => number } } | undefined)?._handle?.setBlocking?.(true);
}

/** Pause before retrying a write to a full pipe that is still non-blocking (should setBlocking fail). */
const FULL_PIPE_RETRY_MS = 1;

/** Thrown by write when the reader of a pipe has gone (EPIPE): the command should end quietly. */
export class ClosedOutputError extends Error {
  override name = 'ClosedOutputError';
}

/** Writes all of `data` to the stream's fd, synchronously. */
export function write(target: Stream, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(target.fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        restoreBlocking(target.fd);
        sleepSync(FULL_PIPE_RETRY_MS); // a non-blocking pipe is full: let the reader catch up
        continue;
      }
      if (code === 'EPIPE') throw new ClosedOutputError('output closed');
      throw error;
    }
  }
}

export interface Output {
  readonly out: Stream;
  readonly err: Stream;
}

/** stdout and stderr; chalk is loaded only when one of them shows colour. */
export async function processOutput(env: NodeJS.ProcessEnv = process.env): Promise<Output> {
  const terminal = { out: isTerminal(1), err: isTerminal(2) };
  const colour = colorLevel(terminal.out, env) > 0 || colorLevel(terminal.err, env) > 0;
  const Chalk = colour ? (await import('chalk')).Chalk : undefined;
  return { out: stream(1, env, Chalk, terminal.out), err: stream(2, env, Chalk, terminal.err) };
}

/**
 * A message as it may appear inside a human line: control characters (C0, DEL, C1) shown as
 * escapes, so that a message can neither break the one line nor send escape sequences to the
 * terminal. Data output (raw, --null, --json) is never passed through this.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => {
    const escape = ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' } as Record<string, string>)[character];
    return escape ?? `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** One line on stderr, for notes and warnings (never data). */
export function note(output: Output, line: string): void {
  write(output.err, `${line}\n`);
}

/** Like write, but a reader that has gone is not an error (for help text piped into `head`). */
export function writeQuietly(target: Stream, data: string | Uint8Array): void {
  try {
    write(target, data);
  } catch (error) {
    if (!(error instanceof ClosedOutputError)) throw error;
  }
}
