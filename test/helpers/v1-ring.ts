/**
 * A ring file of format version 1 (mmapipc 0.1), byte for byte as 0.1 wrote one: a 4096-byte
 * header (magic, version 1, header length 4096, slot count, slot size, stride, position limit,
 * created at, creator pid, file length, creator start; tail and head at 128 and 256) and slots of
 * align8(32 + S) bytes whose sequence words start at their index. Format v2 readers must refuse it
 * by name; `mmapipc rm` must still remove it.
 */
import { MAGIC } from '../../src/layout/ring-layout.js';

const V1_HEADER_LENGTH = 4096;

export function versionOneRing(slots: number, slotSize: number, waiting: readonly string[] = []): Buffer {
  const stride = Math.ceil((32 + slotSize) / 8) * 8;
  const bytes = Buffer.alloc(V1_HEADER_LENGTH + slots * stride);
  bytes.write(MAGIC, 0, 'latin1');
  const limit = slots * Math.floor(2 ** 30 / slots);
  [1, V1_HEADER_LENGTH, slots, slotSize, stride, limit].forEach((word, i) => bytes.writeUInt32LE(word, 8 + 4 * i));
  bytes.writeDoubleLE(Date.now(), 32);
  bytes.writeUInt32LE(process.pid, 40);
  bytes.writeUInt32LE(bytes.length, 44);
  bytes.writeUInt32LE(waiting.length, 128); // tail; head stays 0
  for (let i = 0; i < slots; i++) {
    const slot = V1_HEADER_LENGTH + i * stride;
    const message = waiting[i];
    bytes.writeUInt32LE(message === undefined ? i : i + 1, slot); // free for i, or committed for i
    if (message !== undefined) bytes.writeUInt32LE(bytes.write(message, slot + 32, 'utf8'), slot + 4);
  }
  return bytes;
}

/** What a v2 reader says about it (after "mmapipc: <path>: "). */
export const VERSION_ONE_REASON =
  'is a ring of format version 1, written by an earlier mmapipc; this mmapipc reads version 3 only: drain it with the mmapipc that made it, then remove it (mmapipc rm) and let a sender create it anew';
