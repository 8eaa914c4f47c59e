/**
 * A Unix domain stream socket: one connection per sender, each message written with its own
 * socket.write() of a length-prefixed frame (Node may gather writes queued behind a full
 * kernel buffer into one writev; the application never batches).
 */
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { FRAME_HEADER_LENGTH, FrameReader, frame, type OnFrame } from '../framing.js';
import { template, writeMessage } from '../payload.js';
import { sizesOf } from '../sizes.js';
import type { LatencyConfig, ThroughputConfig } from '../protocol.js';
import type { TransportBench } from './types.js';

const socketPath = (config: { dir: string }) => join(config.dir, 'bench.sock');

/** Listens at the config's socket path; each connection's frames go to the current `onFrame`. */
async function listen(config: { dir: string }, onConnection: (socket: Socket) => void) {
  const server = createServer(onConnection);
  server.listen(socketPath(config));
  await once(server, 'listening');
  return server;
}

async function connect(config: { dir: string }): Promise<Socket> {
  const socket = createConnection(socketPath(config));
  await once(socket, 'connect');
  return socket;
}

function frames(socket: Socket, onFrame: OnFrame): void {
  const reader = new FrameReader();
  socket.on('data', (chunk: Buffer) => reader.push(chunk, onFrame));
}

export const socket: TransportBench = {
  async receiver(_config: ThroughputConfig) {
    let handle: OnFrame = () => {};
    const sockets: Socket[] = [];
    const server = await listen(_config, (connection) => {
      sockets.push(connection);
      frames(connection, (data, offset, length) => handle(data, offset, length));
    });
    return {
      receive(verifier) {
        return new Promise<void>((resolve) => {
          handle = (data, offset, length) => {
            if (!verifier.check(data.subarray(offset, offset + length)) || verifier.received === verifier.expected) resolve();
          };
        });
      },
      close() {
        for (const connection of sockets) connection.destroy();
        server.close();
      },
    };
  },

  async sender(config: ThroughputConfig, index: number) {
    const connection = await connect(config);
    const sizes = sizesOf(config);
    const source = template(sizes.largest, index);
    return {
      async send() {
        for (let sequence = 0; sequence < config.perSender; sequence++) {
          // A fresh frame per write: Node keeps a reference to a buffer it could not write yet.
          const length = sizes.at(index, sequence);
          const framed = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
          framed.writeUInt32LE(length, 0);
          writeMessage(framed, FRAME_HEADER_LENGTH, source, length, sequence);
          if (!connection.write(framed)) await once(connection, 'drain');
        }
        await new Promise<void>((resolve) => connection.end(resolve));
      },
      close: () => connection.destroy(),
    };
  },

  async pinger(config: LatencyConfig) {
    let connected: (socket: Socket) => void = () => {};
    const connection = new Promise<Socket>((resolve) => (connected = resolve));
    const server = await listen(config, (socket) => connected(socket));
    return {
      async run(log) {
        const peer = await connection;
        await new Promise<void>((resolve) => {
          frames(peer, (data, offset, length) => {
            if (!log.pong(data.subarray(offset, offset + length)) || log.done) return resolve();
            peer.write(frame(log.ping()));
          });
          peer.write(frame(log.ping()));
        });
        peer.destroy();
      },
      close: () => void server.close(),
    };
  },

  async ponger(config: LatencyConfig) {
    const connection = await connect(config);
    return {
      run(rounds) {
        return new Promise<void>((resolve) => {
          let echoed = 0;
          frames(connection, (data, offset, length) => {
            // The frame with its header, straight from the chunk: it is ours once 'data' fired.
            connection.write(Buffer.from(data.subarray(offset - FRAME_HEADER_LENGTH, offset + length)));
            if (++echoed === rounds) connection.end(resolve);
          });
        });
      },
      close: () => connection.destroy(),
    };
  },
};
