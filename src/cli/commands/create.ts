/**
 * `mmapipc create`: makes a new, empty ring with the given geometry; fails if anything is
 * already at the path (send creates rings on demand too, but only with its defaults in mind).
 */
import type { Command } from 'commander';
import { lstatSync, statSync } from 'node:fs';
import { MmapipcError } from '../../errors.js';
import { RingFile } from '../../ring-file/ring-file.js';
import { describeGroup } from '../../sys/accounts.js';
import type { CliContext } from '../context.js';
import { DEFAULT_SLOT_COUNT, DEFAULT_SLOT_SIZE, ringPath } from '../options.js';
import { note, write } from '../output.js';
import { addCreateOptions, addFileOption, type RingCliOptions } from '../ring-options.js';

export type CreateOptions = Pick<RingCliOptions, 'file' | 'slots' | 'slotSize' | 'mode' | 'fileGroup'>;

const DEFAULT_MODE = 0o600;
const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

export function registerCreate(program: Command, context: CliContext): void {
  const command = program.command('create').description('create a new, empty ring file (fails if the path exists)');
  addFileOption(command);
  addCreateOptions(command);
  command.addHelpText(
    'after',
    `
The file takes a 4096-byte header plus one slot per message (a slot header and the
payload, 8-byte aligned), reserved on disk up front.

Examples:
  mmapipc create                                   100 slots of 64 bytes at /tmp/mmap_shared
  mmapipc create --file ./q.ring --slots 1024 --slot-size 4096
  mmapipc create --file /dev/shm/q --mode 0660 --file-group staff
                                                   shared with the members of group staff
                                                   (docs/sharing.md)

Exit codes: 0 created, 1 the path exists (or cannot be created), 2 bad option (or a
--file-group you are not a member of).`,
  );
  command.action((options: CreateOptions) => create(options, context));
}

export async function create(options: CreateOptions, context: CliContext): Promise<void> {
  const path = ringPath(options.file, context.env);
  if (lstatSync(path, { throwIfNoEntry: false })) {
    throw new MmapipcError('already exists; remove it first (mmapipc rm), or pass another --file', { subject: path });
  }
  const mode = options.mode ?? DEFAULT_MODE;
  const ring = RingFile.create(path, { slots: options.slots, slotSize: options.slotSize, mode, fileGroup: options.fileGroup, role: 'observer' });
  const { slotCount, slotSize, fileLength } = ring.header;
  ring.close();
  const status = statSync(path);
  const actualMode = status.mode & 0o777;
  const group = (actualMode & 0o070) !== 0 ? `, group ${describeGroup(status.gid)}` : '';
  write(
    context.output.out,
    `created ${path}: ${slotCount} slots × ${slotSize} bytes (${DEFAULT_SLOT_COUNT === slotCount && DEFAULT_SLOT_SIZE === slotSize ? 'the defaults, ' : ''}file ${fileLength.toLocaleString('en-US')} bytes), mode ${octal(actualMode)}${group}\n`,
  );
  if (actualMode !== mode) {
    note(
      context.output,
      `mmapipc: ${path}: note: asked for mode ${octal(mode)}, got ${octal(actualMode)} (your umask removed ${octal(mode & ~actualMode)}); run chmod ${octal(mode)} on it if you need them`,
    );
  }
}
