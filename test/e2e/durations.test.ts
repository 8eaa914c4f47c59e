/**
 * Durations as shell tools take them: `--timeout 1` is one second (not one millisecond), units
 * still work, and a value that is not a duration is a usage error naming the option.
 */
import { ExitCode } from '../../src/errors.js';
import { DURATION_UNIT_MS } from '../../src/cli/duration.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

/** An existing, empty ring: receive then waits for a message until its timeout. */
async function emptyRing(name: string): Promise<string> {
  const file = dir.file(name);
  expect(await runCli(['create', '--file', file])).toMatchObject({ code: 0, stderr: '' });
  return file;
}

async function timed(args: string[]): Promise<CliResult & { elapsedMs: number }> {
  const started = performance.now();
  const result = await runCli(args);
  return { ...result, elapsedMs: performance.now() - started };
}

test('receive --timeout 1 waits a second, then exits 124', async () => {
  const file = await emptyRing('one-second.ring');
  const result = await timed(['receive', '--file', file, '--timeout', '1']);
  expect(result).toMatchObject({ code: ExitCode.timeout, stdout: '', stderr: `mmapipc: ${file}: no message arrived within 1 s (0 received)\n` });
  expect(result.elapsedMs).toBeGreaterThanOrEqual(DURATION_UNIT_MS.s);
  // About a second: the process's own start-up comes on top, on a busy machine several hundred ms.
  expect(result.elapsedMs).toBeLessThan(10 * DURATION_UNIT_MS.s);
});

test('fractions of a second and explicit units: --timeout 0.25, --timeout 1ms', async () => {
  const file = await emptyRing('units.ring');
  const quarter = await timed(['receive', '--file', file, '--timeout', '0.25']);
  expect(quarter).toMatchObject({ code: ExitCode.timeout, stderr: `mmapipc: ${file}: no message arrived within 250 ms (0 received)\n` });
  expect(quarter.elapsedMs).toBeGreaterThanOrEqual(250);
  expect(await runCli(['receive', '--file', file, '--timeout', '1ms'])).toMatchObject({
    code: ExitCode.timeout,
    stderr: `mmapipc: ${file}: no message arrived within 1 ms (0 received)\n`,
  });
  expect(await runCli(['send', '--file', file, 'waiting'])).toMatchObject({ code: 0 });
  expect(await runCli(['receive', '--file', file, '--count', '1', '--timeout', '1ms'])).toMatchObject({ code: 0, stdout: 'waiting\n' });
});

test('send --interval 0.2 pauses 0.2 s between messages', async () => {
  const file = dir.file('interval.ring');
  const result = await timed(['send', '--file', file, '--interval', '0.2', 'a', 'b', 'c']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.elapsedMs).toBeGreaterThanOrEqual(2 * 200);
  expect((await runCli(['receive', '--file', file, '--count', '3'])).stdout).toBe('a\nb\nc\n');
});

describe('a value that is not a duration: exit 2, one line naming the option, with examples', () => {
  test.each([
    [['receive', '--timeout', 'abc'], '--timeout', 'abc'],
    [['receive', '--timeout', '-1'], '--timeout', '-1'],
    [['receive', '--timeout', ''], '--timeout', ''],
    [['send', '--interval', '5 sec', 'x'], '--interval', '5 sec'],
    [['receive', '-i', '1e3'], '--interval', '1e3'],
    [['counter', '--window', 'soon'], '--window', 'soon'],
    [['counter', '--child-delay', '-5ms'], '--child-delay', '-5ms'],
  ])('mmapipc %j', async (args, option, value) => {
    const file = dir.file('never.ring');
    const result = await runCli([...args, ...(args[0] === 'counter' ? [] : ['--file', file])]);
    expect(result).toEqual(
      expect.objectContaining({
        code: ExitCode.usage,
        stdout: '',
        stderr: `mmapipc: ${option}: expected a duration such as 5, 0.25, 500ms or 2m, got ${JSON.stringify(value)}\n`,
      }),
    );
  });

  test('a duration longer than a timer can wait is refused, not cut short', async () => {
    const result = await runCli(['receive', '--timeout', '1000h', '--file', dir.file('never.ring')]);
    expect(result).toMatchObject({ code: ExitCode.usage, stderr: 'mmapipc: --timeout: expected at most 596h (the longest a timer can wait), got "1000h"\n' });
  });
});
