/** Ring.hold: messages claimed without being freed, freed by ack (the bridge's export). */
import { memoryRing, ringMemory } from '../helpers/memory-ring.js';
import { Ring } from '../../src/ring/ring.js';

describe('Ring.hold', () => {
  test('holds copies in order and keeps their slots taken until ack', () => {
    const ring = memoryRing(4, 16);
    for (const text of ['a', 'b', 'c', 'd']) expect(ring.trySend(text)).toBe(true);
    const held = ring.hold(3)!;
    expect(held.messages.map((message) => [message.data.toString(), message.sequence])).toEqual([['a', 0], ['b', 1], ['c', 2]]);
    expect(ring.trySend('e')).toBe(false); // the held slots are not free
    expect(() => ring.hold(1)).toThrow(/already held/);
    held.ack();
    held.ack(); // idempotent
    expect(ring.trySend('e')).toBe(true);
    expect(ring.hold(10)!.messages.map((message) => message.data.toString())).toEqual(['d', 'e']);
  });

  test('returns null when nothing waits', () => {
    expect(memoryRing(4, 16).hold(5)).toBeNull();
  });

  test('what a dead holder held goes to the next receiver first, oldest first', () => {
    const { memory, geometry } = ringMemory(8, 16);
    const dead = new Ring(memory, geometry, { identity: { pid: 11, participant: 0, generation: 1 } });
    for (let i = 0; i < 6; i++) dead.trySend(`m${i}`);
    expect(dead.hold(4)!.messages).toHaveLength(4); // never acked: its holder "dies"
    const next = new Ring(memory, geometry, { identity: { pid: 12, participant: 1, generation: 1 } });
    expect(next.heldElsewhere).toBe(4);
    const report = next.recover({ isAlive: () => false, now: 0, stallTimeoutMs: 10_000, stuckSince: new Map() });
    expect(report.rescued).toHaveLength(4);
    expect(next.heldElsewhere).toBe(0);
    const again = next.hold(10)!;
    expect(again.messages.map((message) => message.data.toString())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });
});
