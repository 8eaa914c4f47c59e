/** The commander program: global settings and one registration per command. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { CliContext } from './context.js';
import { writeQuietly } from './output.js';
import { registerSend } from './commands/send.js';
import { registerReceive } from './commands/receive.js';
import { registerDemo } from './commands/demo.js';
import { registerBench } from './commands/bench.js';
import { registerStat } from './commands/stat.js';
import { registerPeek } from './commands/peek.js';
import { registerCreate } from './commands/create.js';
import { registerRm } from './commands/rm.js';
import { registerCompletion } from './commands/completion.js';
import { registerCounter } from './commands/counter.js';
import { registerBridge } from './commands/bridge.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export function buildProgram(context: CliContext): Command {
  const program = new Command('mmapipc')
    .description('Message passing between processes through memory-mapped files.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => writeQuietly(context.output.out, text),
      writeErr: (text) => writeQuietly(context.output.err, text),
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
Exit codes: 0 ok, 1 failure, 2 usage, 3 not a valid ring file, 4 unsafe file,
5 message too large, 6 a cooperating process died, 7 engine unreachable (bridge),
8 engine not usable as asked (bridge), 124 timeout, 129/130/143 signals.`,
    );
  registerSend(program, context);
  registerReceive(program, context);
  registerDemo(program, context);
  registerBench(program, context);
  registerStat(program, context);
  registerPeek(program, context);
  registerCreate(program, context);
  registerRm(program, context);
  registerCompletion(program, context);
  registerCounter(program, context);
  registerBridge(program, context);
  const configure = (command: Command): void => {
    command.exitOverride().configureOutput(program.configureOutput());
    command.commands.forEach(configure); // bridge's export, import, stat
  };
  program.commands.forEach(configure);
  return program;
}
