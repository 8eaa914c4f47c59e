/**
 * Issue 18: a ring can pass 4 GiB, and carry a 64 MiB message. A 5 GiB ring of 1 MiB slots, on
 * /tmp (fallocated: no pages touched until written), with every message sent and received by
 * separate mmapipc processes. Small messages move the tail cheaply (one page of a 1 MiB slot
 * each), so the big ones land where they must: across the first window's home boundary, beyond
 * the 4 GiB file offset, and the ring wraps past its end.
 */
import { statSync } from 'node:fs';
import { MAX_SPAN_LENGTH, MAX_FILE_LENGTH, SLOT_HEADER_LENGTH, alignUp, headerLengthFor, DEFAULT_GROUP_CAPACITY } from '../../src/layout/ring-layout.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('mmapipc-big-');
afterAll(() => dir.remove());

const MiB = 2 ** 20;
/** A slot of 1 MiB less its header: a stride of exactly 1 MiB (docs/format.md §2). */
const SLOT_SIZE = MiB - SLOT_HEADER_LENGTH;
const SLOTS = 5120; // 5 GiB of slots
const FILE_LENGTH = headerLengthFor(DEFAULT_GROUP_CAPACITY) + alignUp(SLOTS * 4, 64) + SLOTS * MiB;
const DATA_OFFSET = FILE_LENGTH - SLOTS * MiB;

/** A 64 MiB message whose every 4-byte word differs from its neighbours (a misplaced page shows). */
function bigMessage(seed: number): Buffer {
  const message = Buffer.allocUnsafe(64 * MiB);
  for (let i = 0; i < message.length; i += 4) message.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  return message;
}

const lines = (from: number, count: number) => Array.from({ length: count }, (_, i) => `m${from + i}\n`).join('');

async function sendLines(file: string, from: number, count: number): Promise<void> {
  expect(await runCli(['send', '--file', file], { input: lines(from, count) })).toMatchObject({ code: 0, stderr: '' });
}

async function receiveLines(file: string, from: number, count: number): Promise<void> {
  const received = await runCli(['receive', '--file', file, '--count', String(count)]);
  expect(received).toMatchObject({ code: 0, stderr: '' });
  expect(received.stdout).toBe(lines(from, count));
}

/** Sends `message` whole from one process and receives it in another, byte for byte. */
async function roundTrip(file: string, message: Buffer): Promise<void> {
  expect(await runCli(['send', '--file', file, '--whole'], { input: message })).toMatchObject({ code: 0, stderr: '' });
  const received = await runCli(['receive', '--file', file, '--count', '1', '--framing', 'length']);
  expect(received.code).toBe(0);
  expect(received.stdoutBytes.readUInt32LE(0)).toBe(message.length);
  expect(received.stdoutBytes.subarray(4).equals(message)).toBe(true);
}

test('a 5 GiB ring carries 64 MiB messages and small ones beyond its 4 GiB offset, across its end', async () => {
  const file = dir.file('five.ring');
  const created = await runCli(['create', '--file', file, '--size', '5GiB', '--slot-size', String(SLOT_SIZE)]);
  expect(created).toMatchObject({ code: 0, stderr: '' });
  // The largest message spans 2 GiB of slots (MAX_SPAN_LENGTH), its header and the 40-byte
  // extension reserve included (docs/format.md §2).
  const largest = MAX_SPAN_LENGTH - SLOT_HEADER_LENGTH - 40;
  expect(created.stdout).toBe(
    `created ${file}: ${SLOTS} slots × ${SLOT_SIZE} bytes (largest message ${largest.toLocaleString('en-US')} bytes, file ${FILE_LENGTH.toLocaleString('en-US')} bytes), mode 0600\n`,
  );
  expect(statSync(file).size).toBe(FILE_LENGTH);
  expect(FILE_LENGTH).toBeGreaterThan(5 * 2 ** 30);

  // Positions 0-1999, then a 64 MiB message (65 slots: 2000-2064) across slot 2047, where the
  // first 4 GiB window's home range ends (data-windows.ts).
  await sendLines(file, 0, 2000);
  await receiveLines(file, 0, 2000);
  await roundTrip(file, bigMessage(1));
  // Positions 2065-4164: slots from about 4092 on start beyond the file's 4 GiB offset.
  expect(DATA_OFFSET + 4100 * MiB).toBeGreaterThan(2 ** 32);
  await sendLines(file, 2065, 2100);
  await receiveLines(file, 2065, 2100);
  // 4165-4229: a 64 MiB message wholly beyond 4 GiB.
  await roundTrip(file, bigMessage(2));
  // 4230-5119 fill the ring to its end; the last 10 lines go to slots 0-9, the next lap.
  await sendLines(file, 4230, 900);
  await receiveLines(file, 4230, 900);

  const stat = JSON.parse((await runCli(['stat', '--json', '--file', file])).stdout);
  expect(stat).toMatchObject({ slots: SLOTS, slotSize: SLOT_SIZE, maxMessageBytes: largest, fileBytes: FILE_LENGTH, tail: 5130, sent: 5002, waiting: 0 });
}, 120_000);

test('a ring one slot past the 1 TiB file limit is refused in one line (exit 2), and no file is made', async () => {
  const file = dir.file('too-big.ring');
  // 1 MiB strides: the header (12,288 bytes) and 4 bytes of sequence word per slot come first.
  const slots = 2 ** 20 - 4;
  const need = headerLengthFor(DEFAULT_GROUP_CAPACITY) + alignUp(slots * 4, 64) + slots * MiB;
  expect(need - MiB).toBeLessThanOrEqual(MAX_FILE_LENGTH); // one slot fewer fits
  expect(need).toBeGreaterThan(MAX_FILE_LENGTH);
  const result = await runCli(['create', '--file', file, '--slots', String(slots), '--slot-size', String(SLOT_SIZE)]);
  expect(result).toMatchObject({
    code: 2,
    stdout: '',
    stderr: `mmapipc: ${slots} slots of ${SLOT_SIZE} bytes need ${need} bytes, more than the ${2 ** 40}-byte (1 TiB) limit of a ring file\n`,
  });
  expect(statSync(file, { throwIfNoEntry: false })).toBeUndefined();
});
