/**
 * Several real processes on one ring file: four senders and two receivers, every message
 * delivered exactly once and each sender's messages in the order they were sent.
 */
import { runPeer, startPeer } from '../helpers/fixture.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

const SENDERS = 4;
const RECEIVERS = 2;
const PER_SENDER = 50_000;

test(`delivers every message exactly once, in order per sender, with ${SENDERS} senders and ${RECEIVERS} receivers`, async () => {
  const file = dir.file('many.ring');
  const receivers = Array.from({ length: RECEIVERS }, () => startPeer(['receive-until-stop', file]));
  const senders = Array.from({ length: SENDERS }, (_, id) => runPeer(['send', file, String(id), String(PER_SENDER)]));
  await Promise.all(senders);
  // Every data message is in the ring before the stops, so each receiver's stop comes after them.
  await runPeer(['send-words', file, ...Array(RECEIVERS).fill('STOP')]);
  const exits = await Promise.all(receivers.map((receiver) => receiver.exited));
  expect(exits).toEqual(Array(RECEIVERS).fill({ code: 0, signal: null }));
  expect(receivers.map((receiver) => receiver.stderr)).toEqual(Array(RECEIVERS).fill(''));

  // Checked in plain code and asserted once: 200,000 expect() calls would take half a minute.
  const bySequence = new Map<number, string>();
  let duplicates = 0;
  let unordered = 0;
  for (const receiver of receivers) {
    let previous = -1;
    for (const line of receiver.lines) {
      const space = line.indexOf(' ');
      const sequence = Number(line.slice(0, space));
      if (sequence <= previous) unordered++; // each receiver sees the ring's order
      previous = sequence;
      if (bySequence.has(sequence)) duplicates++;
      bySequence.set(sequence, line.slice(space + 1));
    }
  }
  expect({ duplicates, unordered }).toEqual({ duplicates: 0, unordered: 0 });
  expect(receivers.map((receiver) => receiver.lines.length > 0)).toEqual(Array(RECEIVERS).fill(true)); // both took part
  const total = SENDERS * PER_SENDER;
  expect(bySequence.size).toBe(total);
  // Sequence numbers are the ring positions 0 .. total-1: none skipped, none twice.
  const sequences = [...bySequence.keys()].sort((a, b) => a - b);
  expect(sequences[0]).toBe(0);
  expect(sequences[total - 1]).toBe(total - 1);
  // In ring order, sender i's messages are i:0, i:1, ... i:PER_SENDER-1 exactly.
  const next = Array(SENDERS).fill(0) as number[];
  let outOfOrder = 0;
  for (const sequence of sequences) {
    const [id, n] = bySequence.get(sequence)!.split(':').map(Number) as [number, number];
    if (n !== next[id]) outOfOrder++;
    next[id] = n + 1;
  }
  expect(outOfOrder).toBe(0);
  expect(next).toEqual(Array(SENDERS).fill(PER_SENDER));
});
