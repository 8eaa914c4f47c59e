/**
 * Issue 18 (CLI): send reads messages of any content — newlines and NUL bytes included — with
 * --whole, --framing length and --framing jsonl; receive writes the same framings back. A
 * message past the ring's maximum is refused as soon as stdin passes it (exit 5), and the
 * messages before it stay sent.
 */
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

const AWKWARD = [Buffer.from('two\nlines'), Buffer.from([0, 1, 0x0a, 0, 0xff]), Buffer.alloc(0), Buffer.from('plain')];

function lengthFramed(messages: Buffer[]): Buffer {
  return Buffer.concat(messages.flatMap((message) => [Buffer.from(Uint32Array.of(message.length).buffer), message]));
}

test('--framing length round-trips messages holding newlines and NUL bytes, byte for byte', async () => {
  const file = dir.file('length.ring');
  const sent = await runCli(['send', '--file', file, '--framing', 'length'], { input: lengthFramed(AWKWARD) });
  expect(sent).toMatchObject({ code: 0, stderr: '' });
  const received = await runCli(['receive', '--file', file, '--count', String(AWKWARD.length), '--framing', 'length']);
  expect(received.code).toBe(0);
  expect(received.stdoutBytes.equals(lengthFramed(AWKWARD))).toBe(true);
});

test('--framing jsonl takes {"message"} and {"base64"} lines; receive --json output is valid input', async () => {
  const file = dir.file('jsonl.ring');
  const input = ['{"message":"two\\nlines"}', `{"base64":"${AWKWARD[1]!.toString('base64')}"}`, '', '{"message":""}'].join('\n');
  expect(await runCli(['send', '--file', file, '--framing', 'jsonl'], { input })).toMatchObject({ code: 0, stderr: '' });
  const json = await runCli(['receive', '--file', file, '--count', '3', '--json']);
  const copy = dir.file('jsonl-copy.ring');
  expect(await runCli(['send', '--file', copy, '--framing', 'jsonl'], { input: json.stdout })).toMatchObject({ code: 0, stderr: '' });
  const back = await runCli(['receive', '--file', copy, '--count', '3', '--framing', 'length']);
  expect(back.stdoutBytes.equals(lengthFramed([AWKWARD[0]!, AWKWARD[1]!, Buffer.alloc(0)]))).toBe(true);
  const bad = await runCli(['send', '--file', file, '--framing', 'jsonl'], { input: '{"message":"ok"}\nnot json\n' });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/^mmapipc: stdin line 2 is not JSON \(.*\); --framing jsonl expects \{"message":"text"\} or \{"base64":"..."\} per line\n$/);
});

test('--whole sends all of stdin as one message; --null records come back with receive --null', async () => {
  const file = dir.file('whole.ring');
  const whole = Buffer.from('line one\nline two\0after NUL\n');
  expect(await runCli(['send', '--file', file, '--whole'], { input: whole })).toMatchObject({ code: 0, stderr: '' });
  expect(await runCli(['send', '--file', file, '--null'], { input: 'a\nb\0c\0' })).toMatchObject({ code: 0, stderr: '' });
  const received = await runCli(['receive', '--file', file, '--count', '3', '--framing', 'length']);
  expect(received.stdoutBytes.equals(lengthFramed([whole, Buffer.from('a\nb'), Buffer.from('c')]))).toBe(true);
  const conflict = await runCli(['send', '--file', file, '--null', '--framing', 'length'], { input: '' });
  expect(conflict).toMatchObject({ code: 2, stderr: 'mmapipc: --null, --whole and --framing ask for different framings (length, null); pick one\n' });
});

test('a 40 MB line is refused as soon as it passes the maximum (exit 5); the lines before it stay sent', async () => {
  const file = dir.file('oversize.ring');
  const input = Buffer.concat([Buffer.from('first\nsecond\n'), Buffer.alloc(40 * 1024 * 1024, 0x61)]);
  const started = performance.now();
  const refused = await runCli(['send', '--file', file], { input });
  const seconds = (performance.now() - started) / 1000;
  expect(refused.code).toBe(5);
  expect(refused.stderr).toMatch(new RegExp(`^mmapipc: ${file}: message 3 of at least \\d+ bytes is larger than the largest message this ring takes \\(9528 bytes\\); shorten it, pass --truncate, or create the ring with more room \\(--size\\)\\n$`));
  expect(await runCli(['receive', '--file', file, '--count', '3', '--timeout', '0'])).toMatchObject({ code: 124, stdout: 'first\nsecond\n' });
  expect(seconds).toBeLessThan(10); // a benchmark figure, not a tight bound: see the report
});

test('--framing length refuses an oversize record from its length prefix alone; the records before it stay sent', async () => {
  const file = dir.file('length-oversize.ring');
  const header = Buffer.from(Uint32Array.of(9529).buffer); // one past the default ring's 9,528-byte maximum (docs/format.md §2)
  const input = Buffer.concat([lengthFramed([Buffer.from('kept')]), header]);
  const refused = await runCli(['send', '--file', file, '--framing', 'length'], { input });
  expect(refused).toMatchObject({
    code: 5,
    stderr: `mmapipc: ${file}: message 2 of 9529 bytes is larger than the largest message this ring takes (9528 bytes); shorten it, pass --truncate, or create the ring with more room (--size)\n`,
  });
  expect((await runCli(['receive', '--file', file, '--count', '1'])).stdout).toBe('kept\n');
  const cut = await runCli(['send', '--file', file, '--framing', 'length'], { input: Buffer.concat([header, Buffer.from('ab')]) });
  expect(cut.code).toBe(5); // refused before the missing bytes matter
  const short = await runCli(['send', '--file', file, '--framing', 'length'], { input: Buffer.concat([Buffer.from(Uint32Array.of(3).buffer), Buffer.from('ab')]) });
  expect(short).toMatchObject({ code: 2, stderr: 'mmapipc: stdin ended inside record 1: expected 3 bytes of payload, got 2 (--framing length: a 4-byte little-endian length, then the bytes)\n' });
});
