/**
 * The tutorial (a copy of the project's seed, shared/seed/mmap-file-communication.ko.md, kept in
 * test/fixtures/tutorial/ so the tests need nothing outside the repository): its C programs and
 * their printf formats, so tests compare mmapipc's lines with the tutorial's own source rather
 * than retyped text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SEED_PATH = resolve(REPO_ROOT, 'test/fixtures/tutorial/mmap-file-communication.ko.md');

/** The C code blocks of the tutorial, keyed by the file name in their first comment line. */
export function seedPrograms(): Map<string, string> {
  if (!existsSync(SEED_PATH)) {
    throw new Error(`the tutorial is missing: expected it at ${SEED_PATH} (a copy of shared/seed/mmap-file-communication.ko.md)`);
  }
  const text = readFileSync(SEED_PATH, 'utf8');
  const programs = new Map<string, string>();
  for (const [, code] of text.matchAll(/```c\n([\s\S]*?)```/g)) {
    const name = /^\/\/ (\S+\.c)/.exec(code!)?.[1];
    if (name) programs.set(name, code!);
  }
  return programs;
}

function unescapeC(literal: string): string {
  return literal.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', '\\': '\\', '"': '"' })[c] ?? c);
}

/**
 * The format strings of every printf and snprintf in each function of `code`, in source order:
 * formats.get('sender') of mmap_communication.c is [start, message text, per message, done].
 */
export function formatsByFunction(code: string): Map<string, string[]> {
  const formats = new Map<string, string[]>();
  let current: string[] | undefined;
  let offset = 0;
  for (const line of code.split('\n')) {
    const start = /^[a-z][\w\s*]*?\b(\w+)\([^)]*\)\s*\{$/.exec(line);
    if (start) formats.set(start[1]!, (current = []));
    const call = /\b(?:s?n?printf)\(/.exec(line);
    if (call && current) {
      // The format is the first string literal of the call (snprintf's comes after its buffer and size).
      const rest = code.slice(offset + call.index);
      const literal = /"((?:[^"\\]|\\.)*)"/.exec(rest.slice(0, rest.indexOf(';')));
      if (literal) current.push(unescapeC(literal[1]!));
    }
    offset += line.length + 1;
  }
  return formats;
}

/** printf for the %d and %s the tutorial uses. */
export function cFormat(format: string, ...args: Array<number | string>): string {
  let next = 0;
  const result = format.replace(/%[ds]/g, () => String(args[next++]));
  if (next !== args.length) throw new Error(`format ${JSON.stringify(format)} takes ${next} arguments, got ${args.length}`);
  return result;
}

/** A regular expression matching exactly the lines `format` prints (without its newlines), capturing each %d and %s. */
export function formatPattern(format: string): RegExp {
  const body = format
    .replace(/^\n+|\n+$/g, '')
    .split(/(%[ds])/)
    .map((part) => (part === '%d' ? '(-?\\d+)' : part === '%s' ? '(.*)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}
