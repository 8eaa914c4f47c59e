/**
 * The CLI's own figures: a pipeline of lines through `mmapipc send` and `mmapipc receive`,
 * start-up time against bare node (`--version`, and a one-message `send` into an existing
 * ring), and the memory of `mmapipc receive --follow` over a long stream. Every program is
 * started the way a user starts it: node running bin/mmapipc.js.
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RingFile } from '../index.js';
import { Verifier, stamp, template } from './payload.js';
import { MessageSizes } from './sizes.js';
import { isControl, type ThroughputConfig } from './protocol.js';
import { ringPath } from './transports/mmapipc.js';
import { WORKER_PATH } from './worker-path.js';

export interface PipelineFigure {
  readonly lines: number;
  readonly seconds: number;
  readonly linesPerSecond: number;
  readonly verified: boolean;
  readonly error?: string;
}

export interface StartupFigure {
  readonly runs: number;
  readonly mmapipcMs: number;
  readonly nodeMs: number;
  readonly ratio: number;
}

export interface MemoryFigure {
  /** Messages received before the start RSS is taken (not counted in `messages`). */
  readonly warmupMessages: number;
  /** Messages measured after the warm-up. */
  readonly messages: number;
  /** RSS once the warm-up messages have come out. */
  readonly startKiB: number;
  /** RSS when half the messages were through: equal to the end means a plateau, not a leak. */
  readonly midKiB: number;
  readonly peakKiB: number;
  readonly endKiB: number;
  readonly seconds: number;
  readonly verified: boolean;
  readonly error?: string;
}

function cliArgs(binPath: string, args: string[]): string[] {
  return [binPath, ...args];
}

