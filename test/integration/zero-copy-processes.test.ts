/**
 * Zero-copy across real processes (format v3): a process killed (SIGKILL) while it holds a claim
 * written half-way is recovered like any sender — its positions released as skip records, nothing
 * of it delivered, the ring flowing on; and a process holding views of messages in place keeps
 * them unchanged while a sender in another process pushes the ring until it is full, until it
 * releases them.
 */
import { fileURLToPath } from 'node:url';
import { LiveCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const PEER = fileURLToPath(new URL('../fixtures/sized-peer.mjs', import.meta.url));
const temp = tempDir('mmapipc-zero-copy-');
afterAll(() => temp.remove());
const ENV = { RING_SLOTS: '8', RING_SLOT_SIZE: '16' };

async function freshRing(name: string): Promise<string> {
  const file = temp.file(name);
  expect((await runCli(['create', '--file', file, '--slots', '8', '--slot-size', '16'])).code).toBe(0);
  return file;
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

test('a process killed holding a three-slot claim: recovery releases it, nothing of it is delivered, later messages flow', async () => {
  const file = await freshRing('claim');
  expect((await runCli(['send', '--file', file, 'before'])).code).toBe(0);
  const holder = new LiveCli(['claim-hold', file, '100'], { script: PEER, env: ENV, stdin: 'ignore' });
  expect(await holder.waitForLine(/^claimed /)).toBe('claimed 1'); // 100 bytes: positions 1-3 (stride 48)
  const open = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
  expect(open.claims).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'send', pid: holder.child.pid, from: 1 })]));
  holder.child.kill('SIGKILL');
  expect((await holder.exited).signal).toBe('SIGKILL');
  const after = ['after-1', 'a second message, two slots: 40b', 'after-3'];
  const sent = await runCli(['send', '--file', file, '--timeout', '10s', ...after]);
  expect(sent.code).toBe(0);
  const received = await runCli(['receive', '--file', file, '--count', '4', '--timeout', '10s']);
  expect(received.code).toBe(0);
  expect(lines(received.stdout)).toEqual(['before', ...after]);
  const stat = JSON.parse((await runCli(['stat', '--file', file, '--json'])).stdout);
  expect({ released: stat.releasedSlots, claims: stat.claims, sent: stat.sent, tail: stat.tail }).toEqual({ released: 3, claims: [], sent: 4, tail: 8 });
});

test('views held in another process never change while a sender pushes the ring full; after release the slots are reused', async () => {
  const file = await freshRing('view');
  const first = ['held one', `held two: ${'x'.repeat(90)}`]; // one slot, then three (positions 1-3)
  expect((await runCli(['send', '--file', file, ...first])).code).toBe(0);
  const viewer = new LiveCli(['view-hold', file, '2'], { script: PEER, env: ENV });
  expect(await viewer.waitForLine(/^held /)).toBe('held 0 1');
  // A sender fills the four free slots, then times out: the held messages are the group's floor.
  const pushed = Array.from({ length: 12 }, (_, i) => `push-${i}`);
  const push = await runCli(['send', '--file', file, '--timeout', '0.5s', ...pushed]);
  expect(push.code).toBe(124);
  viewer.child.stdin!.write('check\n');
  expect(await viewer.waitForLine(/^(same|changed)$/)).toBe('same');
  viewer.child.stdin!.write('release\n');
  await viewer.waitForLine('released');
  expect((await viewer.exited).code).toBe(0);
  const more = await runCli(['send', '--file', file, '--timeout', '5s', 'reuses the slots']);
  expect(more.code).toBe(0);
  const received = await runCli(['receive', '--file', file, '--count', '5', '--timeout', '5s']);
  expect(lines(received.stdout)).toEqual([...pushed.slice(0, 4), 'reuses the slots']);
});
