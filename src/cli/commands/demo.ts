/**
 * `mmapipc demo`: the tutorial's receiver and sender as two real processes over one ring,
 * their output interleaved in one terminal, each line labelled with who printed it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Option, type Command } from 'commander';
import { MmapipcError, PeerDiedError } from '../../errors.js';
import { RingFile } from '../../ring-file/ring-file.js';
import type { CliContext } from '../context.js';
import { parseCount, ringPath } from '../options.js';
import { ClosedOutputError, write, type Stream } from '../output.js';
import { addFileOption } from '../ring-options.js';
import { addLangOption } from '../lang-option.js';
import type { Lang } from '../texts.js';

export interface DemoOptions {
  file?: string;
  count?: number;
  lang?: Lang;
}

export function registerDemo(program: Command, context: CliContext): void {
  const command = program
    .command('demo')
    .description("run the tutorial's receiver and sender as two processes over one ring, output interleaved");
  addFileOption(command);
  command.addOption(new Option('-n, --count <n>', 'messages to pass (default 20)').argParser(parseCount));
  addLangOption(command);
  command.addHelpText(
    'after',
    `
The receiver starts first and waits for the ring; the sender sends a message every
100 ms, the receiver takes one every 150 ms, so the buffer fills up as they go.

Examples:
  mmapipc demo
  mmapipc demo --file ./demo.ring --count 5`,
  );
  command.action((options: DemoOptions) => demo(options, context));
}

/** Refuses a ring that already holds messages: the demo would mix them into its own. */
function checkRingIsEmpty(path: string): void {
  let ring: RingFile;
  try {
    ring = RingFile.open(path, { create: false, role: 'observer' });
  } catch (error) {
    if (error instanceof MmapipcError && /no such ring file/.test(error.message)) return;
    throw error;
  }
  try {
    const waiting = ring.occupancy;
    if (waiting > 0) {
      throw new MmapipcError(
        `holds ${waiting} unread message(s); the demo needs an empty ring: take them with mmapipc receive, or pass --file`,
        { subject: path },
      );
    }
  } finally {
    ring.close();
  }
}

/** Relays the child's lines, labelled; calls `onClosed` once if our own output has gone (EPIPE). */
function relay(child: ChildProcess, label: string, target: Stream, source: 'stdout' | 'stderr', onClosed: () => void, stopped = () => false): Promise<void> {
  const stream = child[source];
  if (!stream) return Promise.resolve();
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (stopped()) return; // the demo stopped its children itself: their "interrupted" lines are no news
    try {
      write(target, `${label} ${line}\n`);
    } catch (error) {
      if (!(error instanceof ClosedOutputError)) throw error;
      lines.removeAllListeners('line');
      stream.resume(); // keep draining, so the child never blocks on a full pipe
      onClosed();
    }
  });
  return new Promise((resolve) => lines.once('close', resolve));
}

/**
 * After the demo was cut short, takes the messages its sender left in the ring, so that the next
 * `mmapipc demo` finds it empty. Stops at the first message from anyone else and puts it back.
 */
function takeBackLeftovers(path: string, senderPid: number | undefined): void {
  if (senderPid === undefined) return;
  let ring: RingFile;
  try {
    ring = RingFile.open(path, { create: false, role: 'receiver' });
  } catch {
    return; // no ring (the sender never created it) or not ours to touch
  }
  try {
    for (let message = ring.tryReceive(); message !== null; message = ring.tryReceive()) {
      if (message.pid !== senderPid) {
        ring.trySend(message.data);
        break;
      }
    }
  } finally {
    ring.close();
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export async function demo(options: DemoOptions, context: CliContext): Promise<void> {
  if (context.signal.aborted) return;
  const path = ringPath(options.file, context.env);
  checkRingIsEmpty(path);
  const { out, err } = context.output;
  const count = String(options.count ?? 20);
  const env = { ...context.env, MMAPIPC_FILE: path, ...(out.color.level > 0 ? { FORCE_COLOR: String(out.color.level) } : {}) };
  const start = (args: string[]) =>
    spawn(process.execPath, [context.binPath, ...args, '--demo', '--file', path, '--count', count, ...(options.lang ? ['--lang', options.lang] : [])], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const labels = { receiver: out.color.cyan('receiver │'), sender: out.color.green('sender   │') };
  write(out, `${out.color.bold(`demo: receiver and sender over ${path}`)}\n`);
  const receiver = start(['receive']);
  const sender = start(['send']);
  const children = [receiver, sender];
  let outputClosed = false;
  const forward = () => children.forEach((child) => child.exitCode === null && child.kill('SIGTERM'));
  const onClosed = () => {
    outputClosed = true;
    forward();
  };
  context.signal.addEventListener('abort', forward);
  try {
    const relays = [
      relay(receiver, labels.receiver, out, 'stdout', onClosed),
      relay(receiver, labels.receiver, err, 'stderr', onClosed, () => outputClosed),
      relay(sender, labels.sender, out, 'stdout', onClosed),
      relay(sender, labels.sender, err, 'stderr', onClosed, () => outputClosed),
    ];
    const [receiverExit, senderExit] = await Promise.all([exitOf(receiver), exitOf(sender)]);
    await Promise.all(relays);
    if (context.signal.aborted || outputClosed) {
      takeBackLeftovers(path, sender.pid);
      if (outputClosed) throw new ClosedOutputError('output closed'); // main ends quietly
      return;
    }
    for (const [name, exit] of [
      ['receiver', receiverExit],
      ['sender', senderExit],
    ] as const) {
      if (exit.code !== 0) {
        throw new PeerDiedError(`the ${name} ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`}`, {
          subject: 'demo',
        });
      }
    }
  } finally {
    context.signal.removeEventListener('abort', forward);
  }
}
