/**
 * `--layout classic` against C: the project's own C peer of the classic layout
 * (test/fixtures/classic.c, built here with the machine's gcc, printing the lines of
 * test/helpers/classic-lines.ts) exchanges messages with mmapipc through one file, in both
 * directions, and its output is compared byte for byte. The C side changes the count without
 * atomics, so each exchange runs one side after the other (see docs/classic-layout.md): the
 * results are then exact.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CLASSIC_FILE_LENGTH,
  CLASSIC_MAX_MESSAGE_LENGTH,
  CLASSIC_SLOT_COUNT,
  CLASSIC_SLOT_LENGTH,
  CLASSIC_STRUCT_LENGTH,
  MESSAGES_OFFSET,
  MESSAGE_COUNT_OFFSET,
  READ_INDEX_OFFSET,
  WRITE_INDEX_OFFSET,
} from '../../src/classic/classic-layout.js';
import { ExitCode } from '../../src/errors.js';
import { collect, runCli, type CliResult } from '../helpers/cli.js';
import { MESSAGE_LINES, cFormat, cHeader } from '../helpers/classic-lines.js';
import { tempDir } from '../helpers/temp.js';
import { requireTool } from '../helpers/tools.js';

/** One page: what a C program that maps a fixed 4,096 bytes sees of the file. */
const PAGE_BYTES = 4096;
const FIXTURE = fileURLToPath(new URL('../fixtures/classic.c', import.meta.url));
const describeWithGcc = requireTool('gcc', 'the C interoperability tests') !== undefined ? describe : describe.skip;

/** Messages exchanged in each direction: the demo's 20. */
const COUNT = 20;
const temp = tempDir('mmapipc-classic-');
const binary = temp.file('classic');
afterAll(() => temp.remove());

const { senderStart, message: messageText, sent: sentLine, senderDone, receiverStart, received: receivedLine, receiverDone } = MESSAGE_LINES;

/** Builds classic.c with the expected lines as its LINE_* formats; any warning fails the build. */
function compile(source: string, output: string): void {
  const header = temp.file('classic-lines.h');
  writeFileSync(header, cHeader(MESSAGE_LINES));
  const result = spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-include', header, '-o', output, source], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gcc failed on ${source}:\n${result.stderr}`);
}

/** Runs a C program with umask 077, so that its open(..., 0666) makes a file only we can write (mmapipc refuses others). */
function runC(program: string, args: string[]): Promise<CliResult> {
  const child = spawn('/bin/sh', ['-c', 'umask 077 && exec "$0" "$@"', program, ...args], { stdio: 'pipe' });
  return collect(child);
}

/** `n` different messages: ASCII, Korean (3-byte UTF-8), an empty one and one of exactly the largest size. */
function messages(n: number): string[] {
  const list = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? `message ${i}` : cFormat(messageText, i)));
  list[1] = '';
  list[2] = 'x'.repeat(CLASSIC_MAX_MESSAGE_LENGTH);
  return list;
}

