/**
 * Hostile ring files: each is refused by the real binary with one line naming the file and the
 * reason, exit code 3, and the file is left byte for byte as it was.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ExitCode } from '../../src/errors.js';
import {
  FORMAT_VERSION,
  GROUP_DISPATCH,
  GROUP_STATE,
  MAGIC,
  MAGIC_LENGTH,
  MAX_SLOT_COUNT,
  MIN_SLOT_COUNT,
  PAGE_LENGTH,
  PARTICIPANT_PID,
  PARTICIPANT_RUN_COUNT,
  PARTICIPANT_RUN_START,
  POSITION_MASK,
  SLOT_COUNT_OFFSET,
  SLOT_HEADER_LENGTH,
  SLOT_LENGTH,
  SLOT_SPAN,
  SLOT_STRIDE_OFFSET,
  TAIL_OFFSET,
  VERSION_OFFSET,
  groupOffset,
  participantOffset,
  ringGeometry,
  sequenceOffsetOf,
  slotOffsetOf,
  type RingGeometry,
} from '../../src/layout/ring-layout.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { VERSION_ONE_REASON, versionOneRing } from '../helpers/v1-ring.js';

const dir = tempDir();
afterAll(() => dir.remove());

const SLOTS = 4;
const SLOT_SIZE = 16;
const geometry = ringGeometry(SLOTS, SLOT_SIZE) as RingGeometry;
/** After the setup below: the default group at 1, the tail at 3 (messages 1 and 2 waiting), slot 3 fresh. */
const CURSOR = 1;
const TAIL = 3;
let valid: Buffer;

beforeAll(async () => {
  const path = dir.file('valid.ring');
  const sent = await runCli(['send', '--file', path, '--slots', String(SLOTS), '--slot-size', String(SLOT_SIZE), 'a', 'b', 'c']);
  expect(sent).toMatchObject({ code: 0, stderr: '' });
  const received = await runCli(['receive', '--file', path, '--count', '1']);
  expect(received).toMatchObject({ code: 0, stdout: 'a\n' });
  valid = readFileSync(path);
  expect(valid.length).toBe(geometry.fileLength);
  const cursor = valid.readBigUInt64LE(groupOffset(0) + GROUP_DISPATCH) & POSITION_MASK; // under the last claimer's tag
  expect([cursor, valid.readBigUInt64LE(TAIL_OFFSET)]).toEqual([BigInt(CURSOR), BigInt(TAIL)]);
});

function edited(edit: (bytes: Buffer) => Buffer | void): () => Buffer {
  return () => {
    const bytes = Buffer.from(valid);
    return edit(bytes) ?? bytes;
  };
}

const slot = (index: number) => slotOffsetOf(geometry, index);
const need = `${SLOTS} slots of ${SLOT_SIZE} bytes need exactly ${geometry.fileLength}`;
const nonPrintable = Buffer.from([0xff, 0x00, 0x13, 0x37, 0x80, 0x01, 0x02, 0x7f]);

/** The first participant entry: the setup's processes have closed, so it is free. */
const entry = participantOffset(0);

