/**
 * The entry point, and the only place that exits the process: it parses argv, runs the command,
 * and turns what the command threw into one line on stderr and a documented exit code.
 */
import { CommanderError } from 'commander';
import { fileURLToPath } from 'node:url';
import { ExitCode, MmapipcError } from '../errors.js';
import { installInterrupt } from './interrupt.js';
import { ClosedOutputError, processOutput, write } from './output.js';
import { buildProgram } from './program.js';

/** Commander's message as one line, with a hint at the help of the command that was meant. */
function usageLine(error: CommanderError, argv: string[], commands: string[]): string {
  // Suggestions ("(Did you mean send?)") come on a line of their own: keep the error one line.
  const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  const command = argv.find((arg) => !arg.startsWith('-'));
  const help = command !== undefined && commands.includes(command) ? `mmapipc ${command} --help` : 'mmapipc --help';
  return `${message} (see '${help}')`;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const output = await processOutput();
  const interrupt = installInterrupt((code) => process.exit(code));
  const binPath = fileURLToPath(new URL('../../bin/mmapipc.js', import.meta.url));
  let stoppedCleanly = false;
  const program = await buildProgram(
    {
      output,
      signal: interrupt.signal,
      env: process.env,
      // Made on first use: process.stdin loads Node's stream code (about 2 ms of a one-shot start).
      get stdin() {
        return process.stdin;
      },
      binPath,
      stoppedCleanly: () => (stoppedCleanly = true),
    },
    argv,
  );
  const fail = (line: string) => {
    try {
      write(output.err, `${output.err.color.red('mmapipc:')} ${line}\n`);
    } catch {
      // stderr is gone too: nothing left to tell
    }
  };
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (stoppedCleanly && interrupt.received() === 'SIGTERM') return ExitCode.ok;
    return interrupt.exitCode() ?? ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return ExitCode.ok;
      }
      if (error.code === 'commander.executeSubCommandAsync') return error.exitCode;
      fail(usageLine(error, argv, program.commands.map((command) => command.name())));
      return ExitCode.usage;
    }
    if (error instanceof ClosedOutputError) return interrupt.exitCode() ?? ExitCode.ok;
    const interrupted = interrupt.exitCode();
    if (interrupted !== undefined) return interrupted;
    if (error instanceof MmapipcError) {
      fail(error.line);
      return error.exitCode;
    }
    const detail = error instanceof Error ? error.message : String(error);
    fail(`internal error: ${detail}${process.env.MMAPIPC_DEBUG && error instanceof Error ? `\n${error.stack}` : ''}`);
    return ExitCode.failure;
  }
  // The handlers stay until the process exits: a signal in the last instant must not kill it.
}

export async function run(): Promise<void> {
  const code = await main();
  // Let pending stdout/stderr writes drain before exiting.
  process.exitCode = code;
  setImmediate(() => process.exit(code));
}