function exited(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** `mmapipc send < lines` while `mmapipc receive --count N > file` drains the ring; wall time from launch to the receiver's exit. */
export async function pipeline(binPath: string, dir: string, lines: number): Promise<PipelineFigure> {
  const inputPath = join(dir, 'lines.txt');
  const outputPath = join(dir, 'received.txt');
  const ring = join(dir, 'pipeline.ring');
  let text = '';
  for (let i = 1; i <= lines; i++) text += `${i}\n`;
  writeFileSync(inputPath, text);
  const input = openSync(inputPath, 'r');
  const output = openSync(outputPath, 'w');
  const env = { ...process.env, NO_COLOR: '1' };
  try {
    const start = performance.now();
    const receiver = spawn(process.execPath, cliArgs(binPath, ['receive', '--file', ring, '--count', String(lines)]), {
      stdio: ['ignore', output, 'pipe'],
      env,
    });
    const sender = spawn(process.execPath, cliArgs(binPath, ['send', '--file', ring]), { stdio: [input, 'ignore', 'pipe'], env });
    let stderr = '';
    receiver.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    sender.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    const [received, sent] = await Promise.all([exited(receiver), exited(sender)]);
    const seconds = (performance.now() - start) / 1000;
    let error: string | undefined;
    if (sent.code !== 0 || received.code !== 0) {
      error = `send ended with ${sent.signal ?? sent.code}, receive with ${received.signal ?? received.code}: ${stderr.trim()}`;
    } else if (!readFileSync(outputPath).equals(Buffer.from(text))) {
      error = 'the lines received differ from the lines sent';
    }
    return { lines, seconds, linesPerSecond: lines / seconds, verified: error === undefined, ...(error ? { error } : {}) };
  } finally {
    closeSync(input);
    closeSync(output);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function timedRun(args: string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} ended with ${result.signal ?? result.status}: ${result.stderr.toString().trim()}`);
  return ms;
}

/** Median wall time of `mmapipc <args>` and of `node -e 0`, run alternately (pairs). */
function pairedStartup(binPath: string, args: string[], runs: number): StartupFigure {
  const mmapipc: number[] = [];
  const node: number[] = [];
  timedRun(cliArgs(binPath, args)); // the first run pays for a cold file cache
  for (let i = 0; i < runs; i++) {
    mmapipc.push(timedRun(cliArgs(binPath, args)));
    node.push(timedRun(['-e', '0']));
  }
  const mmapipcMs = median(mmapipc);
  const nodeMs = median(node);
  return { runs, mmapipcMs, nodeMs, ratio: mmapipcMs / nodeMs };
}

/** Median wall time of `mmapipc --version` and of `node -e 0`, run alternately. */
export function startup(binPath: string, runs: number): StartupFigure {
  return pairedStartup(binPath, ['--version'], runs);
}

/** Slots of the ring the one-shot sends go into: far more than the runs, so no send waits. */
const ONE_SHOT_SLOTS = 1024;

/**
 * Median wall time of `mmapipc send --file R x` into a ring that exists already (made here, then
 * closed: what a CI script calling send in a loop meets) and of `node -e 0`, run alternately.
 */
export function sendStartup(binPath: string, dir: string, runs: number): StartupFigure {
  const path = join(dir, 'one-shot.ring');
  RingFile.create(path, { slots: ONE_SHOT_SLOTS, slotSize: MESSAGE_SIZE, role: 'observer' }).close();
  return pairedStartup(binPath, ['send', '--file', path, 'x'], runs);
}

const MESSAGE_SIZE = 64;
const RECORD_LENGTH = MESSAGE_SIZE + 1; // receive prints each message and a newline
const FOLLOW_SLOTS = 1024;
const RSS_SAMPLE_MS = 100;

function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/**
 * `mmapipc receive --follow` over `warmup` + `messages` messages from a library sender. Start
 * RSS is taken once the warm-up messages have come out (the program's code compiled and its
 * buffers and V8 heap at their working size); peak and end cover the `messages` after it.
 * Every output record is checked.
 */
export async function memory(binPath: string, dir: string, warmup: number, messages: number, nodeArgs: readonly string[]): Promise<MemoryFigure> {
  const total = warmup + messages;
  const config: ThroughputConfig = { kind: 'throughput', transport: 'mmapipc', size: MESSAGE_SIZE, senders: 1, perSender: total, firstSequence: 1, dir, nodeArgs };
  const ring = RingFile.create(ringPath(config), { slots: FOLLOW_SLOTS, slotSize: MESSAGE_SIZE, role: 'sender' });
  const receiver = spawn(process.execPath, cliArgs(binPath, ['receive', '--follow', '--file', ringPath(config)]), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const receiverExit = exited(receiver);
  let stderr = '';
  receiver.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const verifier = new Verifier(new MessageSizes(MESSAGE_SIZE), 1, total);
  let startKiB = 0;
  let midKiB = 0;
  let peakKiB = 0;
  let start = 0;
  let sender: ReturnType<typeof fork> | undefined;
  let sampler: NodeJS.Timeout | undefined;
  const sample = () => {
    const kib = rssKiB(receiver.pid!);
    peakKiB = Math.max(peakKiB, kib);
    return kib;
  };
  try {
    const done = new Promise<void>((resolve, reject) => {
      let pending: Buffer | undefined;
      receiver.stdout!.on('data', (chunk: Buffer) => {
        if (sender === undefined) {
          // The first output: the receiver is running; the rest comes from a sender process.
          sender = fork(WORKER_PATH, ['peer', JSON.stringify(config), '0'], { execArgv: [...nodeArgs], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
          sender.on('message', (message) => isControl(message, 'ready') && sender!.send({ type: 'go' }));
          sender.once('exit', (code) => code !== 0 && reject(new Error(`the sender ended with exit code ${code}`)));
        }
        const data = pending ? Buffer.concat([pending, chunk]) : chunk;
        let offset = 0;
        for (; data.length - offset >= RECORD_LENGTH; offset += RECORD_LENGTH) {
          if (!verifier.check(data, offset, MESSAGE_SIZE) || data[offset + MESSAGE_SIZE] !== 0x0a) {
            return reject(new Error(verifier.error ?? `record ${verifier.received}: no newline after the message`));
          }
        }
        pending = offset < data.length ? data.subarray(offset) : undefined;
        if (sampler === undefined && verifier.received >= warmup) {
          startKiB = sample();
          start = performance.now();
          sampler = setInterval(sample, RSS_SAMPLE_MS);
        }
        if (midKiB === 0 && verifier.received >= warmup + messages / 2) midKiB = sample();
        if (verifier.received === total) resolve();
      });
      void receiverExit.then(({ code, signal }) => reject(new Error(`receive --follow ended early with ${signal ?? code}: ${stderr.trim()}`)));
    });
    if (!ring.trySend(stamp(template(MESSAGE_SIZE, 0), 0))) throw new Error('the new ring refused its first message');
    let error: string | undefined;
    try {
      await done;
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    const endKiB = error === undefined ? sample() : 0;
    const seconds = (performance.now() - start) / 1000;
    const verdict = verifier.finish();
    error ??= verdict.error;
    return { warmupMessages: warmup, messages, startKiB, midKiB, peakKiB, endKiB, seconds, verified: error === undefined, ...(error ? { error } : {}) };
  } finally {
    if (sampler) clearInterval(sampler);
    sender?.kill();
    receiver.kill('SIGTERM');
    await receiverExit.catch(() => {});
    ring.close();
  }
}
