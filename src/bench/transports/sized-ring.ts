/**
 * The ring of the size rows (mmapipc-copy, mmapipc-zero-copy): sized in bytes with slots of the
 * default slot size, as `mmapipc create --size 64MiB` makes one, so that a message of any size
 * up to the ring's largest takes as many slots as it needs.
 */
import { RingFile } from '../../index.js';
import { DEFAULT_SLOT_SIZE, slotCountForSize } from '../../layout/ring-layout.js';
import { STALL_MS, RING_BYTES, type ThroughputConfig } from '../protocol.js';
import { ringPath } from './mmapipc.js';

/** Messages a sender claims or sends per call, and a receiver takes per call at most. */
export const SIZE_BATCH = 64;
export const SIZE_RECEIVE_MAX = 256;

export function ringOf(config: ThroughputConfig): { bytes: number; slotSize: number } {
  return { bytes: config.ringBytes ?? RING_BYTES, slotSize: config.slotSize ?? DEFAULT_SLOT_SIZE };
}

export function createSizedRing(config: ThroughputConfig): RingFile {
  const { bytes, slotSize } = ringOf(config);
  return RingFile.create(ringPath(config), { slots: slotCountForSize(bytes, slotSize), slotSize, role: 'receiver' });
}

export function openSizedRing(config: ThroughputConfig): RingFile {
  return RingFile.open(ringPath(config), { create: false, role: 'sender' });
}

export function stalled(transport: string, what: string): Error {
  return new Error(`${transport}: no progress for ${STALL_MS} ms while ${what}`);
}