describeWithGcc('the classic layout with C programs', () => {
  beforeAll(() => compile(FIXTURE, binary));

  test("matches the C compiler's layout of the classic struct: size and member offsets", () => {
    const result = spawnSync(binary, ['layout'], { encoding: 'utf8' });
    expect(result.stdout.trim().split(' ').map(Number)).toEqual([
      CLASSIC_STRUCT_LENGTH,
      MESSAGE_COUNT_OFFSET,
      READ_INDEX_OFFSET,
      WRITE_INDEX_OFFSET,
      MESSAGES_OFFSET,
    ]);
  });

  test(`C sender -> mmapipc receive --layout classic: ${COUNT} messages, exactly`, async () => {
    const file = temp.file('from-c');
    const sender = await runC(binary, ['send', file, String(COUNT)]);
    expect(sender).toMatchObject({ code: 0, stderr: '' });
    const sent = Array.from({ length: COUNT }, (_, i) => cFormat(sentLine, i, i + 1));
    expect(sender.stdout).toBe([cFormat(senderStart), ...sent, cFormat(senderDone)].join(''));

    const received = await runCli(['receive', '--layout', 'classic', '--count', String(COUNT), '--file', file]);
    expect(received).toMatchObject({ code: 0, stderr: '' });
    expect(received.stdout).toBe(Array.from({ length: COUNT }, (_, i) => `${cFormat(messageText, i)}\n`).join(''));
    const stat = JSON.parse((await runCli(['stat', '--layout', 'classic', '--json', '--file', file])).stdout) as Record<string, unknown>;
    expect(stat).toMatchObject({ waiting: 0, readIndex: COUNT, writeIndex: COUNT, consistent: true });
  });

  test(`mmapipc send --layout classic -> C receiver: ${COUNT} messages, exactly`, async () => {
    const file = temp.file('to-c');
    const list = messages(COUNT);
    const sent = await runCli(['send', '--layout', 'classic', '--file', file, ...list]);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    expect(statSync(file).size).toBe(CLASSIC_FILE_LENGTH);

    const receiver = await runC(binary, ['receive', file, String(COUNT)]);
    expect(receiver).toMatchObject({ code: 0, stderr: '' });
    const lines = list.map((message, i) => cFormat(receivedLine, message, COUNT - 1 - i));
    expect(receiver.stdout).toBe([cFormat(receiverStart), ...lines, cFormat(receiverDone)].join(''));
  });

  test('both directions keep working across the end of the array (slot 99 to slot 0)', async () => {
    const file = temp.file('wrap');
    const start = CLASSIC_SLOT_COUNT - COUNT / 2;
    const filler = Array.from({ length: start }, (_, i) => `filler ${i}`);
    expect(await runCli(['send', '--layout', 'classic', '--quiet', '--file', file], { input: `${filler.join('\n')}\n` })).toMatchObject({ code: 0 });
    expect((await runCli(['receive', '--layout', 'classic', '--count', String(start), '--file', file])).stdout).toBe(`${filler.join('\n')}\n`);

    expect(await runC(binary, ['send', file, String(COUNT)])).toMatchObject({ code: 0 });
    const received = await runCli(['receive', '--layout', 'classic', '--count', String(COUNT), '--file', file]);
    expect(received.stdout).toBe(Array.from({ length: COUNT }, (_, i) => `${cFormat(messageText, i)}\n`).join(''));

    const list = messages(COUNT);
    expect(await runCli(['send', '--layout', 'classic', '--file', file, ...list])).toMatchObject({ code: 0 });
    const receiver = await runC(binary, ['receive', file, String(COUNT)]);
    expect(receiver.stdout.split('\n').slice(1, -2)).toEqual(list.map((message, i) => cFormat(receivedLine, message, COUNT - 1 - i).trimEnd()));
    const stat = JSON.parse((await runCli(['stat', '--layout', 'classic', '--json', '--file', file])).stdout) as Record<string, unknown>;
    const end = (start + 2 * COUNT) % CLASSIC_SLOT_COUNT;
    expect(stat).toMatchObject({ waiting: 0, readIndex: end, writeIndex: end, consistent: true });
  });

  test("a receiver mapping only the file's first 4,096 bytes takes mmapipc's Korean demo messages", async () => {
    // A C receiver may map one page rather than the whole layout (the 20 slots it reads lie inside
    // it): mmapipc's file works as it is, and nothing resizes it.
    const file = temp.file('one-page');
    const sent = await runCli(['send', '--layout', 'classic', '--demo', '--lang', 'ko', '--interval', '0', '--quiet', '--file', file]);
    expect(sent).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const receiver = await runC(binary, ['receive', file, String(COUNT), String(PAGE_BYTES)]);
    expect(receiver).toMatchObject({ code: 0, stderr: '' });
    const lines = Array.from({ length: COUNT }, (_, i) => cFormat(receivedLine, cFormat(messageText, i), COUNT - 1 - i));
    expect(receiver.stdout).toBe([cFormat(receiverStart), ...lines, cFormat(receiverDone)].join(''));
    expect(MESSAGES_OFFSET + COUNT * CLASSIC_SLOT_LENGTH).toBeLessThanOrEqual(PAGE_BYTES);
    expect(readFileSync(file).length).toBe(CLASSIC_FILE_LENGTH);
    const stat = JSON.parse((await runCli(['stat', '--layout', 'classic', '--json', '--file', file])).stdout) as Record<string, unknown>;
    expect(stat).toMatchObject({ waiting: 0, readIndex: COUNT, writeIndex: COUNT, consistent: true });
  });
});

