/** Ring.hold: messages taken without being finished, finished by ack (the bridge's export). */
import { memberRing, memoryRing, pidLocks, ringMemory } from '../helpers/memory-ring.js';
import { viewsOf } from '../../src/ring/views.js';

describe('Ring.hold', () => {
  test('holds copies in order and keeps the group floor on them until ack', () => {
    const ring = memoryRing(4, 16);
    for (const text of ['a', 'b', 'c', 'd']) expect(ring.trySend(text)).toBe(true);
    const held = ring.hold(3)!;
    expect(held.messages.map((message) => [message.data.toString(), message.sequence])).toEqual([['a', 0], ['b', 1], ['c', 2]]);
    expect(ring.trySend('e')).toBe(false); // the held positions hold the lossless group's floor
    expect(() => ring.hold(1)).toThrow(/held batch is still open/);
    held.ack();
    held.ack(); // idempotent
    expect(ring.trySend('e')).toBe(true);
    expect(ring.hold(10)!.messages.map((message) => message.data.toString())).toEqual(['d', 'e']);
  });

  test('returns null when nothing waits', () => {
    expect(memoryRing(4, 16).hold(5)).toBeNull();
  });

  test('what a dead holder held goes to the next member of its group first, marked redelivered', () => {
    const { memory, geometry } = ringMemory(8, 16);
    const dead = memberRing(memory, geometry);
    for (let i = 0; i < 6; i++) dead.trySend(`m${i}`);
    expect(dead.hold(4)!.messages).toHaveLength(4); // never acked: its holder "dies"
    const next = memberRing(memory, geometry);
    expect(next.recover(pidLocks(viewsOf(memory, geometry), (pid) => pid !== dead.pid)).adopted).toBe(4);
    const again = next.hold(10)!;
    expect(again.messages.map((message) => [message.data.toString(), message.deliveries])).toEqual([
      ['m0', 1], ['m1', 1], ['m2', 1], ['m3', 1],
    ]);
    again.ack();
    expect(next.hold(10)!.messages.map((message) => [message.data.toString(), message.deliveries])).toEqual([['m4', 0], ['m5', 0]]);
  });
});
