/**
 * Data through pipes and arguments: messages are bytes, and stdout carries exactly them.
 */
import { spawn } from 'node:child_process';
import { BIN, LiveCli, cliEnv, runCli, type CliResult } from '../helpers/cli.js';
import { cpuTicks } from '../helpers/proc.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

let ringCount = 0;
const newRing = () => dir.file(`pipes-${++ringCount}.ring`);

async function ok(args: string[], input?: string | Buffer): Promise<CliResult> {
  const result = await runCli(args, { input });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return result;
}

/** Every message left in the ring, as raw NUL-terminated bytes split apart. */
async function drain(file: string): Promise<Buffer[]> {
  const result = await runCli(['receive', '--file', file, '--null', '--count', '1000', '--timeout', '0']);
  expect(result.code).toBe(124); // ran out of messages
  const messages: Buffer[] = [];
  const bytes = result.stdoutBytes;
  for (let start = 0, end = bytes.indexOf(0); end !== -1; start = end + 1, end = bytes.indexOf(0, start)) {
    messages.push(bytes.subarray(start, end));
  }
  return messages;
}

test('one message per line of stdin; empty lines are empty messages; CR is kept; a last line without newline counts', async () => {
  const file = newRing();
  await ok(['send', '--file', file], 'first\n\nwith CR\r\n\r\nlast');
  const received = await ok(['receive', '--file', file, '--count', '5']);
  expect(received.stdout).toBe('first\n\nwith CR\r\n\r\nlast\n');
});

test('any UTF-8 and arbitrary bytes survive the trip exactly (--null in and out)', async () => {
  const file = newRing();
  const messages = [
    Buffer.from('héllo wörld'),
    Buffer.from('日本語 🙂 \u200d'),
    Buffer.from('line\nbreak\r\n'),
    Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28, 0x01, 0x7f, 0x0a]), // not UTF-8
    Buffer.alloc(0),
    Buffer.alloc(64, 0xe2), // exactly the default slot size
  ];
  const input = Buffer.concat(messages.flatMap((message) => [message, Buffer.from([0])]));
  await ok(['send', '--file', file, '--null'], input);
  const received = await ok(['receive', '--file', file, '--null', '--count', String(messages.length)]);
  expect(received.stdoutBytes.equals(input)).toBe(true);
});

test('all 256 byte values but newline pass through line mode unchanged', async () => {
  const file = newRing();
  const bytes = Buffer.from([...Array(256).keys()].filter((b) => b !== 0x0a));
  const lines = [bytes.subarray(0, 64), bytes.subarray(64, 128), bytes.subarray(128, 192), bytes.subarray(192)];
  const input = Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\n')]));
  await ok(['send', '--file', file], input);
  expect((await ok(['receive', '--file', file, '--count', '4'])).stdoutBytes.equals(input)).toBe(true);
});

test('one message per argument, including empty and multi-byte ones', async () => {
  const file = newRing();
  await ok(['send', '--file', file, 'one', '', 'two words', 'ünïcödé €', '--', '-dash']);
  expect((await ok(['receive', '--file', file, '--count', '5'])).stdout).toBe('one\n\ntwo words\nünïcödé €\n-dash\n');
});

test('--count limits what send takes from stdin and what receive takes from the ring', async () => {
  const file = newRing();
  await ok(['send', '--file', file, '--count', '3'], 'a\nb\nc\nd\ne\n');
  expect((await ok(['receive', '--file', file, '--count', '2'])).stdout).toBe('a\nb\n');
  expect((await ok(['send', '--file', file, '--count', '1', 'x', 'y'])).stdout).toBe('');
  expect(await drain(file)).toEqual([Buffer.from('c'), Buffer.from('x')]);
  // Nothing to take: receive ends at once, even before any ring exists.
  expect(await ok(['receive', '--file', dir.file('absent.ring'), '--count', '0'])).toMatchObject({ stdout: '' });
});