describe('the classic layout in mmapipc alone', () => {
  test('a full ring (100 messages) makes send wait, and --timeout ends the wait with exit 124', async () => {
    const file = temp.file('full');
    const list = Array.from({ length: CLASSIC_SLOT_COUNT }, (_, i) => `m${i}`);
    expect(await runCli(['send', '--layout', 'classic', '--quiet', '--file', file], { input: `${list.join('\n')}\n` })).toMatchObject({ code: 0 });
    const late = await runCli(['send', '--layout', 'classic', '--timeout', '50ms', '--file', file, 'one too many']);
    expect(late.code).toBe(ExitCode.timeout);
    expect(late.stderr).toBe(`mmapipc: ${file}: classic ring stayed full (${CLASSIC_SLOT_COUNT}/${CLASSIC_SLOT_COUNT}) for 50 ms; message 1 was not sent\n`);
    const peeked = await runCli(['peek', '--layout', 'classic', '--count', '3', '--file', file]);
    expect(peeked.stdout).toBe('m0\nm1\nm2\n');
    expect((await runCli(['receive', '--layout', 'classic', '--count', String(CLASSIC_SLOT_COUNT), '--file', file])).stdout).toBe(`${list.join('\n')}\n`);
  });

  test('refuses a file shorter than the struct, and words out of range, with exit 3', async () => {
    const short = temp.file('short');
    writeFileSync(short, Buffer.alloc(4096), { mode: 0o600 });
    const result = await runCli(['receive', '--layout', 'classic', '--file', short]);
    expect(result.code).toBe(ExitCode.badRingFile);
    expect(result.stderr).toMatch(new RegExp(`^mmapipc: ${short}: is 4096 bytes, shorter than the tutorial's struct message_buffer \\(${CLASSIC_STRUCT_LENGTH} bytes\\)`));

    const corrupt = temp.file('corrupt');
    const bytes = Buffer.alloc(CLASSIC_STRUCT_LENGTH);
    bytes.writeInt32LE(CLASSIC_SLOT_COUNT, READ_INDEX_OFFSET);
    writeFileSync(corrupt, bytes, { mode: 0o600 });
    for (const command of ['send', 'stat']) {
      const refused = await runCli([command, '--layout', 'classic', '--file', corrupt, ...(command === 'send' ? ['x'] : [])]);
      expect(refused).toMatchObject({ code: ExitCode.badRingFile, stdout: '' });
      expect(refused.stderr).toBe(`mmapipc: ${corrupt}: not a usable classic message_buffer: read_index is ${CLASSIC_SLOT_COUNT}, expected 0 to ${CLASSIC_SLOT_COUNT - 1}\n`);
    }
  });

  test('refuses a message longer than 63 bytes with exit 5, or cuts it with --truncate', async () => {
    const file = temp.file('long');
    const long = 'y'.repeat(CLASSIC_MAX_MESSAGE_LENGTH + 1);
    expect((await runCli(['send', '--layout', 'classic', '--file', file, long])).code).toBe(ExitCode.messageTooLarge);
    expect(await runCli(['send', '--layout', 'classic', '--truncate', '--file', file, long])).toMatchObject({ code: 0 });
    expect((await runCli(['receive', '--layout', 'classic', '--count', '1', '--file', file])).stdout).toBe(`${long.slice(0, CLASSIC_MAX_MESSAGE_LENGTH)}\n`);
  });
});
