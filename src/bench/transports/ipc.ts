/**
 * child_process IPC: the receiver forks its senders and reads their process.send() messages.
 * Messages travel as latin1 strings of the same bytes with the default JSON serialization:
 * on this machine that moved 4-5x more 64-byte messages per second than Buffers with
 * serialization 'advanced'.
 */
import { stamp, template } from '../payload.js';
import type { LatencyConfig, ThroughputConfig } from '../protocol.js';
import type { TransportBench } from './types.js';

function parentChannel(): NonNullable<typeof process.send> {
  if (!process.send) throw new Error('child_process IPC: this worker has no IPC channel');
  return process.send.bind(process);
}

/** process.send honouring backpressure: when it reports a backlog, wait until that message has gone. */
function sendAll(count: number, next: (i: number) => string): Promise<void> {
  const send = parentChannel();
  return new Promise((resolve, reject) => {
    let i = 0;
    const done = (error: Error | null) => (error ? reject(error) : resolve());
    const pump = (error?: Error | null) => {
      if (error) return reject(error);
      let backlog = false;
      while (i < count) {
        const message = next(i++);
        if (i === count) return void send(message, undefined, undefined, done);
        // After a backlog, the next message carries a callback: the pump resumes once it has gone.
        if (backlog) return void send(message, undefined, undefined, pump);
        backlog = !send(message);
      }
      resolve();
    };
    pump();
  });
}

export const ipc: TransportBench = {
  async receiver(_config: ThroughputConfig) {
    return {
      receive(verifier, peers) {
        return new Promise<void>((resolve) => {
          const onMessage = (message: unknown) => {
            if (typeof message !== 'string') return;
            if (!verifier.check(Buffer.from(message, 'latin1')) || verifier.received === verifier.expected) {
              for (const peer of peers) peer.off('message', onMessage);
              resolve();
            }
          };
          for (const peer of peers) peer.on('message', onMessage);
        });
      },
      close() {},
    };
  },

  async sender(config: ThroughputConfig, index: number) {
    const message = template(config.size, index);
    return {
      send: () => sendAll(config.perSender, (sequence) => stamp(message, sequence).toString('latin1')),
      close() {},
    };
  },

  async pinger(_config: LatencyConfig) {
    return {
      run(log, peer) {
        return new Promise<void>((resolve) => {
          const onMessage = (message: unknown) => {
            if (typeof message !== 'string') return;
            if (!log.pong(Buffer.from(message, 'latin1')) || log.done) {
              peer.off('message', onMessage);
              return resolve();
            }
            peer.send(log.ping().toString('latin1'));
          };
          peer.on('message', onMessage);
          peer.send(log.ping().toString('latin1'));
        });
      },
      close() {},
    };
  },

  async ponger(_config: LatencyConfig) {
    const send = parentChannel();
    return {
      run(rounds) {
        return new Promise<void>((resolve, reject) => {
          let echoed = 0;
          const onMessage = (message: unknown) => {
            if (typeof message !== 'string') return;
            if (++echoed < rounds) return void send(message);
            process.off('message', onMessage);
            send(message, undefined, undefined, (error) => (error ? reject(error) : resolve()));
          };
          process.on('message', onMessage);
        });
      },
      close() {},
    };
  },
};
