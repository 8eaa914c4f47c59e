/**
 * Parsers for option values: each turns a string into a checked value or throws a UsageError
 * that names the option, what it expects and what it got.
 */
import { InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import { parseDuration } from './duration.js';
import { DEFAULT_SLOT_COUNT, DEFAULT_SLOT_SIZE, MAX_GROUP_CAPACITY, MAX_SLOT_COUNT, MAX_SLOT_SIZE, MIN_SLOT_COUNT } from '../layout/ring-layout.js';
import type { GroupStart } from '../ring/groups.js';
import { groupId } from '../sys/accounts.js';

export const DEFAULT_RING_PATH = '/tmp/mmap_shared';

/** The ring path: --file, then $MMAPIPC_FILE, then the tutorial's /tmp/mmap_shared. */
export function ringPath(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (file === '') {
    throw new UsageError(`option '-f, --file <path>' expected a path, got an empty string; leave it out to use $MMAPIPC_FILE or ${DEFAULT_RING_PATH}`);
  }
  return file ?? (env.MMAPIPC_FILE || DEFAULT_RING_PATH);
}

function integer(value: string, min: number, max: number, what: string): number {
  const trimmed = value.trim();
  const parsed = /^[0-9]+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new InvalidArgumentError(`expected ${what} from ${min} to ${max}, got '${value}'`);
  }
  return parsed;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/**
 * A size in bytes as `truncate -s` takes it: a bare number is bytes; K, M, G, T (or KiB, MiB,
 * GiB, TiB) are powers of 1024, KB, MB, GB, TB powers of 1000.
 */
export function parseByteSize(value: string): number {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new InvalidArgumentError(`expected a size such as 65536, 64KiB, 64MiB or 1GiB, got '${value}'`);
  }
  return bytes;
}

export const parseCount = (value: string): number => integer(value, 0, Number.MAX_SAFE_INTEGER, 'a whole number');
export const parsePositive = (value: string): number => integer(value, 1, Number.MAX_SAFE_INTEGER, 'a whole number');
export const parseSlots = (value: string): number => integer(value, MIN_SLOT_COUNT, MAX_SLOT_COUNT, 'a slot count');
/** --slot-size: bytes, with the units of parseByteSize (`4096`, `4KiB`, `1MiB`), from 1 to MAX_SLOT_SIZE. */
export function parseSlotSize(value: string): number {
  const bytes = /^\s*[0-9]+\s*$/.test(value) ? Number(value.trim()) : parseByteSize(value);
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > MAX_SLOT_SIZE) {
    throw new InvalidArgumentError(`expected a slot size in bytes from 1 to ${MAX_SLOT_SIZE} (1MiB), got '${value}'`);
  }
  return bytes;
}
export const parseGroupCapacity = (value: string): number => integer(value, 1, MAX_GROUP_CAPACITY, 'a group count');
export { DEFAULT_SLOT_COUNT, DEFAULT_SLOT_SIZE };

/**
 * An option whose value is a duration (duration.ts: a bare number is seconds), parsed to
 * milliseconds. A bad value is a usage error that names the option and shows examples.
 */
export function durationOption(flags: string, description: string): Option {
  const option = new Option(flags, description);
  const name = option.long ?? option.short ?? flags;
  return option.argParser((value: string) => {
    const parsed = parseDuration(value);
    if ('reason' in parsed) throw new UsageError(`${name}: ${parsed.reason}`);
    return parsed.ms;
  });
}

/** Where a group starts or is moved to: earliest, latest, or a sequence number. */
/** The names --from and --to take besides a sequence number. */
export const GROUP_START_NAMES = ['earliest', 'latest'] as const;

export function parseGroupStart(value: string): GroupStart {
  const trimmed = value.trim();
  if ((GROUP_START_NAMES as readonly string[]).includes(trimmed)) return trimmed as GroupStart;
  if (/^[0-9]+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed))) return Number(trimmed);
  throw new InvalidArgumentError(`expected earliest, latest or a sequence number, got '${value}'`);
}

/** A group for a new ring file: a name from /etc/group, or a number. */
export function parseFileGroup(value: string): number {
  const gid = groupId(value.trim());
  if (gid === undefined) throw new InvalidArgumentError(`no group named '${value}' in /etc/group; pass a group name or a number (id -Gn lists yours)`);
  return gid;
}

/** File permission bits in octal: 600, 0660. */
export function parseMode(value: string): number {
  if (!/^0?[0-7]{3}$/.test(value.trim())) throw new InvalidArgumentError(`expected octal permission bits such as 0600 or 0660, got '${value}'`);
  const mode = parseInt(value, 8);
  if ((mode & 0o002) !== 0) throw new InvalidArgumentError(`refusing mode ${value}: a ring writable by others lets anyone inject messages`);
  return mode;
}
