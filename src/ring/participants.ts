/**
 * The participant table in the ring header: one entry per process that has the ring open, so
 * that `stat` can list senders and receivers and recovery can prove an owner dead. An entry is
 * claimed by compare-and-swap of its pid word from 0; a dead process's entry is reclaimed by the
 * next process that needs one. Pure: liveness is supplied by the caller.
 */
import {
  PARTICIPANTS_OFFSET,
  PARTICIPANT_ATTACHED_AT,
  PARTICIPANT_CAPACITY,
  PARTICIPANT_GENERATION,
  PARTICIPANT_LENGTH,
  PARTICIPANT_PID,
  PARTICIPANT_ROLE,
  PARTICIPANT_START,
  WORD,
} from '../layout/ring-layout.js';

export interface Participant {
  readonly index: number;
  readonly pid: number;
  readonly role: number;
  readonly startTicks: number;
  readonly attachedAt: number;
  /** How many times the entry has been taken (see OWNER_GENERATION_MASK). */
  readonly generation: number;
}

export type IsAlive = (pid: number, startTicks: number) => boolean;

function entryOffset(index: number): number {
  return PARTICIPANTS_OFFSET + index * PARTICIPANT_LENGTH;
}

function words(memory: Buffer): Int32Array {
  return new Int32Array(memory.buffer, memory.byteOffset, (PARTICIPANTS_OFFSET + PARTICIPANT_CAPACITY * PARTICIPANT_LENGTH) / WORD);
}

export function readParticipant(memory: Buffer, index: number): Participant | undefined {
  const offset = entryOffset(index);
  const pid = Atomics.load(words(memory), (offset + PARTICIPANT_PID) / WORD);
  if (pid === 0) return undefined;
  return {
    index,
    pid: pid >>> 0,
    role: memory.readUInt32LE(offset + PARTICIPANT_ROLE),
    startTicks: memory.readDoubleLE(offset + PARTICIPANT_START),
    attachedAt: memory.readDoubleLE(offset + PARTICIPANT_ATTACHED_AT),
    generation: memory.readUInt32LE(offset + PARTICIPANT_GENERATION),
  };
}

export function listParticipants(memory: Buffer): Participant[] {
  const list: Participant[] = [];
  for (let index = 0; index < PARTICIPANT_CAPACITY; index++) {
    const entry = readParticipant(memory, index);
    if (entry) list.push(entry);
  }
  return list;
}

/**
 * Records this process in a free entry (or one whose process is dead) and bumps the entry's
 * generation. Returns the entry's index and new generation; index -1 when all entries belong to
 * live processes (the ring works on without one).
 */
export function registerParticipant(
  memory: Buffer,
  self: { pid: number; role: number; startTicks: number; attachedAt: number },
  isAlive: IsAlive,
): { index: number; generation: number } {
  const table = words(memory);
  for (const pass of ['free', 'dead'] as const) {
    for (let index = 0; index < PARTICIPANT_CAPACITY; index++) {
      const offset = entryOffset(index);
      const pidWord = (offset + PARTICIPANT_PID) / WORD;
      const pid = Atomics.load(table, pidWord);
      if (pass === 'free' ? pid !== 0 : pid === 0 || isAlive(pid >>> 0, memory.readDoubleLE(offset + PARTICIPANT_START))) {
        continue;
      }
      if (Atomics.compareExchange(table, pidWord, pid, self.pid) !== pid) continue;
      memory.writeUInt32LE(self.role, offset + PARTICIPANT_ROLE);
      memory.writeDoubleLE(self.startTicks, offset + PARTICIPANT_START);
      memory.writeDoubleLE(self.attachedAt, offset + PARTICIPANT_ATTACHED_AT);
      const generation = Atomics.add(table, (offset + PARTICIPANT_GENERATION) / WORD, 1) + 1;
      return { index, generation };
    }
  }
  return { index: -1, generation: 0 };
}

export function addParticipantRole(memory: Buffer, index: number, role: number): void {
  if (index < 0) return;
  const roleWord = (entryOffset(index) + PARTICIPANT_ROLE) / WORD;
  Atomics.or(words(memory), roleWord, role);
}

/** Frees the entry if it still belongs to `pid`. */
export function unregisterParticipant(memory: Buffer, index: number, pid: number): void {
  if (index < 0) return;
  Atomics.compareExchange(words(memory), (entryOffset(index) + PARTICIPANT_PID) / WORD, pid, 0);
}
