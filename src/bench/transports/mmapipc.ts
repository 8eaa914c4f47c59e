/**
 * mmapipc through the public library API (RingFile from the package's index): senders
 * trySend and fall back to send() (spin, then sleep in the kernel) when the ring is full; the
 * receiver tryReceives and falls back to receive(). Ping-pong runs over two rings, both sides
 * spinning, blocking in receive(), or awaiting receiveAsync() (see LatencyMode).
 */
import { join } from 'node:path';
import { RingFile, type Message } from '../../index.js';
import { stamp, template } from '../payload.js';
import { STALL_MS, type LatencyConfig, type ThroughputConfig } from '../protocol.js';
import type { TransportBench } from './types.js';

/**
 * Slots of the throughput ring: enough to absorb a sender's or the receiver's lost time slice
 * without the other side going to sleep. Picked by measurement (docs/performance.md): 16,384
 * moved 1.4-1.9x more batched messages per second than 1,024 on the project's 2-core machine,
 * and as many per-message ones as 8,192.
 */
export const THROUGHPUT_SLOTS = 16_384;
const PING_SLOTS = 16;

export const ringPath = (config: { dir: string }) => join(config.dir, 'bench.ring');
const pingPath = (config: { dir: string }) => join(config.dir, 'ping.ring');
const pongPath = (config: { dir: string }) => join(config.dir, 'pong.ring');

function stalled(what: string): Error {
  return new Error(`mmapipc: no message for ${STALL_MS} ms while ${what}`);
}

/** Polls `take` until it yields a message; gives up after STALL_MS, so a spinner never outlives its peer. */
function spinFor<T>(take: () => T | null, what: string): T {
  const start = performance.now();
  for (let spins = 1; ; spins++) {
    const value = take();
    if (value !== null) return value;
    if ((spins & 0xfffff) === 0 && performance.now() - start > STALL_MS) throw stalled(what);
  }
}

/**
 * Waits for the next message on `ring` the way `mode` says: polling tryReceive(), blocking in
 * receive() (spin, then sleep in the kernel), or awaiting receiveAsync() (the event loop runs).
 */
async function next(ring: RingFile, mode: LatencyConfig['mode'], what: string): Promise<Message> {
  const message =
    mode === 'spin'
      ? spinFor(() => ring.tryReceive(), what)
      : mode === 'async'
        ? await ring.receiveAsync({ timeoutMs: STALL_MS })
        : ring.receive({ timeoutMs: STALL_MS });
  if (message === null) throw stalled(what);
  return message;
}

export const mmapipc: TransportBench = {
  async receiver(config: ThroughputConfig) {
    const ring = RingFile.create(ringPath(config), { slots: config.slots ?? THROUGHPUT_SLOTS, slotSize: config.size, role: 'receiver' });
    return {
      async receive(verifier) {
        const expected = verifier.expected;
        while (verifier.received < expected) {
          const message = ring.tryReceive() ?? ring.receive({ timeoutMs: STALL_MS });
          if (message === null) throw stalled(`receiving (${verifier.received} of ${expected})`);
          if (!verifier.check(message.data)) return;
        }
      },
      close: () => ring.close(),
    };
  },

  async sender(config: ThroughputConfig, index: number) {
    const ring = RingFile.open(ringPath(config), { create: false, role: 'sender' });
    const message = template(config.size, index);
    return {
      async send() {
        for (let sequence = config.firstSequence ?? 0; sequence < config.perSender; sequence++) {
          stamp(message, sequence);
          if (!ring.trySend(message) && !ring.send(message, { timeoutMs: STALL_MS })) throw stalled('the ring stayed full');
        }
      },
      close: () => ring.close(),
    };
  },

  async pinger(config: LatencyConfig) {
    const options = { slots: PING_SLOTS, slotSize: config.size, role: 'both' } as const;
    const ping = RingFile.create(pingPath(config), options);
    const pong = RingFile.create(pongPath(config), options);
    return {
      async run(log) {
        while (!log.done) {
          if (!ping.trySend(log.ping())) throw new Error('mmapipc: the ping ring is full');
          const reply = await next(pong, config.mode, 'waiting for a pong');
          if (!log.pong(reply.data)) return;
        }
      },
      close() {
        ping.close();
        pong.close();
      },
    };
  },

  async ponger(config: LatencyConfig) {
    const ping = RingFile.open(pingPath(config), { create: false, role: 'receiver' });
    const pong = RingFile.open(pongPath(config), { create: false, role: 'sender' });
    return {
      async run(rounds) {
        for (let i = 0; i < rounds; i++) {
          const message = await next(ping, config.mode, 'waiting for a ping');
          if (!pong.trySend(message.data)) throw new Error('mmapipc: the pong ring is full');
        }
      },
      close() {
        ping.close();
        pong.close();
      },
    };
  },
};
