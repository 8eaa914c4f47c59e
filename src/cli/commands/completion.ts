/**
 * `mmapipc completion bash|zsh|fish`: prints a shell completion script generated from the
 * commander program itself (every command and subcommand, each level's options, the values they
 * take), so the script stays right as commands and options are added.
 */
import { Argument, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { write } from '../output.js';
import { bashScript } from '../completion/bash.js';
import { describeProgram } from '../completion/describe.js';
import { fishScript } from '../completion/fish.js';
import { zshScript } from '../completion/zsh.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

export function registerCompletion(program: Command, context: CliContext): void {
  const command = program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell: bash, zsh or fish').choices(SHELLS));
  command.addHelpText(
    'after',
    `
The script completes commands and subcommands (group <TAB>), each one's options
(bridge export --n<TAB>) and option values: file names for --file, --creds, --output;
the names --layout, --framing, --from and --to take.

Install:
  bash  this shell:  source <(mmapipc completion bash)        (or put that line in ~/.bashrc)
        every shell: mmapipc completion bash > ~/.local/share/bash-completion/completions/mmapipc
                     (loaded on demand by the bash-completion package)
  zsh   this shell:  source <(mmapipc completion zsh)         (after compinit, as in ~/.zshrc)
        every shell: mmapipc completion zsh > "\${fpath[1]}/_mmapipc"
                     (any directory on $fpath; then rm -f ~/.zcompdump and start a new zsh)
  fish  this shell:  mmapipc completion fish | source
        every shell: mmapipc completion fish > ~/.config/fish/completions/mmapipc.fish

Examples:
  source <(mmapipc completion bash)                 completion in this bash
  mmapipc completion zsh > "\${fpath[1]}/_mmapipc"   for every zsh
  mmapipc completion fish | source                  completion in this fish`,
  );
  command.action((shell: Shell) => completion(shell, program, context));
}

export async function completion(shell: Shell, program: Command, context: CliContext): Promise<void> {
  write(context.output.out, SCRIPTS[shell](describeProgram(program)));
}
