/**
 * Zero-copy send: a MessageClaim over the slots the sending side (./sender.ts) claimed, one
 * writable view per message. The claim closes once: commit() publishes, abort() (or dispose, as
 * when an exception leaves a `using` block) turns the messages into skip records.
 */
import { MmapipcError } from '../errors.js';
import type { MessageClaim } from './messages.js';
import type { Sender } from './sender.js';

/** Claims the space of as many of `lengths` as fit now, in one step (null: none). */
export function claimBatch(sender: Sender, lengths: readonly number[]): MessageClaim | null {
  const count = sender.tryClaim(lengths);
  if (count === 0) return null;
  const buffers: Buffer[] = [];
  const sequences: number[] = [];
  for (let i = 0; i < count; i++) {
    const position = sender.claimedPosition(i);
    buffers.push(sender.payloadView(position, lengths[i]!));
    sequences.push(position);
  }
  let open = true;
  const close = (): void => {
    if (!open) throw new MmapipcError('this claim was already committed or aborted');
    open = false;
  };
  return {
    data: buffers[0]!,
    sequence: sequences[0]!,
    buffers,
    sequences,
    commit: (lengths) => {
      close();
      return sender.commitClaim(typeof lengths === 'number' ? [lengths] : lengths);
    },
    abort: () => {
      if (!open) return;
      open = false;
      sender.abortClaim();
    },
    [Symbol.dispose]: () => {
      if (!open) return;
      open = false;
      sender.abortClaim();
    },
  };
}
