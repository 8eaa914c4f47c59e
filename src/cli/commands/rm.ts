/**
 * `mmapipc rm`: removes a ring file, refusing while a process has it open (unless --force)
 * and refusing, always, a file that is not a ring.
 */
import type { Command } from 'commander';
import { describeRole } from '../../ring/inspect.js';
import { removeRingFile } from '../../ring-file/remove.js';
import type { CliContext } from '../context.js';
import { ringPath } from '../options.js';
import { note, write } from '../output.js';
import { addFileOption } from '../ring-options.js';

export interface RmOptions {
  file?: string;
  force?: boolean;
}

export function registerRm(program: Command, context: CliContext): void {
  const command = program.command('rm').description('remove a ring file (refuses while the ring is in use)');
  addFileOption(command);
  command.option('--force', 'remove it even while processes use it (they keep the old ring until they close it)');
  command.addHelpText(
    'after',
    `
A ring is in use while any process has it open (each holds a shared lock on the file);
rm then names the live senders and receivers and removes nothing. A file that is not a
ring is never removed, not even with --force: use rm(1) for that. The ring's bridge state,
<ring>.bridge/ (import cursors, statuses), is removed with it.

Examples:
  mmapipc rm                            remove /tmp/mmap_shared
  mmapipc rm --file ./q.ring --force    remove it even if a receiver is still attached

Exit codes: 0 removed, 1 in use or no such file, 3 not a ring file, 4 unsafe file (a symlink, someone else's).`,
  );
  command.action((options: RmOptions) => rm(options, context));
}

export async function rm(options: RmOptions, context: CliContext): Promise<void> {
  const path = ringPath(options.file, context.env);
  const result = removeRingFile(path, { force: options.force });
  if (result.wasInUse) {
    const who = result.participants.map((entry) => `pid ${entry.pid} (${describeRole(entry.role)})`).join(', ') || 'another process';
    note(
      context.output,
      `mmapipc: ${path}: removed while in use by ${who}; they keep the old ring until they close it, and the next sender makes a new one`,
    );
  }
  if (result.bridgeState === 'kept') {
    note(context.output, `mmapipc: ${path}.bridge: note: not removed (not a directory of yours, or it holds files no bridge made); remove it yourself if it is stale`);
  }
  if (result.uninitialised) note(context.output, `mmapipc: ${path}: note: it had no ring header (its creator died before finishing)`);
  if (context.output.out.isTTY) write(context.output.out, `removed ${path}\n`);
}
