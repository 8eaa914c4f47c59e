/**
 * The docs say what the code does: the file sizes the docs quote (expected values read from the
 * docs' text, compared with the layout module), every command's --help has examples that use
 * its own options, and the README's shell blocks run as written in a temp dir (those that need
 * no server or long-running process; the others are listed here with the reason).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { FORMAT_VERSION, ringGeometry, type RingGeometry } from '../../src/layout/ring-layout.js';
import { FULL_RUN_TIME } from '../../src/cli/commands/bench.js';
import { buildProgram } from '../../src/cli/program.js';
import { processOutput } from '../../src/cli/output.js';
import { BIN, cliEnv, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const doc = (name: string) => readFileSync(`${ROOT}/${name}`, 'utf8');
const dir = tempDir('mmapipc-docs-');
afterAll(() => dir.remove());

const fileLength = (slots: number, slotSize: number) => (ringGeometry(slots, slotSize) as RingGeometry).fileLength;
const number = (text: string) => Number(text.replace(/,/g, ''));

// Format sizes, in one place: when the ring format changes, these quotes in the docs change with it.
test('file sizes and the format version quoted in docs/stat.md and docs/safety.md match the layout module', () => {
  const stat = doc('docs/stat.md');
  const statLine = /ring format v(\d+), ([\d,]+) slots × ([\d,]+) bytes, largest message [\d,]+ bytes, file ([\d,]+) bytes/.exec(stat)!;
  expect(statLine).not.toBeNull();
  expect({ version: Number(statLine[1]), bytes: number(statLine[4]) }).toEqual({ version: FORMAT_VERSION, bytes: fileLength(number(statLine[2]), number(statLine[3])) });
  expect(stat).toContain(`the ring format version in the header (${FORMAT_VERSION})`);
  const created = /--slots (\d+) --slot-size (\d+)\ncreated \S+: \d+ slots × \d+ bytes \(largest message [\d,]+ bytes, file ([\d,]+) bytes\)/.exec(stat)!;
  expect(created).not.toBeNull();
  expect(number(created[3])).toBe(fileLength(Number(created[1]), Number(created[2])));
  const safety = doc('docs/safety.md');
  const enospc = /--slots (\d+) --slot-size (\d+) x\n.*no space left on device for the ring's (\d+) bytes/.exec(safety)!;
  expect(enospc).not.toBeNull();
  expect(Number(enospc[3])).toBe(fileLength(Number(enospc[1]), Number(enospc[2])));
  // No page describes the retired format-1 words.
  for (const page of ['docs/stat.md', 'docs/persistence.md', 'README.md']) expect({ page, stale: /positionLimit|within format v1|receiver frees the slot/.test(doc(page)) }).toEqual({ page, stale: false });
});

test('create --help states the header and default file size the code makes', async () => {
  const help = (await runCli(['create', '--help'])).stdout.replace(/\s+/g, ' ');
  expect(help).toContain('a 12,288-byte header'); // docs/format.md: align4096(9216 + 8 × 128)
  expect(help).toContain(`the defaults make a ${fileLength(100, 64).toLocaleString('en-US')}-byte file`);
});

test('the README and bench --help quote the same bench duration, and bench names no issue numbers', async () => {
  expect(doc('README.md')).toContain(`npm run bench     # the benchmark (${FULL_RUN_TIME})`);
  expect((await runCli(['bench', '--help'])).stdout).toContain(`the full run (${FULL_RUN_TIME})`);
  expect(readFileSync(`${ROOT}/src/bench/report.ts`, 'utf8')).not.toMatch(/issues? \d/);
});

test('--layout ring is the name; v1 still works, with one note on stderr', async () => {
  const ring = dir.file('layout.ring');
  expect(await runCli(['send', '--file', ring, '--layout', 'ring', 'a'])).toMatchObject({ code: 0, stderr: '' });
  const old = await runCli(['receive', '--file', ring, '--layout', 'v1', '--count', '1']);
  expect(old).toMatchObject({
    code: 0,
    stdout: 'a\n',
    stderr: "mmapipc: note: --layout v1 is now called --layout ring (mmapipc's ring file, whatever its format version); v1 still works for now\n",
  });
});

/** Every command and subcommand, as `mmapipc a b` words. */
function commandPaths(command: Command, prefix: string[] = []): Array<{ words: string[]; command: Command }> {
  return command.commands.flatMap((sub) => [{ words: [...prefix, sub.name()], command: sub }, ...commandPaths(sub, [...prefix, sub.name()])]);
}