test('send is quiet on a pipe, --verbose prints the human lines, --json a line per message with its sequence', async () => {
  const file = newRing();
  expect((await ok(['send', '--file', file, 'a'])).stdout).toBe('');
  expect((await ok(['send', '--file', file, '--verbose', 'b'])).stdout).toBe('sent: b (buffer: 2/100)\n');
  const json = await ok(['send', '--file', file, '--json', 'c', 'ünï']);
  expect(json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual([
    { sequence: 2, message: 'c', bytes: 1, buffer: 3, capacity: 100 },
    { sequence: 3, message: 'ünï', bytes: 5, buffer: 4, capacity: 100 },
  ]);
  expect((await ok(['send', '--file', file, '--quiet', '--verbose', 'd'])).stdout).toBe('');
  const binary = await ok(['send', '--file', file, '--json'], Buffer.from([0xff, 0x0a]));
  expect(JSON.parse(binary.stdout)).toEqual({ sequence: 5, base64: Buffer.from([0xff]).toString('base64'), bytes: 1, buffer: 6, capacity: 100 });
});

test('human lines show control characters as escapes, so a message can neither break the line nor reach the terminal raw', async () => {
  const file = newRing();
  const message = 'a\x1b[31mb\nc\td\x7f';
  const sent = await ok(['send', '--file', file, '--null', '--verbose'], `${message}\0`);
  expect(sent.stdout).toBe('sent: a\\x1b[31mb\\nc\\td\\x7f (buffer: 1/100)\n');
  const received = await ok(['receive', '--file', file, '--demo', '--interval', '0', '--count', '1']);
  expect(received.stdout.split('\n')[1]).toBe('received: a\\x1b[31mb\\nc\\td\\x7f (buffer: 0/100)');
});

test('receive --json gives sequence, sender pid, time, group, deliveries and the message (base64 when not UTF-8)', async () => {
  const file = newRing();
  const before = Date.now();
  const sender = spawn(process.execPath, [BIN, 'send', '--file', file, '--null'], { env: cliEnv(), stdio: ['pipe', 'ignore', 'ignore'] });
  const senderExit = new Promise((resolve) => sender.once('exit', resolve));
  sender.stdin.end(Buffer.concat([Buffer.from('plain\0'), Buffer.from([0xff, 0x00])]));
  expect(await senderExit).toBe(0);
  const after = Date.now();
  const records = (await ok(['receive', '--file', file, '--json', '--count', '2'])).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  expect(records).toEqual([
    { sequence: 0, pid: sender.pid, time: expect.any(String), group: 'default', deliveries: 0, bytes: 5, message: 'plain' },
    { sequence: 1, pid: sender.pid, time: expect.any(String), group: 'default', deliveries: 0, bytes: 1, base64: Buffer.from([0xff]).toString('base64') },
  ]);
  for (const record of records) {
    expect(Date.parse(record.time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(record.time)).toBeLessThanOrEqual(after);
  }
});

test('receive --follow into a reader that stops after 3 lines ends quietly with 0 and leaves untaken messages in the ring', async () => {
  const file = newRing();
  await ok(['send', '--file', file, 'm1', 'm2', 'm3']);
  const receiver = new LiveCli(['receive', '--file', file, '--follow'], { stdin: 'ignore' });
  await receiver.waitForLine('m3');
  receiver.child.stdout!.destroy(); // the reader goes away, as `head -3` does
  // The next messages make the receiver write again; it must notice and put them back.
  await ok(['send', '--file', file, 'm4', 'm5', 'm6']);
  const exit = await receiver.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(receiver.stderr).toBe('');
  expect(receiver.lines).toEqual(['m1', 'm2', 'm3']);
  expect((await drain(file)).map(String).sort()).toEqual(['m4', 'm5', 'm6']);
});

test('receive --follow ends by itself, quietly, when its reader goes away while the ring is idle', async () => {
  const file = newRing();
  await ok(['send', '--file', file, 'm1', 'm2', 'm3']);
  const receiver = new LiveCli(['receive', '--file', file, '--follow'], { stdin: 'ignore' });
  try {
    await receiver.waitForLine('m3');
    receiver.child.stdout!.destroy();
    const outcome = await Promise.race([receiver.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    expect(outcome).toEqual({ code: 0, signal: null });
    expect(receiver.stderr).toBe('');
  } finally {
    receiver.child.kill('SIGKILL');
  }
});

test('a receiver writing to a reader that does not read blocks in the kernel instead of spinning', async () => {
  const file = newRing();
  const message = 'x'.repeat(1000);
  // 1,000 messages of 1,000 bytes: far more than a pipe and the reader's buffer hold.
  await ok(['send', '--file', file, '--slots', '1000', '--slot-size', '1000'], `${message}\n`.repeat(1000));
  const receiver = new LiveCli(['receive', '--file', file, '--count', '1000'], { stdin: 'ignore' });
  await receiver.waitForLine(message);
  receiver.child.stdout!.pause();
  const cpuBefore = cpuTicks(receiver.child.pid!);
  const idleMs = 500; // a measurement window: a spinning writer would use all of it
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const cpuAfter = cpuTicks(receiver.child.pid!);
  receiver.child.stdout!.resume();
  expect(await receiver.exited).toEqual({ code: 0, signal: null });
  expect(receiver.lines.length).toBe(1000);
  // Clock ticks are 10 ms: a writer asleep in the kernel uses none or one, a spinning one about 50,
  // one retrying every millisecond about 5.
  expect(cpuAfter - cpuBefore).toBeLessThanOrEqual(2);
});

test('the ring path comes from MMAPIPC_FILE when --file is not given', async () => {
  const file = newRing();
  expect(await runCli(['send', 'via-env'], { env: { MMAPIPC_FILE: file } })).toMatchObject({ code: 0, stderr: '' });
  expect((await ok(['receive', '--file', file, '--count', '1'])).stdout).toBe('via-env\n');
});
