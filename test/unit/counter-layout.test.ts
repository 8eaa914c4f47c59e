import {
  CACHE_LINE_LENGTH,
  CONFIG_END,
  GO_OFFSET,
  HOLDER_PID_OFFSET,
  LOG_ENTRY_LENGTH,
  LOG_OFFSET,
  MAX_LOG_CAPACITY,
  PROCESSES_OFFSET,
  PROCESS_CAPACITY,
  PROCESS_ENTRY_LENGTH,
  SEM_LENGTH,
  SEM_OFFSET,
  WORD,
  logCapacityFor,
  logEntryOffset,
  processEntryOffset,
  regionLength,
} from '../../src/counter/counter-layout.js';
import { SEM_LENGTH as LIBC_SEM_LENGTH } from '../../src/sys/libc.js';

test('the layout reserves the same sem_t size as the libc layer', () => {
  expect(SEM_LENGTH).toBe(LIBC_SEM_LENGTH);
});

test('sections follow each other without overlapping, the semaphore 8-aligned', () => {
  expect(CONFIG_END).toBeLessThanOrEqual(SEM_OFFSET);
  expect(SEM_OFFSET % 8).toBe(0);
  expect(HOLDER_PID_OFFSET).toBe(SEM_OFFSET + SEM_LENGTH);
  expect(GO_OFFSET + WORD).toBeLessThanOrEqual(PROCESSES_OFFSET);
  expect(PROCESSES_OFFSET + PROCESS_CAPACITY * PROCESS_ENTRY_LENGTH).toBeLessThanOrEqual(LOG_OFFSET);
  expect(LOG_OFFSET % CACHE_LINE_LENGTH).toBe(0);
});

test('entry offsets step by their entry lengths', () => {
  expect(processEntryOffset(0)).toBe(PROCESSES_OFFSET);
  expect(processEntryOffset(3) - processEntryOffset(2)).toBe(PROCESS_ENTRY_LENGTH);
  expect(logEntryOffset(0)).toBe(LOG_OFFSET);
  expect(logEntryOffset(7) - logEntryOffset(6)).toBe(LOG_ENTRY_LENGTH);
  expect(regionLength(25)).toBe(logEntryOffset(25));
});

test('the log is sized for every step, up to its bound', () => {
  expect(logCapacityFor(25)).toBe(25);
  expect(logCapacityFor(4 * 20_000)).toBe(80_000);
  expect(logCapacityFor(MAX_LOG_CAPACITY + 1)).toBe(MAX_LOG_CAPACITY);
  expect(logCapacityFor(0)).toBe(0);
});
