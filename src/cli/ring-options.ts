/** Options shared by the commands that open a ring, and opening it from them. */
import { Option, type Command } from 'commander';
import { RingFile, type RingRole } from '../ring-file/ring-file.js';
import { durationOption, parseMode, parseSlotSize, parseSlots, ringPath } from './options.js';
import type { CliContext } from './context.js';
import { note } from './output.js';

export interface RingCliOptions {
  file?: string;
  slots?: number;
  slotSize?: number;
  mode?: number;
  timeout?: number;
}

export function addFileOption(command: Command): Command {
  return command.option('-f, --file <path>', 'ring file (default: $MMAPIPC_FILE or /tmp/mmap_shared)');
}

export function addCreateOptions(command: Command): Command {
  return command
    .addOption(new Option('--slots <n>', 'slot count, when creating the ring (default 100)').argParser(parseSlots))
    .addOption(new Option('--slot-size <bytes>', 'largest message in bytes, when creating the ring (default 64)').argParser(parseSlotSize))
    .addOption(new Option('--mode <octal>', 'permissions of a new ring file (default 0600)').argParser(parseMode));
}

export function addTimeoutOption(command: Command, what: string): Command {
  return command.addOption(durationOption('-t, --timeout <duration>', `give up when ${what} takes longer: seconds (5, 0.5) or with a unit (500ms, 2m); 0: look once`));
}

/** Opens (creating when allowed) the ring named by the options; warns when explicit sizes differ. */
export function openFromOptions(
  options: RingCliOptions & { sync?: boolean },
  context: CliContext,
  role: RingRole,
  create: boolean,
): RingFile {
  const path = ringPath(options.file, context.env);
  const ring = RingFile.open(path, { create, slots: options.slots, slotSize: options.slotSize, mode: options.mode, role, sync: options.sync });
  if (!ring.created) {
    const differs =
      (options.slots !== undefined && options.slots !== ring.header.slotCount) ||
      (options.slotSize !== undefined && options.slotSize !== ring.header.slotSize);
    if (differs) {
      note(
        context.output,
        `mmapipc: ${path}: note: the ring exists with ${ring.header.slotCount} slots of ${ring.header.slotSize} bytes; --slots/--slot-size apply only when creating`,
      );
    }
  }
  return ring;
}
