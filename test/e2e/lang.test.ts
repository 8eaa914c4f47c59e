/**
 * `--lang ko`: mmapipc prints the Korean lines of the tutorial's programs. Every expected line is
 * built from their printf formats, kept as test data in test/helpers/classic-lines.ts, never
 * from mmapipc's own texts.
 */
import { COUNTER_DEFAULTS } from '../../src/cli/commands/counter.js';
import { ENGLISH } from '../../src/cli/texts.js';
import { DEFAULT_SLOT_COUNT } from '../../src/layout/ring-layout.js';
import { CLASSIC_SLOT_COUNT } from '../../src/classic/classic-layout.js';
import { expectedTotal } from '../../src/counter/counter.js';
import { ExitCode } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { COUNTER_LINES, MESSAGE_LINES, cFormat, formatPattern } from '../helpers/classic-lines.js';
import { tempDir } from '../helpers/temp.js';

const { senderStart, message: messageText, sent: sentLine, senderDone, receiverStart, received: receivedLine, receiverDone } = MESSAGE_LINES;
const { childStart, childLog, childStep, childDone, parentStart, parentLog, parentStep, parentDone } = COUNTER_LINES;
const { title, rule, finalTitle, final: finalValue, logTitle } = COUNTER_LINES;
/** The demo's run: 20 messages. */
const DEMO_COUNT = 20;

const temp = tempDir();
afterAll(() => temp.remove());

describe.each(['ring', 'classic'])('send and receive --lang ko, --layout %s', (layout) => {
  // The C code prints a literal 100; mmapipc prints the ring's capacity, 100 by default.
  const capacity = layout === 'classic' ? CLASSIC_SLOT_COUNT : DEFAULT_SLOT_COUNT;

  test("print the tutorial's sender and receiver lines, character for character", async () => {
    expect(capacity).toBe(100);
    const file = temp.file(`ko-${layout}`);
    const sent = await runCli(['send', '--demo', '--lang', 'ko', '--interval', '0', '--layout', layout, '--file', file]);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    const expectedSent = [cFormat(senderStart)];
    for (let i = 0; i < DEMO_COUNT; i++) expectedSent.push(cFormat(sentLine, i, i + 1));
    expectedSent.push(cFormat(senderDone));
    expect(sent.stdout).toBe(expectedSent.join(''));

    const received = await runCli(['receive', '--demo', '--lang', 'ko', '--interval', '0', '--layout', layout, '--file', file]);
    expect(received).toMatchObject({ code: 0, stderr: '' });
    // The tutorial prints message_count - 1 after reading: what is left once this one is taken.
    const expectedReceived = [cFormat(receiverStart)];
    for (let i = 0; i < DEMO_COUNT; i++) expectedReceived.push(cFormat(receivedLine, cFormat(messageText, i), DEMO_COUNT - 1 - i));
    expectedReceived.push(cFormat(receiverDone));
    expect(received.stdout).toBe(expectedReceived.join(''));
  });
});

test('send sends the Korean message text with --lang ko, even without --demo output', async () => {
  const file = temp.file('ko-text');
  expect(await runCli(['send', '--demo', '--lang', 'ko', '--quiet', '--count', '3', '--interval', '0', '--file', file])).toMatchObject({ code: 0, stdout: '' });
  const received = await runCli(['receive', '--count', '3', '--file', file]);
  expect(received.stdout).toBe([0, 1, 2].map((i) => `${cFormat(messageText, i)}\n`).join(''));
});

test('English stays the default', async () => {
  const file = temp.file('en');
  const sent = await runCli(['send', '--demo', '--count', '1', '--file', file]);
  expect(sent.stdout).toBe(`${ENGLISH.senderStart}\n${ENGLISH.sent(ENGLISH.demoMessage(0), 0, 1, DEFAULT_SLOT_COUNT)}\n${ENGLISH.senderDone}\n`);
  const received = await runCli(['receive', '--demo', '--count', '1', '--file', file]);
  expect(received.stdout).toBe(`${ENGLISH.receiverStart}\n${ENGLISH.received(ENGLISH.demoMessage(0), 0, DEFAULT_SLOT_COUNT)}\n${ENGLISH.receiverDone}\n`);
});

