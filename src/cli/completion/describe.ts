/**
 * What shell completion needs to know about the program, read from the commander program itself
 * (through its own Help, so hidden options and commands stay hidden): every command and
 * subcommand, each level's options, and what an option's value or a command's argument can be.
 * The bash, zsh and fish scripts are all written from this one tree, so none can drift from the
 * CLI.
 */
import type { Command, Help, Option } from 'commander';
import { isRepeatable, offeredValues } from '../completion-values.js';

export interface ValueSpec {
  /** What the value is called in help: path, n, duration... */
  readonly name: string;
  /** `<value>` must follow the option; `[value]` may. */
  readonly required: boolean;
  /** Words worth offering (choices, or names the option declared with offerValues). */
  readonly words?: readonly string[];
  /** The value is a file name. */
  readonly files: boolean;
}

export interface OptionSpec {
  /** Short first when there is one: ['-f', '--file']. */
  readonly names: readonly string[];
  readonly description: string;
  /** Undefined for a flag. */
  readonly value?: ValueSpec;
  /** May be given more than once (stat --file). */
  readonly repeatable: boolean;
}

export interface CommandSpec {
  /** Its name, then its aliases. */
  readonly names: readonly string[];
  /** The command names from the program down to this one: [] for the program, ['group', 'create']. */
  readonly path: readonly string[];
  readonly description: string;
  readonly options: readonly OptionSpec[];
  /** Words for the command's arguments: argument choices, or for `help` its sibling commands. */
  readonly words: readonly string[];
  readonly commands: readonly CommandSpec[];
  /**
   * False for commander's implicit `help [command]`: it is completed after it is typed, but not
   * offered beside the real subcommands (`--help` says the same, and `group <TAB>` should show
   * the group commands only).
   */
  readonly offered: boolean;
}

/** A value is a file name when help calls it one (<path>, <file>). */
const isFileValue = (name: string) => /path|file/i.test(name);

function optionSpec(option: Option): OptionSpec {
  const name = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? 'value';
  const words = offeredValues(option);
  return {
    names: [option.short, option.long].filter((flag): flag is string => Boolean(flag)),
    description: option.description,
    value:
      option.required || option.optional
        ? { name, required: option.required, files: isFileValue(name), ...(words === undefined ? {} : { words }) }
        : undefined,
    repeatable: isRepeatable(option),
  };
}

/** `helpFor` is given for commander's implicit help command: the names it completes. */
function commandSpec(command: Command, path: readonly string[], helpFor?: readonly string[]): CommandSpec {
  const help: Help = command.createHelp();
  const visible = help.visibleCommands(command);
  // The implicit help command is one Help lists but that is not among command.commands.
  const real = visible.filter((sub) => command.commands.includes(sub));
  return {
    names: [command.name(), ...command.aliases()],
    path,
    description: command.description(),
    options: help.visibleOptions(command).map(optionSpec),
    words: helpFor ?? help.visibleArguments(command).flatMap((argument) => argument.argChoices ?? []),
    commands: visible.map((sub) =>
      commandSpec(sub, [...path, sub.name()], real.includes(sub) ? undefined : real.map((each) => each.name())),
    ),
    offered: helpFor === undefined,
  };
}

/** The program's tree of commands, options and the words each place can take. */
export function describeProgram(program: Command): CommandSpec {
  return commandSpec(program, []);
}

/** Every command in the tree, the program first, parents before their subcommands. */
export function allCommands(spec: CommandSpec): CommandSpec[] {
  return [spec, ...spec.commands.flatMap(allCommands)];
}

/** Every name of every option. */
export const optionNames = (options: readonly OptionSpec[]): string[] => options.flatMap((option) => [...option.names]);

/** The words offered where a word that is not an option goes: subcommands and argument words. */
export const commandWords = (spec: CommandSpec): string[] => [
  ...spec.commands.filter((sub) => sub.offered).flatMap((sub) => [...sub.names]),
  ...spec.words,
];

/** A path as the scripts key it: '' for the program, 'group create'. */
export const pathKey = (path: readonly string[]): string => path.join(' ');

/** A shell function name for a command: _mmapipc, _mmapipc_group_create. */
export const functionName = (program: string, path: readonly string[]): string =>
  `_${[program, ...path].join('_').replace(/[^A-Za-z0-9_]/g, '_')}`;
