/** The tutorial, reproduced: `mmapipc demo`, and send/receive in demo mode. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BIN, cliEnv, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

const SENDER = 'sender   │ ';
const RECEIVER = 'receiver │ ';

test('demo runs the receiver and the sender as two processes, their lines labelled and interleaved', async () => {
  const file = dir.file('demo.ring');
  const result = await runCli(['demo', '--file', file, '--count', '5']);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const lines = result.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe(`demo: receiver and sender over ${file}`);
  const body = lines.slice(1);
  expect(body.every((line) => line.startsWith(SENDER) || line.startsWith(RECEIVER))).toBe(true);
  const of = (label: string) => body.filter((line) => line.startsWith(label)).map((line) => line.slice(label.length));
  const sent = of(SENDER);
  const received = of(RECEIVER);
  expect(sent[0]).toBe('sender: sending messages');
  expect(sent.slice(1, -1).map((line) => line.replace(/\(buffer: \d+\/100\)$/, '(buffer: N/100)'))).toEqual(
    [0, 1, 2, 3, 4].map((i) => `sent: Message #${i}: Hello! (buffer: N/100)`),
  );
  expect(sent.at(-1)).toBe('sender done');
  expect(received[0]).toBe('receiver: receiving messages');
  expect(received.slice(1, -1).map((line) => line.replace(/\(buffer: \d+\/100\)$/, '(buffer: N/100)'))).toEqual(
    [0, 1, 2, 3, 4].map((i) => `received: Message #${i}: Hello! (buffer: N/100)`),
  );
  expect(received.at(-1)).toBe('receiver done');
  // Interleaved: the receiver took the first message while the sender was still sending.
  const firstReceived = body.findIndex((line) => line.startsWith(`${RECEIVER}received:`));
  expect(firstReceived).toBeLessThan(body.indexOf(`${SENDER}sender done`));
  // The demo leaves the ring empty.
  expect(await runCli(['receive', '--file', file, '--timeout', '0'])).toMatchObject({ code: 124, stdout: '' });
});

test("send --demo prints the tutorial's sender lines with the occupancy", async () => {
  const file = dir.file('send-demo.ring');
  const result = await runCli(['send', '--demo', '--count', '3', '--interval', '0', '--file', file]);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toBe(
    [
      'sender: sending messages',
      'sent: Message #0: Hello! (buffer: 1/100)',
      'sent: Message #1: Hello! (buffer: 2/100)',
      'sent: Message #2: Hello! (buffer: 3/100)',
      'sender done',
      '',
    ].join('\n'),
  );
  const received = await runCli(['receive', '--demo', '--count', '3', '--interval', '0', '--file', file]);
  expect(received).toMatchObject({ code: 0, stderr: '' });
  expect(received.stdout).toBe(
    [
      'receiver: receiving messages',
      'received: Message #0: Hello! (buffer: 2/100)',
      'received: Message #1: Hello! (buffer: 1/100)',
      'received: Message #2: Hello! (buffer: 0/100)',
      'receiver done',
      '',
    ].join('\n'),
  );
});

test('demo refuses a ring that holds messages, and leaves them', async () => {
  const file = dir.file('busy.ring');
  await runCli(['send', '--file', file, 'not yours']);
  const result = await runCli(['demo', '--file', file, '--count', '2']);
  expect(result).toMatchObject({
    code: 1,
    stdout: '',
    stderr: `mmapipc: ${file}: holds 1 unread message(s); the demo needs an empty ring: take them with mmapipc receive, or pass --file\n`,
  });
  expect((await runCli(['receive', '--file', file, '--count', '1'])).stdout).toBe('not yours\n');
});

test('demo | head -3 ends quietly with 0, and the next demo finds the ring empty', async () => {
  const file = dir.file('head.ring');
  const demo = spawn(process.execPath, [BIN, 'demo', '--file', file, '--count', '10'], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => demo.once('close', resolve));
  const lines: string[] = [];
  const reader = createInterface({ input: demo.stdout });
  for await (const line of reader) {
    lines.push(line);
    if (lines.length === 3) break; // closes our end of the pipe, as head does
  }
  demo.stdout.destroy();
  expect(await exited).toBe(0);
  expect(stderr).toBe('');
  expect(lines).toHaveLength(3);
  const again = await runCli(['demo', '--file', file, '--count', '1']);
  expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
});
