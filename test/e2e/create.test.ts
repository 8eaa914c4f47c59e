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
  expect(result.stdout).toBe(`created ${file}: 8 slots × 32 bytes (largest message ${(8 * 64 - 32).toLocaleString('en-US')} bytes, file ${geometry.fileLength.toLocaleString('en-US')} bytes), mode 0600\n`);
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
