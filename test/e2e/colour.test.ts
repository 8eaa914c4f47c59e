/** Colour only on a terminal; NO_COLOR turns it off, FORCE_COLOR on. */
import { spawn } from 'node:child_process';
import { BIN, cliEnv, collect, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { requireTool } from '../helpers/tools.js';

const dir = tempDir();
afterAll(() => dir.remove());

const ANSI = /\x1b\[[0-9;]*m/;
/** util-linux's script(1): runs a command on a pseudo-terminal. */
const SCRIPT = requireTool('script', 'the terminal (colour) tests');

test('no colour when piped, on stdout or stderr', async () => {
  const file = dir.file('piped.ring');
  const sent = await runCli(['send', '--file', file, '--verbose', 'hello']);
  expect(sent).toMatchObject({ code: 0, stdout: 'sent: hello (buffer: 1/100)\n', stderr: '' });
  const failed = await runCli(['receive', '--bogus']);
  expect(failed.stderr).not.toMatch(ANSI);
});

test('FORCE_COLOR=1 gives ANSI colour on a pipe; NO_COLOR wins over it', async () => {
  const file = dir.file('forced.ring');
  const forced = await runCli(['send', '--file', file, '--verbose', 'hi'], { env: { FORCE_COLOR: '1' } });
  expect(forced.code).toBe(0);
  expect(forced.stdout).toBe('\x1b[32msent:\x1b[39m hi (buffer: 1/100)\n');
  const error = await runCli(['receive', '--bogus'], { env: { FORCE_COLOR: '1' } });
  expect(error.stderr.startsWith('\x1b[31m' + 'mmapipc:\x1b[39m unknown option')).toBe(true);
  const both = await runCli(['send', '--file', file, '--verbose', 'ho'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
  expect(both.stdout).toBe('sent: ho (buffer: 2/100)\n');
});

(SCRIPT !== undefined ? describe : describe.skip)('on a terminal', () => {
  /** Runs the CLI on a pseudo-terminal; returns what the terminal showed. */
  async function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const command = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
    const child = spawn(SCRIPT!, ['--quiet', '--return', '--command', command, '/dev/null'], { env: cliEnv({ TERM: 'xterm', ...env }) });
    const result = await collect(child);
    expect(result.code).toBe(0);
    return result.stdout.replace(/\r\n/g, '\n');
  }

  test('colour by default, none with NO_COLOR', async () => {
    const file = dir.file('terminal.ring');
    expect(await onTerminal(['send', '--file', file, 'first'])).toBe('\x1b[32msent:\x1b[39m first (buffer: 1/100)\n');
    expect(await onTerminal(['send', '--file', file, 'second'], { NO_COLOR: '1' })).toBe('sent: second (buffer: 2/100)\n');
  });

  test("send with no message and stdin a terminal is the tutorial's sender", async () => {
    const file = dir.file('terminal-send.ring');
    expect(await onTerminal(['send', '--file', file, '--count', '2', '--interval', '0'], { NO_COLOR: '1' })).toBe(
      'sender: sending messages\nsent: Message #0: Hello! (buffer: 1/100)\nsent: Message #1: Hello! (buffer: 2/100)\nsender done\n',
    );
  });

  test("receive on a terminal shows the tutorial's human lines", async () => {
    const file = dir.file('terminal-receive.ring');
    await runCli(['send', '--file', file, 'a', 'b']);
    expect(await onTerminal(['receive', '--file', file, '--count', '2', '--interval', '0'], { NO_COLOR: '1' })).toBe(
      'receiver: receiving messages\nreceived: a (buffer: 1/100)\nreceived: b (buffer: 0/100)\nreceiver done\n',
    );
  });
});
