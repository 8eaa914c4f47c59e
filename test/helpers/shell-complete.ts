/**
 * What a real shell offers when TAB is pressed after a typed line, with a completion script
 * loaded: bash (the script's function driven through COMP_WORDS/COMP_CWORD, as bash's
 * `complete -F` calls it), zsh (an interactive zsh with compinit in a pseudo-terminal, through
 * zpty: its completion system runs for real, and every match it adds is reported) and fish
 * (`complete -C`). Each call runs all its lines in one shell process; results come back in order,
 * sorted and without repeats (the shells order them differently).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A string inside POSIX single quotes. */
const shQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const tidy = (words: string[]) => [...new Set(words)].sort();

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0 || result.stderr !== '') {
    throw new Error(`${command} exited ${result.status} (signal ${result.signal}): ${result.stderr}`);
  }
  return result.stdout;
}

/** Bash's words for a line: split at spaces, so a trailing space starts an empty word. */
export const bashWords = (line: string): string[] => line.split(' ');

/**
 * The bash completion for each word list (its last word being completed), calling `fn` as
 * `complete -F fn` would.
 */
export function bashComplete(script: string, fn: string, queries: string[][], cwd: string): string[][] {
  const body = queries
    .map(
      (words) => `COMP_WORDS=(${words.map(shQuote).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=()
${fn}; printf '%s\\n' "\${COMPREPLY[@]}"; printf '\\2\\n'`,
    )
    .join('\n');
  const out = run('bash', ['--norc', '--noprofile', '-c', `source ${shQuote(script)}\n${body}`], cwd);
  return out
    .split('\x02\n')
    .slice(0, queries.length)
    .map((chunk) => tidy(chunk.split('\n').filter((line) => line !== '')));
}

/** The fish completion of each line (`complete -C`), the offered words without descriptions. */
export function fishComplete(script: string, lines: string[], cwd: string): string[][] {
  const program = `source ${shQuote(script)}; for line in $argv; complete -C"$line"; printf '\\2\\n'; end`;
  const out = run('fish', ['--no-config', '-c', program, ...lines], cwd);
  return out
    .split('\x02\n')
    .slice(0, lines.length)
    .map((chunk) => tidy(chunk.split('\n').filter((line) => line !== '').map((line) => line.split('\t')[0]!)));
}

/** Drives an interactive zsh through zpty; see the file's comments. */
const ZSH_DRIVER = fileURLToPath(new URL('../fixtures/zsh-complete.zsh', import.meta.url));

/**
 * The zsh completion of each line, through the real completion system (compinit), with `load`:
 * a script sourced after compinit, or a directory put on $fpath before it (where compinit finds
 * a `#compdef` file).
 */
export function zshComplete(load: { script: string } | { fpath: string }, lines: string[], cwd: string): string[][] {
  const [fpath, script] = 'script' in load ? ['', load.script] : [load.fpath, ''];
  const out = run('zsh', ['-f', ZSH_DRIVER, fpath, script, ...lines], cwd);
  return out
    .split('\x02')
    .slice(0, lines.length)
    .map((chunk) => tidy([...chunk.matchAll(/\x01([^\x01\x04]*)\x04/g)].map((match) => match[1]!)));
}
