/**
 * Named pipes (mkfifo): every sender writes length-prefixed frames into one FIFO with one
 * write(2) each on a blocking descriptor. Frames are below PIPE_BUF (4096 bytes), so writes
 * from several senders never interleave. The reader takes the FIFO through the event loop.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { FRAME_HEADER_LENGTH, FrameReader, frame, type OnFrame } from '../framing.js';
import { stamp, template } from '../payload.js';
import type { LatencyConfig, ThroughputConfig } from '../protocol.js';
import type { TransportBench } from './types.js';

const PIPE_BUF = 4096;
const fifoPath = (config: { dir: string }, name: string) => join(config.dir, `${name}.fifo`);

function mkfifo(path: string): void {
  execFileSync('mkfifo', ['-m', '600', path]);
}

/** Opens the FIFO for reading through the event loop. O_RDWR keeps it from reporting end-of-file between writers. */
function reader(path: string, onFrame: OnFrame): Socket {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const socket = new Socket({ fd, readable: true, writable: false });
  const frames = new FrameReader();
  socket.on('data', (chunk: Buffer) => frames.push(chunk, onFrame));
  return socket;
}

/** Opens the FIFO for blocking writes (a reader must have it open already). */
function writer(path: string): { write(framed: Buffer): void; close(): void } {
  const fd = openSync(path, constants.O_WRONLY);
  return {
    write(framed) {
      if (framed.length > PIPE_BUF) throw new RangeError(`named pipe: a ${framed.length}-byte frame exceeds PIPE_BUF and could interleave`);
      const written = writeSync(fd, framed);
      if (written !== framed.length) throw new Error(`named pipe: short write of ${written} of ${framed.length} bytes`);
    },
    close: () => closeSync(fd),
  };
}

export const fifo: TransportBench = {
  async receiver(config: ThroughputConfig) {
    const path = fifoPath(config, 'bench');
    mkfifo(path);
    let handle: OnFrame = () => {};
    const socket = reader(path, (data, offset, length) => handle(data, offset, length));
    return {
      receive(verifier) {
        return new Promise<void>((resolve) => {
          handle = (data, offset, length) => {
            if (!verifier.check(data.subarray(offset, offset + length)) || verifier.received === verifier.expected) resolve();
          };
        });
      },
      close: () => void socket.destroy(),
    };
  },

  async sender(config: ThroughputConfig, index: number) {
    const pipe = writer(fifoPath(config, 'bench'));
    const framed = frame(template(config.size, index));
    const message = framed.subarray(FRAME_HEADER_LENGTH);
    return {
      async send() {
        for (let sequence = 0; sequence < config.perSender; sequence++) {
          stamp(message, sequence);
          pipe.write(framed);
        }
      },
      close: () => pipe.close(),
    };
  },

  async pinger(config: LatencyConfig) {
    mkfifo(fifoPath(config, 'ping'));
    mkfifo(fifoPath(config, 'pong'));
    let handle: OnFrame = () => {};
    const pong = reader(fifoPath(config, 'pong'), (data, offset, length) => handle(data, offset, length));
    let ping: ReturnType<typeof writer> | undefined;
    return {
      async run(log) {
        // The ponger has opened the ping FIFO for reading by now (it said ready).
        const pipe = (ping = writer(fifoPath(config, 'ping')));
        await new Promise<void>((resolve) => {
          handle = (data, offset, length) => {
            if (!log.pong(data.subarray(offset, offset + length)) || log.done) return resolve();
            pipe.write(frame(log.ping()));
          };
          pipe.write(frame(log.ping()));
        });
      },
      close() {
        ping?.close();
        pong.destroy();
      },
    };
  },

  async ponger(config: LatencyConfig) {
    let handle: OnFrame = () => {};
    const ping = reader(fifoPath(config, 'ping'), (data, offset, length) => handle(data, offset, length));
    const pong = writer(fifoPath(config, 'pong'));
    return {
      run(rounds) {
        return new Promise<void>((resolve) => {
          let echoed = 0;
          handle = (data, offset, length) => {
            pong.write(data.subarray(offset - FRAME_HEADER_LENGTH, offset + length));
            if (++echoed === rounds) resolve();
          };
        });
      },
      close() {
        pong.close();
        ping.destroy();
      },
    };
  },
};
