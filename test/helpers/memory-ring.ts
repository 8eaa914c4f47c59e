/**
 * Rings over plain memory for unit tests: the layout written by the real header code into a
 * SharedArrayBuffer, and direct access to the shared words by their layout offsets.
 */
import { publishHeader, writeHeader } from '../../src/layout/header.js';
import {
  HEAD_OFFSET,
  SLOT_SEQUENCE,
  TAIL_OFFSET,
  ringGeometry,
  slotOffsetOf,
  type RingGeometry,
} from '../../src/layout/ring-layout.js';
import { Ring, type RingOptions } from '../../src/ring/ring.js';

export const CREATOR = { pid: 4242, startTicks: 777, createdAt: 1_700_000_000_000 };

export function geometryOf(slots: number, slotSize: number): RingGeometry {
  const geometry = ringGeometry(slots, slotSize);
  if (typeof geometry === 'string') throw new Error(geometry);
  return geometry;
}

/** A published ring header and empty slots in fresh shared memory. */
export function ringMemory(slots: number, slotSize: number): { memory: Buffer; geometry: RingGeometry } {
  const geometry = geometryOf(slots, slotSize);
  const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
  writeHeader(memory, geometry, CREATOR);
  publishHeader(memory);
  return { memory, geometry };
}

export function memoryRing(slots: number, slotSize: number, options: RingOptions = {}): Ring {
  const { memory, geometry } = ringMemory(slots, slotSize);
  return new Ring(memory, geometry, options);
}

/** Byte offset of the slot that holds `position`. */
export function slotFor(geometry: RingGeometry, position: number): number {
  return slotOffsetOf(geometry, position % geometry.slotCount);
}

/**
 * Moves an empty ring to `position` as if `position` messages had passed through it: head and
 * tail both at `position`, and every slot free for the next lap of positions from there.
 */
export function advanceEmptyRing(memory: Buffer, geometry: RingGeometry, position: number): void {
  memory.writeUInt32LE(position, TAIL_OFFSET);
  memory.writeUInt32LE(position, HEAD_OFFSET);
  for (let i = 0; i < geometry.slotCount; i++) {
    const p = (position + i) % geometry.positionLimit;
    memory.writeUInt32LE(p, slotFor(geometry, p) + SLOT_SEQUENCE);
  }
}
