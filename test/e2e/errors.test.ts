/**
 * Bad input: a documented exit code and exactly one line on stderr, `mmapipc: <path>: <reason>`,
 * and nothing lost or half-done. Bad ring files are crafted here from the layout constants.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { ExitCode } from '../../src/errors.js';
import { checkHeader } from '../../src/layout/header.js';
import { FORMAT_VERSION, MAGIC, MAX_SLOT_COUNT, MIN_SLOT_COUNT, VERSION_OFFSET } from '../../src/layout/ring-layout.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { geometryOf, ringMemory } from '../helpers/memory-ring.js';
import { VERSION_ONE_REASON, versionOneRing } from '../helpers/v1-ring.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

/** The result of a failing run: its exit code and its single stderr line, checked for shape. */
function failure(result: CliResult, subject?: string): { code: number | null; line: string; stdout: string } {
  const lines = result.stderr.split('\n');
  expect(lines).toHaveLength(2); // one line, then the final newline
  expect(lines[1]).toBe('');
  if (subject !== undefined) expect(lines[0]!.startsWith(`mmapipc: ${subject}: `)).toBe(true);
  else expect(lines[0]!.startsWith('mmapipc: ')).toBe(true);
  return { code: result.code, line: lines[0]!, stdout: result.stdout };
}

/** A valid default ring's bytes, from the real header code. */
function ringBytes(): Buffer {
  return Buffer.from(ringMemory(100, 64).memory);
}

describe('usage errors: exit 2 and a one-line hint', () => {
  test.each([
    [['receive', '--bogus'], "unknown option '--bogus' (see 'mmapipc receive --help')"],
    [['send', '--count', 'many', 'x'], "option '-n, --count <n>' argument 'many' is invalid. expected a whole number from 0 to 9007199254740991, got 'many' (see 'mmapipc send --help')"],
    [['receive', '--count', '-1'], "option '-n, --count <n>' argument '-1' is invalid. expected a whole number from 0 to 9007199254740991, got '-1' (see 'mmapipc receive --help')"],
    [['receive', '--timeout', 'soon'], '--timeout: expected a duration such as 5, 0.25, 500ms or 2m, got "soon"'],
    [['send', '--slots', '1', 'x'], `option '--slots <n>' argument '1' is invalid. expected a slot count from ${MIN_SLOT_COUNT} to ${MAX_SLOT_COUNT}, got '1' (see 'mmapipc send --help')`],
  ])('mmapipc %j', async (args, hint) => {
    const result = failure(await runCli([...args, '--file', dir.file('usage.ring')]));
    expect(result).toEqual({ code: ExitCode.usage, line: `mmapipc: ${hint}`, stdout: '' });
  });

  test.each(['send', 'receive', 'demo'])('an empty --file (%s)', async (command) => {
    expect(failure(await runCli([command, '--file', '']))).toEqual({
      code: ExitCode.usage,
      line: "mmapipc: option '-f, --file <path>' expected a path, got an empty string; leave it out to use $MMAPIPC_FILE or /tmp/mmap_shared",
      stdout: '',
    });
  });

  test('a mistyped command or option: the suggestion stays on the one line', async () => {
    expect(failure(await runCli(['sned', 'x']))).toEqual({
      code: ExitCode.usage,
      line: "mmapipc: unknown command 'sned' (Did you mean send?) (see 'mmapipc --help')",
      stdout: '',
    });
    expect(failure(await runCli(['receive', '--cont', '3']))).toEqual({
      code: ExitCode.usage,
      line: "mmapipc: unknown option '--cont' (Did you mean --count?) (see 'mmapipc receive --help')",
      stdout: '',
    });
  });
});

// The default ring (100 slots of 64 bytes, 96 bytes each) takes messages of up to 100 × 96 − 32 − 40 = 9,528 bytes (docs/format.md §2).
const LARGEST = 9528;

describe('a message longer than the ring takes', () => {
  test('is refused with its size and the limit (exit 5), and none of the arguments is sent', async () => {
    const file = dir.file('too-long.ring');
    const result = failure(await runCli(['send', '--file', file, 'fits', 'x'.repeat(LARGEST + 1), 'also fits']), file);
    expect(result).toEqual({
      code: ExitCode.messageTooLarge,
      line: `mmapipc: ${file}: message 2 of ${LARGEST + 1} bytes is larger than the largest message this ring takes (${LARGEST} bytes); shorten it, pass --truncate, or create the ring with more room (--size)`,
      stdout: '',
    });
    const after = await runCli(['receive', '--file', file, '--timeout', '0']);
    expect(after).toMatchObject({ code: ExitCode.timeout, stdout: '' });
  });

  test('from stdin, it stops there: the lines before it are sent, none after', async () => {
    const file = dir.file('too-long-stdin.ring');
    const result = failure(await runCli(['send', '--file', file], { input: `a\n${'é'.repeat(LARGEST / 2 + 1)}\nb\n` }), file);
    expect(result.code).toBe(ExitCode.messageTooLarge);
    expect(result.line).toContain(`message 2 of ${LARGEST + 2} bytes is larger than the largest message this ring takes (${LARGEST} bytes)`);
    const after = await runCli(['receive', '--file', file, '--count', '2', '--timeout', '0']);
    expect(after).toMatchObject({ code: ExitCode.timeout, stdout: 'a\n' });
  });

  test('--truncate cuts it at a UTF-8 character boundary', async () => {
    const file = dir.file('truncate.ring');
    const message = `${'a'.repeat(LARGEST - 2)}é€🙂`; // the limit falls inside '€'
    const sent = await runCli(['send', '--file', file, '--truncate', message]); // cut to the largest message: it fills the ring
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    const received = await runCli(['receive', '--file', file, '--count', '1']);
    expect(received.stdoutBytes.equals(Buffer.from(`${'a'.repeat(LARGEST - 2)}é\n`))).toBe(true);
  });
});

