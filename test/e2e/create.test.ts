import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { MIN_SLOT_COUNT, ringGeometry, type RingGeometry } from '../../src/layout/ring-layout.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

test('create makes an empty ring with the given geometry and mode, and says what it made', async () => {
  const file = dir.file('made.ring');
  const geometry = ringGeometry(8, 32) as RingGeometry;
  const result = await runCli(['create', '--file', file, '--slots', '8', '--slot-size', '32', '--mode', '0600']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toBe(`created ${file}: 8 slots × 32 bytes (largest message ${(8 * 64 - 32 - 40).toLocaleString('en-US')} bytes, file ${geometry.fileLength.toLocaleString('en-US')} bytes), mode 0600\n`);
  expect(statSync(file).size).toBe(geometry.fileLength);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const stat = JSON.parse((await runCli(['stat', '--json', '--file', file])).stdout);
  expect(stat).toMatchObject({ slots: 8, slotSize: 32, waiting: 0, participants: [] });
});

test('create again fails and leaves the existing ring and its messages alone', async () => {
  const file = dir.file('twice.ring');
  expect((await runCli(['create', '--file', file, '--slots', '4'])).code).toBe(0);
  expect((await runCli(['send', '--file', file, 'kept'])).code).toBe(0);
  const again = await runCli(['create', '--file', file, '--slots', '16']);
  expect(again.code).toBe(1);
  expect(again.stderr).toBe(`mmapipc: ${file}: already exists; remove it first (mmapipc rm), or pass another --file\n`);
  const received = await runCli(['receive', '--file', file, '--count', '1']);
  expect(received.stdout).toBe('kept\n');
  expect(JSON.parse((await runCli(['stat', '--json', '--file', file])).stdout).slots).toBe(4);
});

test('create refuses to overwrite a file that is not a ring', async () => {
  const file = dir.file('notes.txt');
  writeFileSync(file, 'precious\n');
  const result = await runCli(['create', '--file', file]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('already exists');
  expect(readFileSync(file, 'utf8')).toBe('precious\n');
});

test('bad geometry and modes are usage errors', async () => {
  const file = dir.file('bad.ring');
  const zero = await runCli(['create', '--file', file, '--slots', '0']);
  expect(zero.code).toBe(2);
  expect(zero.stderr).toContain(`expected a slot count from ${MIN_SLOT_COUNT}`);
  const open = await runCli(['create', '--file', file, '--mode', '0666']);
  expect(open.code).toBe(2);
  expect(open.stderr).toContain('writable by others');
});

// docs/format.md §2: a slot of the default 64-byte slot size is 96 bytes; a message of L bytes takes ceil((32 + L) / 96) of them.
test('--size gives the ring that many bytes of slots (units as truncate -s), and its largest message', async () => {
  const file = dir.file('sized.ring');
  const result = await runCli(['create', '--file', file, '--size', '64KiB']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  // 65,536 / 96 = 682 slots; the largest message fills them but the 40 bytes kept for an extension: 682 × 96 − 32 − 40 = 65,400 bytes.
  expect(result.stdout).toMatch(/^created \S+: 682 slots × 64 bytes \(largest message 65,400 bytes, file [\d,]+ bytes\), mode 0600\n$/);
  const stat = JSON.parse((await runCli(['stat', '--json', '--file', file])).stdout);
  expect(stat).toMatchObject({ slots: 682, slotSize: 64, maxMessageBytes: 65400 });
  // And a message of that size round-trips, one byte more is refused (exit 5).
  const largest = Buffer.alloc(65400, 0x61);
  expect(await runCli(['send', '--file', file, '--whole'], { input: largest })).toMatchObject({ code: 0, stderr: '' });
  const refused = await runCli(['send', '--file', file, '--whole'], { input: Buffer.alloc(65401, 0x62) });
  expect(refused.code).toBe(5);
  const received = await runCli(['receive', '--file', file, '--count', '1', '--framing', 'length']);
  expect(received.stdoutBytes.subarray(4).equals(largest)).toBe(true);
});

test.each([
  [['--size', 'abc'], "mmapipc: option '--size <bytes>' argument 'abc' is invalid. expected a size such as 65536, 64KiB, 64MiB or 1GiB, got 'abc' (see 'mmapipc create --help')"],
  [['--size', '100'], 'mmapipc: --size 100 holds 1 slot(s) of 64 bytes and their headers; a ring needs at least 2'],
  [['--size', '1MiB', '--slots', '10'], 'mmapipc: --size and --slots both set how large the ring is: give one of them'],
])('create %j is a usage error in one line (exit 2), and makes no file', async (args, line) => {
  const file = dir.file(`bad-size-${args.join('')}.ring`);
  expect(await runCli(['create', '--file', file, ...args])).toMatchObject({ code: 2, stdout: '', stderr: `${line}\n` });
  expect(statSync(file, { throwIfNoEntry: false })).toBeUndefined();
});

test('--slot-size takes units like --size (4KiB is 4096 bytes); past 1 MiB, or a TiB --size past the 1 TiB limit, is a one-line usage error and makes no file', async () => {
  const file = dir.file('units.ring');
  expect((await runCli(['create', '--file', file, '--slots', '4', '--slot-size', '4KiB'])).code).toBe(0);
  expect(JSON.parse((await runCli(['stat', '--json', '--file', file])).stdout)).toMatchObject({ slots: 4, slotSize: 4096 });
  const tooBig = dir.file('too-big.ring');
  const slot = await runCli(['create', '--file', tooBig, '--slot-size', '2MiB']);
  expect(slot.code).toBe(2);
  expect(slot.stderr).toContain("expected a slot size in bytes from 1 to 1048576 (1MiB), got '2MiB'");
  expect(slot.stderr.trimEnd().split('\n')).toHaveLength(1);
  const size = await runCli(['create', '--file', tooBig, '--size', '2TiB', '--slot-size', '1MiB']);
  expect(size.code).toBe(2);
  expect(size.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(() => statSync(tooBig)).toThrow();
});
