/**
 * A process of the request/reply bench (src/bench/request-reply.ts), one transport each:
 *   server mmapipc <ring> <concurrency>   answers requests with their own bytes
 *   server socket <socket path>           a Unix socket server: a reply line per request line
 *   ipc-server                            a forked child: process.send back whatever comes
 *   client <transport> <target> <config JSON>
 *                                         prints one JSON line: the figures, or {"error"}
 * Written as a Node user would write each: newline-framed lines on one connection per client,
 * JSON messages on the IPC channel, RingFile.request/requests for mmapipc.
 */
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RingFile } from '../ring-file/ring-file.js';
import { percentile } from './ping-log.js';

export interface ClientConfig {
  readonly mode: 'latency' | 'throughput';
  readonly size: number;
  readonly pauseUs: number;
  readonly inFlight: number;
  readonly warmup: number;
  readonly count: number;
}

export interface ClientFigures {
  readonly p50Us?: number;
  readonly p99Us?: number;
  readonly requestsPerSecond?: number;
  readonly count: number;
  readonly error?: string;
}

type Ask = (payload: string) => Promise<string>;

/** A word nobody changes: Atomics.wait on it is a plain timed sleep, outside the measured time. */
const PAUSE_WORD = new Int32Array(new SharedArrayBuffer(4));
const SELF = fileURLToPath(import.meta.url);

function payloadOf(size: number, index: number): string {
  const text = `${index}:`;
  return text + 'x'.repeat(Math.max(0, size - text.length));
}

/** `count` requests, `inFlight` at a time (each worker asks again as soon as its reply is in). */
async function inFlight(ask: Ask, config: ClientConfig, count: number, first: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await check(ask, payloadOf(config.size, first + next++));
  };
  await Promise.all(Array.from({ length: config.inFlight }, worker));
}

async function measure(ask: Ask, config: ClientConfig): Promise<ClientFigures> {
  // Warm-up in the pattern measured (one at a time, or `inFlight` at a time), so that both
  // processes' hot code is compiled before the clock starts, for every transport alike.
  if (config.mode === 'latency') for (let i = 0; i < config.warmup; i++) await check(ask, payloadOf(config.size, -1 - i));
  else await inFlight(ask, config, config.warmup, -config.warmup);
  if (config.mode === 'latency') {
    const samples = new Float64Array(config.count);
    for (let i = 0; i < config.count; i++) {
      if (config.pauseUs > 0) Atomics.wait(PAUSE_WORD, 0, 0, config.pauseUs / 1000);
      const payload = payloadOf(config.size, i);
      const started = performance.now();
      await check(ask, payload);
      samples[i] = (performance.now() - started) * 1000;
    }
    samples.sort();
    return { p50Us: percentile(samples, 0.5), p99Us: percentile(samples, 0.99), count: config.count };
  }
  const started = performance.now();
  await inFlight(ask, config, config.count, 0);
  const seconds = (performance.now() - started) / 1000;
  return { requestsPerSecond: config.count / seconds, count: config.count };
}

async function check(ask: Ask, payload: string): Promise<void> {
  const reply = await ask(payload);
  if (reply !== payload) throw new Error(`a reply crossed: asked ${payload.slice(0, 20)}, got ${reply.slice(0, 20)}`);
}

/** Replies come back in order on one connection: a queue of waiters. */
function socketClient(path: string): Promise<{ ask: Ask; close: () => void }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(path, () => resolve({ ask, close: () => socket.destroy() }));
    socket.once('error', reject);
    const waiting: Array<(line: string) => void> = [];
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        waiting.shift()?.(line);
      }
    });
    const ask: Ask = (payload) =>
      new Promise((done) => {
        waiting.push(done);
        socket.write(`${payload}\n`, 'latin1');
      });
  });
}

function ipcClient(): { ask: Ask; close: () => void } {
  const child = fork(SELF, ['ipc-server'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiting = new Map<number, (data: string) => void>();
  let next = 0;
  child.on('message', (message: { id: number; data: string }) => {
    const done = waiting.get(message.id);
    waiting.delete(message.id);
    done?.(message.data);
  });
  return {
    ask: (data) =>
      new Promise((done) => {
        const id = next++;
        waiting.set(id, done);
        child.send({ id, data });
      }),
    close: () => child.kill(),
  };
}

function mmapipcClient(path: string): { ask: Ask; close: () => void } {
  const ring = RingFile.open(path, { role: 'sender', create: false });
  return {
    ask: async (payload) => (await ring.request(payload, { timeoutMs: 30_000 })).data.toString('latin1'),
    close: () => ring.close(),
  };
}

async function main(argv: string[]): Promise<void> {
  const [role, transport, target, extra] = argv;
  if (role === 'ipc-server') {
    process.on('message', (message) => process.send!(message));
    return;
  }
  if (role === 'server' && transport === 'socket') {
    const server = createServer((socket) => {
      let buffer = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) !== -1) {
          socket.write(`${buffer.slice(0, newline)}\n`, 'latin1');
          buffer = buffer.slice(newline + 1);
        }
      });
      socket.on('error', () => {});
    });
    server.listen(target!, () => process.stdout.write('ready\n'));
    process.on('SIGTERM', () => process.exit(0));
    return;
  }
  if (role === 'server' && transport === 'mmapipc') {
    const ring = RingFile.open(target!, { role: 'sender' });
    const controller = new AbortController();
    process.on('SIGTERM', () => controller.abort());
    const serving = ring.serve((request) => request.data, { concurrency: Number(extra ?? 1), signal: controller.signal });
    process.stdout.write('ready\n');
    await serving;
    ring.close();
    return;
  }
  if (role === 'client') {
    const config = JSON.parse(extra!) as ClientConfig;
    const client = transport === 'socket' ? await socketClient(target!) : transport === 'ipc' ? ipcClient() : mmapipcClient(target!);
    let figures: ClientFigures;
    try {
      figures = await measure(client.ask, config);
    } catch (error) {
      figures = { count: 0, error: (error as Error).message };
    } finally {
      client.close();
    }
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    process.exit(0);
  }
  throw new Error(`request-reply peer: unknown role ${argv.join(' ')}`);
}

void main(process.argv.slice(2));