test.each([['send'], ['receive'], ['counter'], ['demo']])('%s refuses an unknown --lang with exit 2 and one line', async (command) => {
  const result = await runCli([command, '--lang', 'fr', '--file', temp.file('never')].slice(0, command === 'counter' ? 3 : 5));
  expect(result.code).toBe(ExitCode.usage);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^mmapipc: option '--lang <lang>' argument 'fr' is invalid\. Allowed choices are en, ko\..*\n$/);
});

test("counter --lang ko prints the tutorial's lines, its final value and its log", async () => {
  const d = COUNTER_DEFAULTS;
  const result = await runCli(['counter', '--lang', 'ko', '--parent-delay', '0', '--child-delay', '0']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const lines = result.stdout.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.slice(0, 2)).toEqual([cFormat(title).trimEnd(), cFormat(rule).trimEnd()]);

  // The running part: each line is exactly one of the processes' printf lines.
  const finalAt = lines.indexOf(cFormat(finalTitle).trim());
  expect(finalAt).toBeGreaterThan(1);
  const formats = { childStart, childStep, childDone, parentStart, parentStep, parentDone } as Record<string, string>;
  const seen: Record<string, number[][]> = {};
  for (const line of lines.slice(2, finalAt - 1)) {
    const hits = Object.entries(formats).flatMap(([name, format]) => {
      const match = formatPattern(format).exec(line);
      return match ? [[name, match.slice(1).map(Number)] as const] : [];
    });
    expect(hits.map(([name]) => name)).toHaveLength(1);
    const [name, values] = hits[0]!;
    (seen[name] ??= []).push(values);
  }
  expect(lines[finalAt - 1]).toBe(''); // the "\n" that opens "\n=== 최종 결과 ===\n"
  const [childPid] = seen.childStart![0]!;
  const [parentPid] = seen.parentStart![0]!;
  expect(seen.childStart).toHaveLength(1);
  expect(seen.parentStart).toHaveLength(1);
  expect(seen.childDone).toEqual([[]]);
  expect(seen.parentDone).toEqual([[]]);
  expect(seen.childStep!.map(([before, after]) => after! - before!)).toEqual(Array(d.childIterations).fill(d.childStep));
  expect(seen.parentStep!.map(([before, after]) => after! - before!)).toEqual(Array(d.parentIterations).fill(d.parentStep));

  const total = expectedTotal({ iterations: d.parentIterations, step: d.parentStep }, d.children, { iterations: d.childIterations, step: d.childStep });
  const tail = lines.slice(finalAt);
  expect(tail.slice(0, 4)).toEqual([cFormat(finalTitle).trim(), cFormat(finalValue, total).trimEnd(), '', cFormat(logTitle).trim()]);
  // The log: one line per step in counter order, in the C code's English formats, values chaining.
  const log = tail.slice(4);
  expect(log).toHaveLength(d.childIterations + d.parentIterations);
  let value = 0;
  for (const line of log) {
    const child = formatPattern(childLog).exec(line);
    const parent = formatPattern(parentLog).exec(line);
    const [pid, before, after] = (child ?? parent)!.slice(1).map(Number);
    expect(pid).toBe(child ? childPid : parentPid);
    expect(before).toBe(value);
    value = after!;
  }
  expect(value).toBe(total);
});

test('demo --lang ko passes the language to both of its processes', async () => {
  const result = await runCli(['demo', '--lang', 'ko', '--count', '2', '--file', temp.file('demo')]);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const lines = result.stdout.split('\n').map((line) => line.replace(/^(receiver|sender)\s*│ /, '$1 '));
  expect(lines).toContain(`sender ${cFormat(senderStart).trimEnd()}`);
  expect(lines).toContain(`sender ${cFormat(senderDone).trimEnd()}`);
  expect(lines).toContain(`receiver ${cFormat(receiverStart).trimEnd()}`);
  expect(lines).toContain(`receiver ${cFormat(receiverDone).trimEnd()}`);
  const received = lines.filter((line) => line.startsWith('receiver ') && formatPattern(receivedLine).test(line.slice('receiver '.length)));
  expect(received.map((line) => formatPattern(receivedLine).exec(line.slice('receiver '.length))![1])).toEqual([0, 1].map((i) => cFormat(messageText, i)));
});