describe('paths that are not a usable ring', () => {
  test.each(['send', 'receive'])('a directory: exit 3 (%s)', async (command) => {
    const path = dir.file('a-directory');
    mkdirSync(path, { recursive: true });
    const args = command === 'send' ? ['send', '--file', path, 'x'] : ['receive', '--file', path, '--count', '1'];
    expect(failure(await runCli(args), path)).toEqual({
      code: ExitCode.badRingFile,
      line: `mmapipc: ${path}: is a directory, not a ring file; pass --file with a file path`,
      stdout: '',
    });
  });

  test('a foreign file (wrong magic): exit 3, and the file is left as it was', async () => {
    const path = dir.file('foreign');
    const bytes = ringBytes();
    bytes.write('NOTARING', 0, 'latin1');
    writeFileSync(path, bytes);
    for (const args of [['send', '--file', path, 'x'], ['receive', '--file', path, '--count', '1']]) {
      expect(failure(await runCli(args), path)).toEqual({
        code: ExitCode.badRingFile,
        line: `mmapipc: ${path}: not a ring file (magic "NOTARING", expected "${MAGIC}"); remove it or pass --file`,
        stdout: '',
      });
    }
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  test('a truncated ring: exit 3', async () => {
    const path = dir.file('truncated');
    const bytes = ringBytes();
    const length = geometryOf(100, 64).headerLength + 100; // the header whole, the slots cut short
    writeFileSync(path, bytes.subarray(0, length));
    const check = checkHeader(bytes.subarray(0, length), length);
    expect(check.kind).toBe('invalid');
    const reason = check.kind === 'invalid' ? check.reason : '';
    expect(failure(await runCli(['send', '--file', path, 'x']), path)).toEqual({
      code: ExitCode.badRingFile,
      line: `mmapipc: ${path}: ${reason}; remove it or pass --file`,
      stdout: '',
    });
  });

  test('a ring of a future format version: exit 3, naming both versions', async () => {
    const path = dir.file('future');
    const bytes = ringBytes();
    bytes.writeUInt32LE(FORMAT_VERSION + 1, VERSION_OFFSET);
    writeFileSync(path, bytes);
    expect(failure(await runCli(['receive', '--file', path, '--count', '1']), path)).toEqual({
      code: ExitCode.badRingFile,
      line: `mmapipc: ${path}: has ring format version ${FORMAT_VERSION + 1}, which this mmapipc does not know (it reads version ${FORMAT_VERSION}); use the mmapipc that made it; remove it or pass --file`,
      stdout: '',
    });
  });

  test('a ring of format version 1: exit 3 from every command that reads it, saying what to do; the file is left as it was', async () => {
    const path = dir.file('version-1.ring');
    const bytes = versionOneRing(8, 32, ['still', 'waiting']);
    writeFileSync(path, bytes, { mode: 0o600 });
    const commands = [
      ['send', '--file', path, 'x'],
      ['receive', '--file', path, '--count', '1'],
      ['stat', '--file', path],
      ['peek', '--file', path],
      ['group', 'ls', '--file', path],
    ];
    for (const args of commands) {
      expect({ args, ...failure(await runCli(args), path) }).toEqual({
        args,
        code: ExitCode.badRingFile,
        line: `mmapipc: ${path}: ${VERSION_ONE_REASON}; remove it or pass --file`,
        stdout: '',
      });
    }
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  test('a ring of format version 2: exit 3 from every command that reads it, saying what it is and what to do; the file is left as it was', async () => {
    const path = dir.file('version-2.ring');
    expect((await runCli(['send', '--file', path, 'kept'])).code).toBe(0);
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(2, 8); // docs/format.md §2.1: the format version at offset 8
    writeFileSync(path, bytes);
    for (const args of [['send', '--file', path, 'x'], ['receive', '--file', path, '--count', '1'], ['stat', '--file', path], ['peek', '--file', path]]) {
      expect({ args, ...failure(await runCli(args), path) }).toEqual({
        args,
        code: ExitCode.badRingFile,
        line: `mmapipc: ${path}: is a ring of format version 2, written by an earlier mmapipc; this mmapipc reads version 3 only: drain it with the mmapipc that made it, then remove it (mmapipc rm) and let a sender create it anew; remove it or pass --file`,
        stdout: '',
      });
    }
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  test('a symlink, even to a valid ring: exit 4', async () => {
    const target = dir.file('real.ring');
    expect((await runCli(['send', '--file', target, 'kept'])).code).toBe(0);
    const link = dir.file('link.ring');
    symlinkSync(target, link);
    for (const args of [['send', '--file', link, 'x'], ['receive', '--file', link, '--count', '1']]) {
      expect(failure(await runCli(args), link)).toEqual({
        code: ExitCode.unsafeFile,
        line: `mmapipc: ${link}: is a symbolic link; refusing to follow it (it could point anywhere). Pass the real path`,
        stdout: '',
      });
    }
    expect((await runCli(['receive', '--file', target, '--count', '1'])).stdout).toBe('kept\n');
  });

  test('a missing directory: exit 1, for send and for receive', async () => {
    const path = dir.file('no/such/dir/ring');
    const send = failure(await runCli(['send', '--file', path, 'x']), path);
    expect(send).toEqual({ code: ExitCode.failure, line: `mmapipc: ${path}: the directory does not exist (open: ENOENT)`, stdout: '' });
    const receive = failure(await runCli(['receive', '--file', path, '--count', '1']), path);
    expect(receive.code).toBe(ExitCode.failure);
    expect(receive.line).toMatch(/the directory .* does not exist/);
  });
});
