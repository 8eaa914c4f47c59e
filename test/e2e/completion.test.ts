import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { processOutput } from '../../src/cli/output.js';
import { BIN, runCli } from '../helpers/cli.js';
import { bashComplete, bashWords, fishComplete, zshComplete } from '../helpers/shell-complete.js';
import { tempDir } from '../helpers/temp.js';
import { requireTool } from '../helpers/tools.js';

const dir = tempDir();
afterAll(() => dir.remove());

/** The program as it registers itself: the drift check walks it, command by command. */
const program = await buildProgram({ output: await processOutput(), signal: new AbortController().signal, env: {}, stdin: process.stdin, binPath: BIN });

/** Every visible command under `command`, with the words typed to reach it. */
function commandsUnder(command: Command, typed: string[] = []): Array<{ typed: string[]; command: Command }> {
  return command.commands.flatMap((sub) => {
    const here = [...typed, sub.name()];
    return [{ typed: here, command: sub }, ...commandsUnder(sub, here)];
  });
}
const visibleLongOptions = (command: Command) => command.options.filter((option) => !option.hidden).map((option) => option.long!);

// What the README and each command's --help promise (typed here, not read from the program).
const TOP_LEVEL = ['bench', 'bridge', 'completion', 'counter', 'create', 'demo', 'fork-counter', 'group', 'peek', 'receive', 'request', 'rm', 'send', 'serve', 'stat'];
const GROUP_COMMANDS = ['create', 'ls', 'reset', 'rm', 'set'];
const BRIDGE_COMMANDS = ['export', 'import', 'stat'];
/** The lines every shell must complete alike, and what each offers. */
const COMMON: Array<[string, string[]]> = [
  ['mmapipc ', TOP_LEVEL],
  ['mmapipc gr', ['group']],
  ['mmapipc group ', GROUP_COMMANDS],
  ['mmapipc group r', ['reset', 'rm']],
  ['mmapipc bridge ', BRIDGE_COMMANDS],
  ['mmapipc bridge export --n', ['--name', '--nats']],
  ['mmapipc bridge import --n', ['--name', '--nats', '--new', '--no-origin']],
  ['mmapipc send --fr', ['--framing']],
  ['mmapipc send --framing ', ['jsonl', 'length', 'lines', 'null', 'whole']],
  ['mmapipc receive --framing ', ['jsonl', 'length', 'lines', 'null']],
  ['mmapipc stat --layout ', ['classic', 'ring']],
  ['mmapipc receive --from ', ['earliest', 'latest']],
  ['mmapipc group create --from ', ['earliest', 'latest']],
  ['mmapipc group reset --to ', ['earliest', 'latest']],
  ['mmapipc group create --l', ['--lossy']],
  ['mmapipc group set --lo', ['--lossless', '--lossy']],
  // the option's value (rm) is not the rm command: the path stays `group create`
  ['mmapipc group create --file rm --l', ['--lossy']],
  ['mmapipc stat --file a --f', ['--file']], // stat takes several rings
  ['mmapipc completion ', ['bash', 'fish', 'zsh']],
  ['mmapipc peek --count ', []], // a number: nothing to offer
  ['mmapipc stat --file rings/q', ['rings/queue.ring']],
];

let scripts: Record<'bash' | 'zsh' | 'fish', string>;
beforeAll(async () => {
  const results = await Promise.all((['bash', 'zsh', 'fish'] as const).map((shell) => runCli(['completion', shell])));
  for (const result of results) expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  scripts = { bash: dir.file('mmapipc.bash'), zsh: dir.file('_mmapipc'), fish: dir.file('mmapipc.fish') };
  writeFileSync(scripts.bash, results[0]!.stdout);
  writeFileSync(scripts.zsh, results[1]!.stdout);
  writeFileSync(scripts.fish, results[2]!.stdout);
  mkdirSync(dir.file('rings'));
  writeFileSync(dir.file('rings/queue.ring'), '');
});