const cases: Array<[string, () => Buffer, string]> = [
  [
    'random bytes',
    () => Buffer.concat([nonPrintable, Buffer.alloc(geometry.fileLength - MAGIC_LENGTH, 0xa5)]),
    `not a ring file (magic 0x${nonPrintable.toString('hex')}, expected "${MAGIC}")`,
  ],
  ['a text file', () => Buffer.from('hello world\n'.repeat(400)), `not a ring file (magic "hello wo", expected "${MAGIC}")`],
  ['a file shorter than the magic', () => Buffer.from('MMAP'), 'not a ring file (4 bytes, shorter than a ring header)'],
  [
    'a header cut short',
    edited((bytes) => bytes.subarray(0, 100)),
    `truncated ring file (100 bytes, the header alone needs at least ${PAGE_LENGTH})`,
  ],
  [
    'slots cut short',
    edited((bytes) => bytes.subarray(0, geometry.fileLength - 1)),
    `truncated ring file (${geometry.fileLength - 1} bytes, ${need})`,
  ],
  [
    'a file longer than its slots',
    edited((bytes) => Buffer.concat([bytes, Buffer.alloc(1)])),
    `sizes do not add up (${geometry.fileLength + 1} bytes, ${need})`,
  ],
  [
    'all zero',
    () => Buffer.alloc(geometry.fileLength),
    'has no ring header (all zero): its creator died before finishing, or it is not a ring file; remove it',
  ],
  ['a ring of format version 1', () => versionOneRing(SLOTS, SLOT_SIZE, ['a', 'b']), VERSION_ONE_REASON],
  [
    'a future version',
    edited((bytes) => void bytes.writeUInt32LE(FORMAT_VERSION + 1, VERSION_OFFSET)),
    `has ring format version ${FORMAT_VERSION + 1}, which this mmapipc does not know (it reads version ${FORMAT_VERSION}); use the mmapipc that made it`,
  ],
  [
    'no slots',
    edited((bytes) => void bytes.writeUInt32LE(0, SLOT_COUNT_OFFSET)),
    `corrupt ring header: slot count must be an integer from ${MIN_SLOT_COUNT} to ${MAX_SLOT_COUNT}, got 0`,
  ],
  [
    'a slot stride that does not match the slot size',
    edited((bytes) => void bytes.writeUInt32LE(geometry.slotStride + 8, SLOT_STRIDE_OFFSET)),
    `corrupt ring header: slot stride is ${geometry.slotStride + 8}, expected ${geometry.slotStride}`,
  ],
  [
    'a tail beyond 2^53',
    edited((bytes) => void bytes.writeBigUInt64LE(2n ** 53n + 2n, TAIL_OFFSET)),
    `corrupt ring header: tail position ${2 ** 53 + 2} is beyond 2^53`,
  ],
  [
    'a group cursor beyond the tail',
    edited((bytes) => void bytes.writeBigUInt64LE(BigInt(TAIL + 1), groupOffset(0) + GROUP_DISPATCH)),
    `corrupt ring: group entry 0 has its cursor at ${TAIL + 1}, beyond the tail ${TAIL}`,
  ],
  [
    'a group entry in an unknown state',
    edited((bytes) => void bytes.writeUInt32LE(7, groupOffset(1) + GROUP_STATE)),
    'corrupt ring: group entry 1 has state 7, expected 0, 1 or 2',
  ],
  [
    'a participant holding positions beyond the tail',
    edited((bytes) => {
      bytes.writeUInt32LE(999_999, entry + PARTICIPANT_PID);
      bytes.writeBigUInt64LE(BigInt(TAIL - 1), entry + PARTICIPANT_RUN_START);
      bytes.writeUInt32LE(2, entry + PARTICIPANT_RUN_COUNT);
    }),
    `corrupt ring: participant entry 0 holds positions ${TAIL - 1} to ${TAIL}, beyond the tail ${TAIL}`,
  ],
  [
    'a message slot whose sequence points elsewhere',
    edited((bytes) => void bytes.writeUInt32LE(0xdeadbeef, sequenceOffsetOf(geometry, 2))),
    `corrupt ring: slot 2 has sequence word ${0xdeadbeef}, but with the tail at ${TAIL} it can only speak for position 2 or ${2 - SLOTS}`,
  ],
  [
    'a fresh slot whose sequence is a lap ahead',
    edited((bytes) => void bytes.writeUInt32LE(3 + SLOTS + 1, sequenceOffsetOf(geometry, 3))),
    `corrupt ring: slot 3 has sequence word ${3 + SLOTS + 1}, but with the tail at ${TAIL} it can only speak for position ${3 - SLOTS}`,
  ],
  [
    'a message length its one slot cannot hold',
    edited((bytes) => void bytes.writeUInt32LE(geometry.slotStride - SLOT_HEADER_LENGTH + 1, slot(1) + SLOT_LENGTH)),
    `corrupt ring: the message at slot 1 has length ${geometry.slotStride - SLOT_HEADER_LENGTH + 1}; its 1 slot(s) hold ${geometry.slotStride - SLOT_HEADER_LENGTH} bytes of payload`,
  ],
  [
    'a negative message length',
    edited((bytes) => void bytes.writeInt32LE(-1, slot(1) + SLOT_LENGTH)),
    `corrupt ring: the message at slot 1 has length -1; its 1 slot(s) hold ${geometry.slotStride - SLOT_HEADER_LENGTH} bytes of payload`,
  ],
  [
    'a message span that passes the end of the ring',
    edited((bytes) => void bytes.writeUInt32LE(SLOTS - 1 + 1, slot(1) + SLOT_SPAN)),
    `corrupt ring: the message at slot 1 spans ${SLOTS} slots; 1 to ${SLOTS - 1} fit before the end of the ring`,
  ],
  [
    'a message span of 0',
    edited((bytes) => void bytes.writeUInt32LE(0, slot(2) + SLOT_SPAN)),
    `corrupt ring: the message at slot 2 spans 0 slots; 1 to ${SLOTS - 2} fit before the end of the ring`,
  ],
  [
    'a sequence word with bit 31 set',
    edited((bytes) => void bytes.writeUInt32LE((bytes.readUInt32LE(sequenceOffsetOf(geometry, 1)) | 0x80000000) >>> 0, sequenceOffsetOf(geometry, 1))),
    `corrupt ring: slot 1 has sequence word ${(2 | 0x80000000) >>> 0}, but with the tail at ${TAIL} it can only speak for position 1 or ${1 - SLOTS}`,
  ],
];

describe.each(['receive', 'send'])('%s refuses a hostile file', (command) => {
  test.concurrent.each(cases)('%s', async (name, make, reason) => {
    const path = dir.file(`${command}-${name.replaceAll(' ', '-')}.ring`);
    const bytes = make();
    writeFileSync(path, bytes, { mode: 0o600 });
    const args = command === 'send' ? ['send', '--file', path, 'x'] : ['receive', '--file', path, '--count', '1'];
    const result = await runCli(args);
    expect(result).toMatchObject({
      code: ExitCode.badRingFile,
      signal: null,
      stdout: '',
      stderr: `mmapipc: ${path}: ${reason}${reason.endsWith('remove it') ? '' : '; remove it or pass --file'}\n`,
    });
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });
});

test('an empty file is waited for (its creator may be about to lock it), then refused', async () => {
  const path = dir.file('empty.ring');
  writeFileSync(path, '', { mode: 0o600 });
  const result = await runCli(['receive', '--file', path, '--count', '1']);
  expect(result).toMatchObject({
    code: ExitCode.badRingFile,
    signal: null,
    stderr: `mmapipc: ${path}: is empty: it is not a ring file, or its creator died before initialising it; remove it\n`,
  });
  expect(readFileSync(path).length).toBe(0);
});

test('a valid ring that was read from still opens (the setup is not hostile by accident)', async () => {
  const path = dir.file('copy.ring');
  writeFileSync(path, valid, { mode: 0o600 });
  const result = await runCli(['receive', '--file', path, '--count', '2']);
  expect(result).toMatchObject({ code: 0, stdout: 'b\nc\n', stderr: '' });
});
