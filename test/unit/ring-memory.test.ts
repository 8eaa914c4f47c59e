import { publishHeader, writeHeader } from '../../src/layout/header.js';
import { ringGeometry, type RingGeometry } from '../../src/layout/ring-layout.js';
import { Ring } from '../../src/ring/ring.js';

function memoryRing(slots: number, slotSize: number): Ring {
  const geometry = ringGeometry(slots, slotSize) as RingGeometry;
  const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
  writeHeader(memory, geometry, { pid: 1, startTicks: 0, createdAt: 0 });
  publishHeader(memory);
  return new Ring(memory, geometry);
}

test('a full ring refuses by return value and keeps its messages', () => {
  const ring = memoryRing(3, 8);
  expect([ring.trySend('a'), ring.trySend('b'), ring.trySend('c'), ring.trySend('d')]).toEqual([true, true, true, false]);
  expect(ring.tryReceive()?.data.toString()).toBe('a');
});
