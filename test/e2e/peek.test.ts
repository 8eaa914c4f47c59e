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
  // receive reports the same sequence numbers, and gets every message
  const received = (await ok(['receive', '--json', '--count', String(messages.length), '--file', file])).trim().split('\n');
  expect(received.map((line) => JSON.parse(line))).toEqual(records);
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
