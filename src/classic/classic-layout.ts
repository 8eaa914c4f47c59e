/**
 * The tutorial's file layout (`--layout classic`, its struct message_buffer): three C ints,
 * message_count, read_index and write_index, then 100 message slots of 64 bytes each, in native
 * byte order with no padding (every member is int-aligned): 6,412 bytes. Pure: no fs, no FFI.
 *
 *   0        4        8        12                                   12 + 64 * 100 = 6412
 *   +--------+--------+--------+--------------------+-----+--------------------+
 *   | count  | read   | write  | messages[0]        | ... | messages[99]       |
 *   +--------+--------+--------+--------------------+-----+--------------------+
 *                               each 64 bytes: a C string (at most 63 bytes, then NUL)
 *
 * Protocol: the sender writes the string at messages[write_index], advances write_index, then
 * increments message_count; the receiver reads messages[read_index] while message_count > 0,
 * advances read_index, then decrements message_count. One sender and one receiver only; see
 * docs/classic-layout.md for the race on message_count.
 */

export const WORD = 4;
/** The C program's literal 100: slots in the ring. */
export const CLASSIC_SLOT_COUNT = 100;
/** The C program's literal 64: bytes per slot, including the terminating NUL. */
export const CLASSIC_SLOT_LENGTH = 64;
/** Longest message: the slot less its terminating NUL (snprintf(..., 64, ...) keeps 63). */
export const CLASSIC_MAX_MESSAGE_LENGTH = CLASSIC_SLOT_LENGTH - 1;
/** What to do about a message too long for the classic layout, whose slots are fixed. */
export const CLASSIC_REMEDY = `or use --layout ring (a classic slot holds ${CLASSIC_MAX_MESSAGE_LENGTH} bytes and a NUL)`;

let offset = 0;
export const MESSAGE_COUNT_OFFSET = offset;
offset += WORD;
export const READ_INDEX_OFFSET = offset;
offset += WORD;
export const WRITE_INDEX_OFFSET = offset;
offset += WORD;
export const MESSAGES_OFFSET = offset;
offset += CLASSIC_SLOT_COUNT * CLASSIC_SLOT_LENGTH;
/** sizeof(struct message_buffer): 6,412 bytes. */
export const CLASSIC_STRUCT_LENGTH = offset;
/**
 * The length mmapipc gives a classic file it creates: exactly the struct, as the fixed C sender's
 * ftruncate(fd, sizeof(struct message_buffer)) would (the kernel maps whole pages anyway, and a
 * C sender's ftruncate would set any other length back to this one).
 */
export const CLASSIC_FILE_LENGTH = CLASSIC_STRUCT_LENGTH;

export function slotOffset(index: number): number {
  return MESSAGES_OFFSET + index * CLASSIC_SLOT_LENGTH;
}

/** The three int words of the struct, as read at one moment. */
export interface ClassicState {
  readonly count: number;
  readonly readIndex: number;
  readonly writeIndex: number;
}

/** Why the words cannot belong to a classic ring, or undefined when they can. */
export function checkClassicState(state: ClassicState): string | undefined {
  const { count, readIndex, writeIndex } = state;
  if (!Number.isInteger(count) || count < 0 || count > CLASSIC_SLOT_COUNT) {
    return `message_count is ${count}, expected 0 to ${CLASSIC_SLOT_COUNT}`;
  }
  for (const [name, value] of [
    ['read_index', readIndex],
    ['write_index', writeIndex],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value >= CLASSIC_SLOT_COUNT) {
      return `${name} is ${value}, expected 0 to ${CLASSIC_SLOT_COUNT - 1}`;
    }
  }
  return undefined;
}

/**
 * True when the count agrees with the indices: write = (read + count) mod 100. A lost update on
 * message_count (the race of docs/classic-layout.md) breaks this, as does a C sender's restart.
 */
export function isConsistent(state: ClassicState): boolean {
  return (state.readIndex + state.count) % CLASSIC_SLOT_COUNT === state.writeIndex;
}
