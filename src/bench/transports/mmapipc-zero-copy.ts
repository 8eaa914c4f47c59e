/**
 * mmapipc's zero-copy API with messages of any size: a sender claims the space of 64 messages at
 * a time with tryClaimBatch, writes each in place (the producer's work, the same as the copying
 * row's) and commits them; the receiver takes views of up to 256 with tryView, checks each where
 * it lies in the mapping, and releases them. The ring is sized in bytes (./sized-ring.ts).
 */
import { writeMessage, template, type Verifier } from '../payload.js';
import { sizesOf } from '../sizes.js';
import { STALL_MS, type ThroughputConfig } from '../protocol.js';
import { mmapipc } from './mmapipc.js';
import { SIZE_BATCH, SIZE_RECEIVE_MAX, createSizedRing, openSizedRing, stalled } from './sized-ring.js';
import type { TransportBench } from './types.js';

const NAME = 'mmapipc zero-copy';

export const mmapipcZeroCopy: TransportBench = {
  ...mmapipc,

  async receiver(config: ThroughputConfig) {
    const file = createSizedRing(config);
    return {
      async receive(verifier: Verifier) {
        const expected = verifier.expected;
        while (verifier.received < expected) {
          const held = file.tryView(SIZE_RECEIVE_MAX);
          if (held) {
            let intact = true;
            for (const message of held.messages) if (!(intact = verifier.check(message.data))) break;
            held.release();
            if (!intact) return;
            continue;
          }
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
    const lengths: number[] = new Array<number>(SIZE_BATCH);
    return {
      async send() {
        for (let first = config.firstSequence ?? 0; first < config.perSender; first += SIZE_BATCH) {
          const count = Math.min(SIZE_BATCH, config.perSender - first);
          if (count < SIZE_BATCH) lengths.length = count;
          for (let i = 0; i < count; i++) lengths[i] = sizes.at(index, first + i);
          // A claim may get fewer messages than it asked for: claim the rest next time round.
          for (let done = 0; done < count; ) {
            const claim = file.tryClaimBatch(done === 0 ? lengths : lengths.slice(done));
            if (!claim) {
              if (!(await file.waitForRoom({ timeoutMs: STALL_MS, length: lengths[done]! }))) throw stalled(NAME, 'the ring stayed full');
              continue;
            }
            const buffers = claim.buffers;
            for (let i = 0; i < buffers.length; i++) writeMessage(buffers[i]!, 0, source, lengths[done + i]!, first + done + i);
            claim.commit();
            done += buffers.length;
          }
        }
      },
      close: () => file.close(),
    };
  },
};
