import { readFileSync, writeFileSync } from 'node:fs';
import { ringGeometry, sequenceOffsetOf, type RingGeometry } from '../../src/layout/ring-layout.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

async function ok(args: string[]): Promise<string> {
  const result = await runCli(args);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return result.stdout;
}

test('peek shows the waiting messages oldest first and consumes none', async () => {
  const file = dir.file('peek.ring');
  const messages = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
  await ok(['send', '--file', file, ...messages]);
  expect(await ok(['peek', '--file', file])).toBe(messages.map((m) => `${m}\n`).join(''));
  expect(await ok(['peek', '--file', file, '--count', '2'])).toBe('alpha\nbeta\n');
  const records = (await ok(['peek', '--json', '--file', file])).trim().split('\n').map((line) => JSON.parse(line));
  expect(records.map((record) => [record.sequence, record.message, record.bytes])).toEqual(
    messages.map((m, i) => [i, m, Buffer.byteLength(m)]),
  );
  // receive reports the same records (with its group and the delivery count), and gets every message
  const received = (await ok(['receive', '--json', '--count', String(messages.length), '--file', file])).trim().split('\n');
  expect(received.map((line) => JSON.parse(line))).toEqual(records.map((record) => ({ ...record, group: 'default', deliveries: 0 })));
  expect(JSON.parse(await ok(['stat', '--json', '--file', file]))).toMatchObject({ waiting: 0, received: messages.length });
  expect(await ok(['peek', '--file', file])).toBe('');
});

test('peek numbers messages past the wrap of the slot index as receive does', async () => {
  const file = dir.file('wrapped.ring');
  await ok(['send', '--file', file, '--slots', '2', 'a', 'b']);
  await ok(['receive', '--file', file, '--count', '2']);
  await ok(['send', '--file', file, 'c', 'd']);
  const records = (await ok(['peek', '--json', '--file', file])).trim().split('\n').map((line) => JSON.parse(line));
  expect(records.map((record) => [record.sequence, record.message])).toEqual([
    [2, 'c'],
    [3, 'd'],
  ]);
});

test('peek --count 0 prints nothing; a bad count is a usage error', async () => {
  const file = dir.file('count.ring');
  await ok(['send', '--file', file, 'x']);
  expect(await ok(['peek', '--count', '0', '--file', file])).toBe('');
  const bad = await runCli(['peek', '--count', 'many', '--file', file]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("expected a whole number from 0");
});

test('peek on a missing file exits 1 naming the path', async () => {
  const missing = dir.file('missing.ring');
  const result = await runCli(['peek', '--file', missing]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(new RegExp(`^mmapipc: ${missing}: no such ring file .*\\n$`));
});

test('peek reports a corrupt slot with exit 3, naming it, and prints no message', async () => {
  const file = dir.file('corrupt.ring');
  await ok(['send', '--file', file, '--slots', '4', '--slot-size', '16', 'a', 'b']);
  const bytes = readFileSync(file);
  bytes.writeUInt32LE(7, sequenceOffsetOf(ringGeometry(4, 16) as RingGeometry, 0));
  writeFileSync(file, bytes);
  for (const args of [['peek', '--file', file], ['peek', '--json', '--file', file]]) {
    expect(await runCli(args)).toMatchObject({
      code: 3,
      stdout: '',
      stderr: `mmapipc: ${file}: corrupt ring: slot 0 has sequence word 7, which no process of this ring writes (tail 2)\n`,
    });
  }
  expect(readFileSync(file).equals(bytes)).toBe(true);
});
