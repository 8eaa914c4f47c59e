/**
 * SIGINT and SIGTERM end a blocked command cleanly (130, 143) and leave the ring usable; a
 * receiver started before the ring exists waits for it.
 */
import { LiveCli, runCli } from '../helpers/cli.js';
import { hasInotify, hasMapped, until } from '../helpers/proc.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

async function ok(args: string[], input?: string): Promise<string> {
  const result = await runCli(args, { input });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return result.stdout;
}

test.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s to a blocked receive exits %i, saying how many it received; the ring stays usable and nothing is lost', async (signal, code) => {
  const file = dir.file(`${signal}.ring`);
  await ok(['send', '--file', file, 'one']);
  const receiver = new LiveCli(['receive', '--file', file, '--count', '3'], { stdin: 'ignore' });
  await receiver.waitForLine('one'); // took one, now blocked waiting for the second
  await until(() => hasMapped(receiver.child.pid!, file), 'the receiver has the ring mapped');
  receiver.child.kill(signal);
  expect(await receiver.exited).toEqual({ code, signal: null });
  expect(receiver.stderr).toBe(`mmapipc: ${file}: interrupted: 1 of 3 received\n`);
  expect(receiver.lines).toEqual(['one']);
  await ok(['send', '--file', file, 'two', 'three']);
  expect(await ok(['receive', '--file', file, '--count', '2'])).toBe('two\nthree\n');
});

test('SIGINT to a send blocked on a full ring exits 130; what it sent stays, what it did not is not half-sent', async () => {
  const file = dir.file('full.ring');
  const sender = new LiveCli(['send', '--file', file, '--slots', '2', '--verbose', 'a', 'b', 'c'], { stdin: 'ignore' });
  await sender.waitForLine(/^sent: b /);
  await until(() => hasMapped(sender.child.pid!, file), 'the sender has the ring mapped');
  sender.child.kill('SIGINT');
  expect(await sender.exited).toEqual({ code: 130, signal: null });
  expect(sender.stderr).toBe(`mmapipc: ${file}: interrupted: 2 of 3 sent\n`);
  expect(await ok(['receive', '--file', file, '--count', '2'])).toBe('a\nb\n');
  await ok(['send', '--file', file, 'd']);
  expect(await ok(['receive', '--file', file, '--count', '1'])).toBe('d\n');
});

test('receive waits for a ring that appears later', async () => {
  const file = dir.file('later.ring');
  const receiver = new LiveCli(['receive', '--file', file, '--count', '1'], { stdin: 'ignore' });
  await until(() => hasInotify(receiver.child.pid!), 'the receiver watches the directory');
  await ok(['send', '--file', file, 'hello']);
  expect(await receiver.exited).toEqual({ code: 0, signal: null });
  expect({ lines: receiver.lines, stderr: receiver.stderr }).toEqual({ lines: ['hello'], stderr: '' });
});

test('SIGTERM to a receive still waiting for the ring exits 143 and creates nothing', async () => {
  const file = dir.file('never.ring');
  const receiver = new LiveCli(['receive', '--file', file, '--count', '1'], { stdin: 'ignore' });
  await until(() => hasInotify(receiver.child.pid!), 'the receiver watches the directory');
  receiver.child.kill('SIGTERM');
  expect(await receiver.exited).toEqual({ code: 143, signal: null });
  expect(receiver.stderr).toBe('');
  expect(await runCli(['receive', '--file', file, '--timeout', '0'])).toMatchObject({ code: 124 });
});
