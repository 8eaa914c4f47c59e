/** The commander program: global settings and one registration per command. */
import { Command } from 'commander';
import { VERSION } from './version.js';
import type { CliContext } from './context.js';
import { writeQuietly } from './output.js';
import { EXIT_CODE_SUMMARY } from '../errors.js';

/** "0 ok, 1 failure, ..." wrapped for help: the summary in src/errors.ts, never retyped. */
function exitCodeHelp(): string {
  const words = `Exit codes: ${Object.entries(EXIT_CODE_SUMMARY).map(([code, meaning]) => `${code} ${meaning}`).join(', ')}.`.split(' ');
  const lines: string[] = [];
  for (const word of words) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + word.length < 88) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.join('\n');
}

type Register = (program: Command, context: CliContext) => void;

/**
 * Every command, in the order help lists them, with the module that registers it. A module is
 * loaded only when its command may run: a one-shot `mmapipc send` loads send's code and none of
 * bench, counter, completion or the others (start-up time is most of a one-message send).
 */
const COMMANDS: ReadonlyArray<{ readonly names: readonly string[]; readonly load: () => Promise<Register> }> = [
  { names: ['send'], load: async () => (await import('./commands/send.js')).registerSend },
  { names: ['receive'], load: async () => (await import('./commands/receive.js')).registerReceive },
  { names: ['request'], load: async () => (await import('./commands/request.js')).registerRequest },
  { names: ['serve'], load: async () => (await import('./commands/serve.js')).registerServe },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemo },
  { names: ['bench'], load: async () => (await import('./commands/bench.js')).registerBench },
  { names: ['stat'], load: async () => (await import('./commands/stat.js')).registerStat },
  { names: ['peek'], load: async () => (await import('./commands/peek.js')).registerPeek },
  { names: ['create'], load: async () => (await import('./commands/create.js')).registerCreate },
  { names: ['rm'], load: async () => (await import('./commands/rm.js')).registerRm },
  { names: ['completion'], load: async () => (await import('./commands/completion.js')).registerCompletion },
  { names: ['counter', 'fork-counter'], load: async () => (await import('./commands/counter.js')).registerCounter },
  { names: ['group'], load: async () => (await import('./commands/group.js')).registerGroup },
  { names: ['bridge'], load: async () => (await import('./commands/bridge.js')).registerBridge },
];

/**
 * The commands `argv` needs: only the one it names first, or all of them for anything else (top
 * help, `help <command>`, a mistyped name that wants suggestions, and `completion`, which
 * describes the whole program).
 */
function commandsFor(argv: readonly string[] | undefined): typeof COMMANDS {
  const named = argv?.[0] === undefined ? undefined : COMMANDS.find((command) => command.names.includes(argv[0]!));
  return named === undefined || named.names[0] === 'completion' ? COMMANDS : [named];
}

export { VERSION };

/** The program for `argv` (the arguments after `mmapipc`); without argv, with every command. */
export async function buildProgram(context: CliContext, argv?: readonly string[]): Promise<Command> {
  const program = new Command('mmapipc')
    .description('Message passing between processes through memory-mapped files.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => writeQuietly(context.output.out, text),
      writeErr: (text) => writeQuietly(context.output.err, text),
      // From our streams, so that commander never makes process.stdout/stderr (see output.ts).
      getOutHelpWidth: () => context.output.out.columns, // 80 off a terminal, as commander's default
      getErrHelpWidth: () => context.output.err.columns,
      getOutHasColors: () => context.output.out.color.level > 0,
      getErrHasColors: () => context.output.err.color.level > 0,
      // Usage errors are reported by main() as one line; commander stays silent.
      outputError: () => {},
    })
    .addHelpText(
      'after',
      `
Examples:
  mmapipc demo                          the tutorial's sender and receiver, side by side
  mmapipc send "hello" "world"          two messages into /tmp/mmap_shared
  seq 1000 | mmapipc send               one message per line
  mmapipc receive --count 2             take two messages
  mmapipc receive --follow | head -3    stream until the reader stops

The ring file is --file, else $MMAPIPC_FILE, else /tmp/mmap_shared.
Durations (--timeout, --interval, ...) are seconds, fractions allowed (5, 0.25),
or carry a unit: 500ms, 2m, 1h.
${exitCodeHelp()}`,
    );
  // One after the other: no faster in Node, and jest's ESM loader fails on concurrent imports.
  for (const command of commandsFor(argv)) (await command.load())(program, context);
  const configure = (command: Command): void => {
    command.exitOverride().configureOutput(program.configureOutput());
    command.commands.forEach(configure); // subcommands: group's and bridge's
  };
  program.commands.forEach(configure);
  return program;
}
