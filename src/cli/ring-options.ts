/** Options shared by the commands that open a ring, and opening it from them. */
import { Option, type Command } from 'commander';
import { RingFile, type RingRole } from '../ring-file/ring-file.js';
import { UsageError } from '../errors.js';
import { DEFAULT_SLOT_SIZE, MIN_SLOT_COUNT, slotCountForSize } from '../layout/ring-layout.js';
import { durationOption, parseByteSize, parseFileGroup, parseGroupCapacity, parseGroupStart, parseMode, parseSlotSize, parseSlots, ringPath } from './options.js';
import type { GroupStart } from '../ring/groups.js';
import type { Gap } from '../ring/member.js';
import type { CliContext } from './context.js';
import { note } from './output.js';
import { offerValues } from './completion-values.js';
import { GROUP_START_NAMES } from './options.js';

export interface RingCliOptions {
  file?: string;
  slots?: number;
  slotSize?: number;
  /** The ring's room in bytes (slots of slotSize): another way to give the slot count. */
  size?: number;
  mode?: number;
  /** gid for a new ring file (--file-group). */
  fileGroup?: number;
  timeout?: number;
  groups?: number;
  group?: string;
  from?: GroupStart;
  lossy?: boolean;
}

export function addFileOption(command: Command): Command {
  return command.option('-f, --file <path>', 'ring file (default: $MMAPIPC_FILE or /tmp/mmap_shared)');
}

export function addCreateOptions(command: Command): Command {
  return command
    .addOption(new Option('--size <bytes>', 'room for messages in bytes, when creating the ring: 64KiB, 64MiB, 1GiB (instead of --slots)').argParser(parseByteSize))
    .addOption(new Option('--slots <n>', 'slot count, when creating the ring (default 100)').argParser(parseSlots))
    .addOption(
      new Option('--slot-size <bytes>', 'payload bytes one slot holds, when creating the ring (default 64); larger messages take several slots').argParser(parseSlotSize),
    )
    .addOption(new Option('--mode <octal>', 'permissions of a new ring file (default 0600; 0660 shares it with its group)').argParser(parseMode))
    .addOption(new Option('--file-group <group>', 'group of a new ring file (a name or a number; one of yours); default: your group, or the directory\'s when it is setgid').argParser(parseFileGroup))
    .addOption(new Option('--groups <n>', 'how many consumer groups the ring can hold, when creating it (default 8, at most 64)').argParser(parseGroupCapacity));
}

/** --group, --from, --lossy: which consumer group to receive for, and how to create it. */
export function addGroupOptions(command: Command): Command {
  return command
    .option('-g, --group <name>', 'consumer group to receive for (default: "default"); created if missing. Every group sees every message')
    .addOption(
      offerValues(new Option('--from <where>', 'where a new group starts: latest (default), earliest, or a sequence number').argParser(parseGroupStart), GROUP_START_NAMES),
    )
    .option('--lossy', 'a new group never holds senders back: it skips what they overwrite and reports each gap');
}

export function addTimeoutOption(command: Command, what: string): Command {
  return command.addOption(durationOption('-t, --timeout <duration>', `give up when ${what} takes longer: seconds (5, 0.5) or with a unit (500ms, 2m); 0: look once`));
}

/**
 * The slot count a new ring gets: --slots, or as many slots of --slot-size as --size bytes
 * hold (a slot takes its 32-byte message header plus the slot size, 8-byte aligned).
 */
export function creationSlots(options: Pick<RingCliOptions, 'slots' | 'slotSize' | 'size'>): number | undefined {
  if (options.size === undefined) return options.slots;
  if (options.slots !== undefined) throw new UsageError('--size and --slots both set how large the ring is: give one of them');
  const slotSize = options.slotSize ?? DEFAULT_SLOT_SIZE;
  const slots = slotCountForSize(options.size, slotSize);
  if (slots < MIN_SLOT_COUNT) {
    throw new UsageError(`--size ${options.size} holds ${slots} slot(s) of ${slotSize} bytes and their headers; a ring needs at least ${MIN_SLOT_COUNT}`);
  }
  return slots;
}

/** Opens (creating when allowed) the ring named by the options; warns when explicit sizes differ. */
export function openFromOptions(
  options: RingCliOptions & { sync?: boolean },
  context: CliContext,
  role: RingRole,
  create: boolean,
  onGap?: (gap: Gap) => void,
): RingFile {
  const path = ringPath(options.file, context.env);
  const slots = creationSlots(options);
  const ring = RingFile.open(path, {
    create,
    slots,
    slotSize: options.slotSize,
    mode: options.mode,
    fileGroup: options.fileGroup,
    groups: options.groups,
    role,
    sync: options.sync,
    group: role === 'receiver' || role === 'both' ? options.group : undefined,
    from: options.from,
    lossy: options.lossy,
    onGap,
  });
  if (!ring.created) {
    const differs =
      (slots !== undefined && slots !== ring.header.slotCount) ||
      (options.slotSize !== undefined && options.slotSize !== ring.header.slotSize);
    if (differs) {
      note(
        context.output,
        `mmapipc: ${path}: note: the ring exists with ${ring.header.slotCount} slots of ${ring.header.slotSize} bytes; --size/--slots/--slot-size apply only when creating`,
      );
    }
  }
  return ring;
}
