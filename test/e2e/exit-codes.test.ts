/** README's exit-code table, the codes in src/errors.ts and what `--help` says are one contract. */
import { readFileSync } from 'node:fs';
import { EXIT_CODE_SUMMARY, ExitCode } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

/** The rows of README.md's "### Exit codes" table: code → meaning. */
function readmeTable(): Map<number, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Exit codes'));
  const rows = new Map<number, string>();
  for (const line of section.split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const match = /^\| ([0-9, ]+) \| (.+) \|$/.exec(line);
    if (match) for (const code of match[1]!.split(',')) rows.set(Number(code.trim()), match[2]!);
  }
  return rows;
}

test('the README table lists exactly the exit codes src/errors.ts defines', () => {
  const codes = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);
  expect(codes(readmeTable().keys())).toEqual(codes(Object.values(ExitCode)));
  expect(codes(Object.keys(EXIT_CODE_SUMMARY).map(Number))).toEqual(codes(Object.values(ExitCode)));
});

test('mmapipc --help names every exit code with its summary', async () => {
  const help = (await runCli(['--help'])).stdout.replace(/\s*\n\s*/g, ' ');
  for (const [code, meaning] of Object.entries(EXIT_CODE_SUMMARY)) expect(help).toContain(`${code} ${meaning}`);
});

test('a bad group name exits 7, as README, mmapipc --help and group --help say', async () => {
  const file = dir.file('names.ring');
  await runCli(['create', '--file', file]);
  const bad = await runCli(['group', 'create', 'bad name', '--file', file]);
  expect(bad.code).toBe(ExitCode.group);
  expect(readmeTable().get(ExitCode.group)).toContain('a bad group name');
  expect((await runCli(['group', '--help'])).stdout.replace(/\s*\n\s*/g, ' ')).toContain('7 no such group, a bad group name');
  const receive = await runCli(['receive', '--file', file, '--group', 'bad name', '--timeout', '0']);
  expect(receive.code).toBe(ExitCode.group);
});
