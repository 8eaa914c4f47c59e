import {
  BLOCK_LENGTH,
  CACHE_LINE_LENGTH,
  MEMBERS_WAITING_OFFSET,
  RELEASED_SLOTS_OFFSET,
  SENDERS_WAITING_OFFSET,
  WORD,
} from '../../src/layout/ring-layout.js';
import { BELL_BYTE_DELTA, BELL_LISTENERS_DELTA, FUTEX_SLEEPERS_DELTA } from '../../src/sys/wake-words.js';

describe('the wake words beside each waiting word', () => {
  test('follow the waiting word without overlapping it or each other', () => {
    expect(FUTEX_SLEEPERS_DELTA).toBeGreaterThanOrEqual(WORD);
    expect(BELL_LISTENERS_DELTA).toBeGreaterThanOrEqual(FUTEX_SLEEPERS_DELTA + WORD);
    expect(FUTEX_SLEEPERS_DELTA % WORD).toBe(0);
    expect(BELL_LISTENERS_DELTA % WORD).toBe(0);
  });

  test('put the bell byte on a cache line of its own, still inside the waiting block', () => {
    expect(BELL_BYTE_DELTA).toBeGreaterThanOrEqual(CACHE_LINE_LENGTH);
    expect(BELL_BYTE_DELTA).toBeLessThan(BLOCK_LENGTH);
  });

  test('stay inside blocks the layout gives to the waiting words alone', () => {
    expect(SENDERS_WAITING_OFFSET - MEMBERS_WAITING_OFFSET).toBeGreaterThanOrEqual(BLOCK_LENGTH);
    expect(RELEASED_SLOTS_OFFSET - SENDERS_WAITING_OFFSET).toBeGreaterThanOrEqual(BLOCK_LENGTH);
  });
});
