/**
 * `mmapipc create`: makes a new, empty ring with the given geometry; fails if anything is
 * already at the path (send creates rings on demand too, but only with its defaults in mind).
 */
import type { Command } from 'commander';
import { lstatSync, statSync } from 'node:fs';
import { MmapipcError, UsageError } from '../../errors.js';
import { DEFAULT_GROUP_CAPACITY, EXTENSION_RESERVE, SLOT_HEADER_LENGTH, headerLengthFor, ringGeometry, type RingGeometry } from '../../layout/ring-layout.js';
import { RingFile } from '../../ring-file/ring-file.js';
import { describeGroup } from '../../sys/accounts.js';
import type { CliContext } from '../context.js';
import { DEFAULT_SLOT_COUNT, DEFAULT_SLOT_SIZE, ringPath } from '../options.js';
import { note, write } from '../output.js';
import { addCreateOptions, addFileOption, creationSlots, type RingCliOptions } from '../ring-options.js';

export type CreateOptions = Pick<RingCliOptions, 'file' | 'slots' | 'slotSize' | 'size' | 'mode' | 'groups' | 'fileGroup'>;

const DEFAULT_MODE = 0o600;
const HEADER_BYTES = headerLengthFor(DEFAULT_GROUP_CAPACITY).toLocaleString('en-US');
const DEFAULT_GEOMETRY = ringGeometry(DEFAULT_SLOT_COUNT, DEFAULT_SLOT_SIZE) as RingGeometry;
const DEFAULT_FILE_BYTES = DEFAULT_GEOMETRY.fileLength.toLocaleString('en-US');
const DEFAULT_LARGEST = DEFAULT_GEOMETRY.maxMessageLength.toLocaleString('en-US');
const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

export function registerCreate(program: Command, context: CliContext): void {
  const command = program.command('create').description('create a new, empty ring file (fails if the path exists)');
  addFileOption(command);
  addCreateOptions(command);
  command.addHelpText(
    'after',
    `
A message takes as many slots as it needs: one slot holds a ${SLOT_HEADER_LENGTH}-byte message header and
--slot-size payload bytes (8-byte aligned), and a longer message takes consecutive slots. The
largest message fills the whole ring but ${EXTENSION_RESERVE} bytes kept for an extension (an imported
message's origin, a request's header): slots x (${SLOT_HEADER_LENGTH} + slot size) - ${SLOT_HEADER_LENGTH} - ${EXTENSION_RESERVE} bytes
(${DEFAULT_LARGEST} for the defaults), up to 2 GiB - ${SLOT_HEADER_LENGTH} - ${EXTENSION_RESERVE} bytes. The file is a ${HEADER_BYTES}-byte header
(identity, counters, the participant table and room for ${DEFAULT_GROUP_CAPACITY} consumer groups), one 4-byte sequence
word per slot, then the slots, reserved on disk up front (at most 1 TiB): the defaults make a ${DEFAULT_FILE_BYTES}-byte file.

Examples:
  mmapipc create                                   100 slots of 64 bytes at /tmp/mmap_shared
  mmapipc create --file ./q.ring --size 64MiB      room for about 64 MiB of messages
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
  const slots = creationSlots(options);
  // A ring this implementation cannot make is a bad option (exit 2), found before any file exists.
  const geometry = ringGeometry(slots ?? DEFAULT_SLOT_COUNT, options.slotSize ?? DEFAULT_SLOT_SIZE, options.groups ?? DEFAULT_GROUP_CAPACITY);
  if (typeof geometry === 'string') throw new UsageError(geometry);
  const ring = RingFile.create(path, { slots, slotSize: options.slotSize, groups: options.groups, mode, fileGroup: options.fileGroup, role: 'observer' });
  const { slotCount, slotSize, fileLength, maxMessageLength } = ring.header;
  ring.close();
  const status = statSync(path);
  const actualMode = status.mode & 0o777;
  const group = (actualMode & 0o070) !== 0 ? `, group ${describeGroup(status.gid)}` : '';
  write(
    context.output.out,
    `created ${path}: ${slotCount} slots × ${slotSize} bytes (${DEFAULT_SLOT_COUNT === slotCount && DEFAULT_SLOT_SIZE === slotSize ? 'the defaults, ' : ''}largest message ${maxMessageLength.toLocaleString('en-US')} bytes, file ${fileLength.toLocaleString('en-US')} bytes), mode ${octal(actualMode)}${group}\n`,
  );
  if (actualMode !== mode) {
    note(
      context.output,
      `mmapipc: ${path}: note: asked for mode ${octal(mode)}, got ${octal(actualMode)} (your umask removed ${octal(mode & ~actualMode)}); run chmod ${octal(mode)} on it if you need them`,
    );
  }
}
