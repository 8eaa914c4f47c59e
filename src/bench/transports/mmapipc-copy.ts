/**
 * mmapipc's copying batch API with messages of any size: a sender writes each message into a
 * buffer of its own (the producer's work, the same as the zero-copy row's) and hands 64 at a time
 * to trySendBatch, which copies them into the ring; the receiver takes up to 256 at a time with
 * tryReceiveBatch, which copies each into a fresh Buffer, and checks the copies. The ring is
 * sized in bytes (./sized-ring.ts). Ping-pong is the per-message rows' (none is measured here).
 */
import { writeMessage, template, type Verifier } from '../payload.js';
import { sizesOf } from '../sizes.js';
import { STALL_MS, type ThroughputConfig } from '../protocol.js';
import { mmapipc } from './mmapipc.js';
import { SIZE_BATCH, SIZE_RECEIVE_MAX, createSizedRing, openSizedRing, stalled } from './sized-ring.js';
import type { TransportBench } from './types.js';

const NAME = 'mmapipc copying';

export const mmapipcCopy: TransportBench = {
  ...mmapipc,

  async receiver(config: ThroughputConfig) {
    const file = createSizedRing(config);
    return {
      async receive(verifier: Verifier) {
        const ring = file.ring;
        const expected = verifier.expected;
        while (verifier.received < expected) {
          const messages = ring.tryReceiveBatch(SIZE_RECEIVE_MAX);
          for (const message of messages) if (!verifier.check(message.data)) return;
          if (messages.length > 0) continue;
          if (!(await file.waitForMessage({ timeoutMs: STALL_MS }))) throw stalled(NAME, `receiving (${verifier.received} of ${expected})`);
        }
      },
      close: () => file.close(),
    };
  },

  async sender(config: ThroughputConfig, index: number) {
    const file = openSizedRing(config);
    const sizes = sizesOf(config);
    const source = template(sizes.largest, index);
    // One buffer per message of a batch, each the largest size; a message is a view of its prefix.
    const buffers = Array.from({ length: SIZE_BATCH }, () => Buffer.alloc(sizes.largest));
    const batch: Buffer[] = new Array<Buffer>(SIZE_BATCH);
    return {
      async send() {
        const ring = file.ring;
        for (let first = config.firstSequence ?? 0; first < config.perSender; first += SIZE_BATCH) {
          const count = Math.min(SIZE_BATCH, config.perSender - first);
          if (count < SIZE_BATCH) batch.length = count;
          for (let i = 0; i < count; i++) {
            const length = sizes.at(index, first + i);
            writeMessage(buffers[i]!, 0, source, length, first + i);
            batch[i] = length === sizes.largest ? buffers[i]! : buffers[i]!.subarray(0, length);
          }
          for (let sent = ring.trySendBatch(batch); sent < count; sent += ring.trySendBatch(batch, sent)) {
            if (!(await file.waitForRoom({ timeoutMs: STALL_MS, length: batch[sent]!.length }))) throw stalled(NAME, 'the ring stayed full');
          }
        }
      },
      close: () => file.close(),
    };
  },
};
