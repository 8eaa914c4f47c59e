import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildProgram } from '../../src/cli/program.js';
import { processOutput } from '../../src/cli/output.js';
import { BIN, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { requireTool } from '../helpers/tools.js';

const dir = tempDir();
afterAll(() => dir.remove());

/** The command names as the program itself registers them (what completion must keep up with). */
const program = await buildProgram({ output: await processOutput(), signal: new AbortController().signal, env: {}, stdin: process.stdin, binPath: BIN });
const commandNames = program.commands.map((command) => command.name());

let bashScript = '';
beforeAll(async () => {
  const result = await runCli(['completion', 'bash']);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  bashScript = result.stdout;
  writeFileSync(dir.file('mmapipc.bash'), bashScript);
});

/** What the bash completion offers for the words typed so far (the last one being completed). */
function bashComplete(words: string[], cwd = dir.path): string[] {
  const script = `source ${JSON.stringify(dir.file('mmapipc.bash'))}
COMP_WORDS=(${words.map((word) => JSON.stringify(word)).join(' ')})
COMP_CWORD=${words.length - 1}
_mmapipc_completion
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return result.stdout.split('\n').filter((line) => line !== '');
}

test('the bash script is valid bash and offers every command name', () => {
  const check = spawnSync('bash', ['-n', dir.file('mmapipc.bash')], { encoding: 'utf8' });
  expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  expect(commandNames).toEqual(expect.arrayContaining(['send', 'receive', 'stat', 'peek', 'create', 'rm', 'completion']));
  expect(bashComplete(['mmapipc', ''])).toEqual(expect.arrayContaining([...commandNames, '--help', '--version']));
});

test('bash completes command names, each command’s options, choices and file names', () => {
  expect(bashComplete(['mmapipc', 'pe'])).toEqual(['peek']);
  expect(bashComplete(['mmapipc', 'stat', '--w'])).toEqual(['--watch']);
  for (const command of program.commands) {
    const offered = bashComplete(['mmapipc', command.name(), '-']);
    for (const option of command.options.filter((option) => !option.hidden)) {
      expect(offered).toEqual(expect.arrayContaining([option.long!]));
    }
  }
  expect(bashComplete(['mmapipc', 'completion', ''])).toEqual(expect.arrayContaining(['bash', 'zsh']));
  mkdirSync(dir.file('rings'));
  writeFileSync(dir.file('rings/queue.ring'), '');
  expect(bashComplete(['mmapipc', 'stat', '--file', 'rings/q'])).toEqual(['rings/queue.ring']);
  expect(bashComplete(['mmapipc', 'peek', '--count', ''])).toEqual([]); // a number: nothing to offer
});

test('the zsh script names every command and registers itself', async () => {
  const result = await runCli(['completion', 'zsh']);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout.startsWith('#compdef mmapipc\n')).toBe(true);
  for (const name of commandNames) expect(result.stdout).toContain(`\n        ${name})\n`);
  expect(result.stdout).toContain('compdef _mmapipc mmapipc');
  writeFileSync(dir.file('_mmapipc'), result.stdout);
});

const hasZsh = requireTool('zsh', 'the zsh completion check') !== undefined;
(hasZsh ? test : test.skip)('the zsh script is valid zsh and registers _mmapipc for mmapipc when sourced', () => {
  const check = spawnSync('zsh', ['-n', dir.file('_mmapipc')], { encoding: 'utf8' });
  expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  const load = spawnSync(
    'zsh',
    // compdef stands in for compinit's (which takes seconds to load): it records the registration.
    ['-f', '-c', `compdef() { print -r -- "compdef $*" }; source ${JSON.stringify(dir.file('_mmapipc'))} && whence -w _mmapipc`],
    { encoding: 'utf8' },
  );
  expect({ status: load.status, stdout: load.stdout, stderr: load.stderr }).toEqual({
    status: 0,
    stdout: 'compdef _mmapipc mmapipc\n_mmapipc: function\n',
    stderr: '',
  });
});

test('an unknown shell is a usage error', async () => {
  const result = await runCli(['completion', 'fish']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("'fish' is invalid");
});

test('every command added here has --help with examples', async () => {
  const names = ['stat', 'peek', 'create', 'rm', 'completion'];
  const helps = await Promise.all(names.map((name) => runCli([name, '--help'])));
  for (const [i, name] of names.entries()) {
    const help = helps[i]!;
    expect({ name, code: help.code }).toEqual({ name, code: 0 });
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain(`mmapipc ${name}`);
  }
});