describe('bash', () => {
  const complete = (queries: string[][]) => bashComplete(scripts.bash, '_mmapipc_completion', queries, dir.path);

  test('completes commands, subcommands, each level’s options and their values', () => {
    const offered = complete(COMMON.map(([line]) => bashWords(line)));
    expect(COMMON.map(([line], i) => [line, offered[i]])).toEqual(COMMON);
  });

  test('sourcing the script registers its function for mmapipc', () => {
    const result = spawnSync('bash', ['--norc', '--noprofile', '-c', `source ${scripts.bash} && complete -p mmapipc`], { encoding: 'utf8' });
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
      status: 0,
      stdout: 'complete -F _mmapipc_completion mmapipc\n',
      stderr: '',
    });
  });

  test('completes --option=value as bash splits it at "="', () => {
    expect(
      complete([
        ['mmapipc', 'stat', '--layout', '=', ''],
        ['mmapipc', 'stat', '--layout', '=', 'c'],
        ['mmapipc', 'stat', '--layout', '='],
        ['mmapipc', 'stat', '--layout', '=', 'classic', '--j'],
      ]),
    ).toEqual([['classic', 'ring'], ['classic'], ['classic', 'ring'], ['--json']]);
  });

  test('help completes the commands it can describe, at the top and in a group', () => {
    expect(complete([bashWords('mmapipc help '), bashWords('mmapipc group help ')])).toEqual([
      TOP_LEVEL.filter((name) => name !== 'fork-counter'),
      GROUP_COMMANDS,
    ]);
  });

  test('every command and subcommand the program registers is offered with every visible option', () => {
    const all = commandsUnder(program);
    const parents = [program, ...all.map((each) => each.command)].filter((command) => command.commands.length > 0);
    const typedTo = (command: Command) => (command === program ? [] : all.find((each) => each.command === command)!.typed);
    const offered = complete([
      ...all.map(({ typed }) => ['mmapipc', ...typed, '-']),
      ...parents.map((parent) => ['mmapipc', ...typedTo(parent), '']),
    ]);
    all.forEach(({ typed, command }, i) => {
      expect({ typed, offered: offered[i] }).toEqual({ typed, offered: expect.arrayContaining([...visibleLongOptions(command), '--help']) });
    });
    parents.forEach((parent, i) => {
      const names = parent.commands.flatMap((sub) => [sub.name(), ...sub.aliases()]);
      expect({ parent: parent.name(), offered: offered[all.length + i] }).toEqual({ parent: parent.name(), offered: [...names].sort() });
    });
    expect(all.map(({ typed }) => typed.join(' '))).toEqual(expect.arrayContaining(['group ls', 'group set', 'bridge export', 'bridge stat']));
  });
});

const hasZsh = requireTool('zsh', 'the zsh completion tests') !== undefined;
(hasZsh ? describe : describe.skip)('zsh', () => {
  test('through compinit in an interactive zsh: commands, subcommands, options and values', () => {
    const offered = zshComplete({ script: scripts.zsh }, COMMON.map(([line]) => line), dir.path);
    // zsh's _files adds the file name after the directory typed.
    const expected = COMMON.map(([line, words]): [string, string[]] => [line, line.endsWith('rings/q') ? ['queue.ring'] : words]);
    expect(COMMON.map(([line], i) => [line, offered[i]])).toEqual(expected);
  }, 60_000);

  test('autoloaded from $fpath as _mmapipc, as the help tells', () => {
    const fpath = dir.file('zfunc');
    mkdirSync(fpath);
    copyFileSync(scripts.zsh, `${fpath}/_mmapipc`);
    expect(zshComplete({ fpath }, ['mmapipc group ', 'mmapipc bridge export --n'], dir.path)).toEqual([GROUP_COMMANDS, ['--name', '--nats']]);
  }, 60_000);
});

const hasFish = requireTool('fish', 'the fish completion tests') !== undefined;
(hasFish ? describe : describe.skip)('fish', () => {
  test('complete -C: commands, subcommands, options and values', () => {
    const offered = fishComplete(scripts.fish, COMMON.map(([line]) => line), dir.path);
    expect(COMMON.map(([line], i) => [line, offered[i]])).toEqual(COMMON);
  });

  test('a group named like a command is a name, not that command', () => {
    expect(fishComplete(scripts.fish, ['mmapipc group create rm -', 'mmapipc group rm --'], dir.path)).toEqual([
      ['--file', '--from', '--help', '--json', '--lossy', '-f', '-h'],
      ['--file', '--help', '--json'],
    ]);
  });
});

test('an unknown shell is a usage error naming the shells', async () => {
  const result = await runCli(['completion', 'tcsh']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("'tcsh' is invalid");
  expect(result.stderr).toContain('bash, zsh, fish');
});

test('completion --help tells how to install it in each shell', async () => {
  const help = await runCli(['completion', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('source <(mmapipc completion bash)');
  expect(help.stdout).toContain('~/.local/share/bash-completion/completions/mmapipc');
  expect(help.stdout).toContain('mmapipc completion zsh > "${fpath[1]}/_mmapipc"');
  expect(help.stdout).toContain('mmapipc completion fish | source');
  expect(help.stdout).toContain('~/.config/fish/completions/mmapipc.fish');
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