test('every command and subcommand has an Examples section whose lines run that command with options it has', async () => {
  const program = await buildProgram({ output: await processOutput(), signal: new AbortController().signal, env: {}, stdin: process.stdin, binPath: BIN });
  const commands = commandPaths(program).filter(({ command }) => command.name() !== 'help');
  expect(commands.map(({ words }) => words.join(' '))).toEqual(expect.arrayContaining(['group create', 'group ls', 'bridge stat', 'stat']));
  const helps = await Promise.all(commands.map(({ words }) => runCli([...words, '--help'])));
  const problems: string[] = [];
  commands.forEach(({ words, command }, i) => {
    const help = helps[i]!.stdout;
    const name = `mmapipc ${words.join(' ')}`;
    const section = help.split('\nExamples:\n')[1];
    if (section === undefined) return problems.push(`${name}: no Examples section`);
    const lines = section.split('\n\n')[0]!.split('\n').map((line) => line.trim()).filter((line) => line.includes('mmapipc '));
    if (!lines.some((line) => line.includes(name))) problems.push(`${name}: no example runs it`);
    for (const line of lines) {
      // The command line ends where its description starts (two spaces) or at a pipe or redirection.
      const tokens = line.slice(line.indexOf('mmapipc ') + 'mmapipc '.length).split(/\s{2,}|\s[|>]\s/)[0]!.split(/\s+/);
      let target: Command = program;
      for (let sub = target.commands.find((c) => c.name() === tokens[0]); sub !== undefined; sub = target.commands.find((c) => c.name() === tokens[0])) {
        target = sub;
        tokens.shift();
      }
      const known = new Set([...target.options.flatMap((option) => [option.long, option.short]), '--help', '-h']);
      for (const flag of tokens.filter((token) => /^--?[a-z][a-z-]*$/.test(token))) {
        if (!known.has(flag)) problems.push(`${name}: example "${line}" uses ${flag}, which ${target.name()} does not have`);
      }
    }
    return undefined;
  });
  expect(problems).toEqual([]);
});

/** The README's ```sh blocks, by their first line. */
function readmeBlocks(): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of doc('README.md').matchAll(/```sh\n([\s\S]*?)```/g)) blocks.set(match[1]!.split('\n')[0]!, match[1]!);
  return blocks;
}

/** README blocks that need something a test cannot give them, and why. Every other one is run. */
const NOT_RUN: Record<string, string> = {
  'npm ci && npm run build && node bin/mmapipc.js demo   # install, build dist/, run the demo': 'installs and builds the clone (test/e2e/package.test.ts covers the install; the demo has its own test)',
  'mmapipc send "hello" "world"                 # two messages': 'waits forever: 1,002 messages into a 100-slot ring before any receive (issue 19 item 1)',
  'mmapipc create --file /tmp/orders.ring --slots 1024': 'starts four long-running receivers in the background',
  '# host A (10.0.0.1): senders write to /tmp/jobs; the bridge exports it to JetStream on 10.0.0.9': 'needs NATS servers on two hosts',
  'npm ci            # install (no build: nothing runs at install)': 'the development workflow itself (npm test runs this test)',
};

test('the README shell blocks run as written in a temp dir (mmapipc on PATH, the default ring there)', () => {
  const blocks = readmeBlocks();
  for (const first of Object.keys(NOT_RUN)) expect({ first, inReadme: blocks.has(first) }).toEqual({ first, inReadme: true });
  const bin = dir.file('bin');
  spawnSync('mkdir', ['-p', bin]);
  symlinkSync(BIN, `${bin}/mmapipc`);
  chmodSync(BIN, 0o755);
  const ran: string[] = [];
  for (const [first, body] of blocks) {
    if (first in NOT_RUN) continue;
    const cwd = dir.file(`block-${ran.length}`);
    spawnSync('mkdir', ['-p', cwd]);
    const result = spawnSync('bash', ['-euo', 'pipefail', '-c', body], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      env: cliEnv({ PATH: `${bin}:${process.env.PATH}`, MMAPIPC_FILE: `${cwd}/mmap_shared` }),
    });
    expect({ block: first, status: result.status, stderr: result.stderr }).toEqual({ block: first, status: 0, stderr: '' });
    ran.push(first);
    // What the blocks' comments promise.
    if (first.startsWith('mmapipc send one two three')) expect(result.stdout).toMatch(/waiting +3 of 100[\s\S]*tail 3, slowest lossless group at 0[\s\S]*\none\ntwo\nthree\n$/);
    if (first.startsWith('mmapipc send --file ./queue.ring')) expect(result.stdout).toBe('survives a restart\n');
    if (first.startsWith('mmapipc counter')) expect(result.stdout).toContain('final counter value: 40');
  }
  process.stderr.write(`docs-drift: ran ${ran.length} README blocks, ${Object.keys(NOT_RUN).length} listed as not run\n`);
  expect(ran.length).toBeGreaterThanOrEqual(3);
});
