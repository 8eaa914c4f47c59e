/**
 * mmapipc through the library API's batch calls, on the Ring under RingFile (`ring.ring`):
 * a sender fills BATCH messages and hands them to trySendBatch, which claims a run of free
 * slots with one compare-and-swap; when the ring is full it awaits waitForRoom(). The receiver
 * drains runs of messages with drain(), whose handler sees each message in place (the mapping,
 * an offset, a length: no copy, no allocation); when the ring is empty it awaits
 * waitForMessage(). Same ring, same checks as the per-message rows.
 *
 * Fan-out rows (config.groups set) use the same sender and the same draining loop: the host
 * makes the ring with groups g1..gN and no default group, and each group's one member is a
 * process of its own (member()), which checks every message of its group.
 */
import { RingFile } from '../../index.js';
import { Verifier, stamp, template } from '../payload.js';
import { STALL_MS, fanOutGroup, type ThroughputConfig } from '../protocol.js';
import { mmapipc, ringPath, THROUGHPUT_SLOTS } from './mmapipc.js';
import type { TransportBench } from './types.js';

/** Messages a sender hands to one trySendBatch call. */
export const BATCH = 64;
/** Messages the receiver takes in one drain() call at most. */
export const DRAIN_MAX = 4096;

function stalled(what: string): Error {
  return new Error(`mmapipc batch: no progress for ${STALL_MS} ms while ${what}`);
}

/** Takes every message of `file`'s group into `verifier`, in place, until it has them all or finds a fault. */
async function drainAll(file: RingFile, verifier: Verifier): Promise<void> {
  const ring = file.ring;
  // Each message is checked where it lies in the mapping; after a mismatch check() only
  // returns false, and the loop ends on verifier.error.
  const check = (buffer: Buffer, offset: number, length: number) => void verifier.check(buffer, offset, length);
  const expected = verifier.expected;
  while (verifier.received < expected && verifier.error === undefined) {
    if (ring.drain(check, DRAIN_MAX) > 0) continue;
    if (!(await file.waitForMessage({ timeoutMs: STALL_MS }))) throw stalled(`receiving (${verifier.received} of ${expected})`);
  }
}

/** Group capacity of a fan-out ring: the library's default, or more for a wider fan-out. */
const MIN_GROUP_CAPACITY = 8;

/**
 * Creates the ring of a fan-out row: groups g1..gN, all lossless and starting at the first
 * message, and no "default" group (a lossless group without members would hold the sender back
 * once the ring is full). The host keeps it open as an observer for the run.
 */
export function createFanOutRing(config: ThroughputConfig): RingFile {
  const groups = config.groups ?? 1;
  const file = RingFile.create(ringPath(config), {
    slots: config.slots ?? THROUGHPUT_SLOTS,
    slotSize: config.size,
    role: 'observer',
    groups: Math.max(MIN_GROUP_CAPACITY, groups),
  });
  try {
    for (let index = 0; index < groups; index++) file.createGroup(fanOutGroup(index), { from: 'earliest' });
    file.removeGroup('default');
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}

/** The one member of fan-out group `index`: joins it and takes every message sent. */
export function member(config: ThroughputConfig, index: number): { receive(verifier: Verifier): Promise<void>; close(): void } {
  const file = RingFile.open(ringPath(config), { create: false, role: 'receiver', group: fanOutGroup(index) });
  return { receive: (verifier) => drainAll(file, verifier), close: () => file.close() };
}

export const mmapipcBatch: TransportBench = {
  // Ping-pong is one message each way: latencyModes() lists none for batches, and these are
  // the per-message ones only to complete the interface.
  ...mmapipc,

  async receiver(config: ThroughputConfig) {
    const file = RingFile.create(ringPath(config), { slots: config.slots ?? THROUGHPUT_SLOTS, slotSize: config.size, role: 'receiver' });
    return {
      receive: (verifier) => drainAll(file, verifier),
      close: () => file.close(),
    };
  },

  async sender(config: ThroughputConfig, index: number) {
    const file = RingFile.open(ringPath(config), { create: false, role: 'sender' });
    const ring = file.ring;
    const batch = Array.from({ length: BATCH }, () => template(config.size, index));
    return {
      async send() {
        for (let first = config.firstSequence ?? 0; first < config.perSender; first += BATCH) {
          const count = Math.min(BATCH, config.perSender - first);
          const messages = count === BATCH ? batch : batch.slice(0, count);
          for (let i = 0; i < count; i++) stamp(messages[i]!, first + i);
          for (let sent = ring.trySendBatch(messages); sent < count; sent += ring.trySendBatch(messages, sent)) {
            if (!(await file.waitForRoom({ timeoutMs: STALL_MS }))) throw stalled('the ring stayed full');
          }
        }
      },
      close: () => file.close(),
    };
  },
};
