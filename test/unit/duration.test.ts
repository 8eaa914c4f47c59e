import { DURATION_UNIT_MS, MAX_DURATION_MS, formatDuration, parseDuration } from '../../src/cli/duration.js';

const { ms, s, m, h } = DURATION_UNIT_MS;

describe('parseDuration: a bare number is seconds, a unit may follow', () => {
  test.each([
    ['0', 0],
    ['5', 5 * s],
    ['0.25', 0.25 * s],
    ['.5', 0.5 * s],
    ['20', 20 * s],
    ['1ms', 1 * ms],
    ['500ms', 500 * ms],
    ['0ms', 0],
    ['1.5s', 1.5 * s],
    ['2m', 2 * m],
    ['0.5m', 30 * s],
    ['1h', 1 * h],
    [' 3 s ', 3 * s],
  ])('%j is %d ms', (text, expected) => {
    expect(parseDuration(text)).toEqual({ ms: expected });
  });

  test.each(['', ' ', 'abc', '-1', '-0.5s', '5x', '5 sec', '1e3', '5S', 'ms', '1..2', '1.2.3', 'Infinity', 'NaN', '0x10', '+5'])(
    '%j is refused with an example and the value quoted',
    (text) => {
      expect(parseDuration(text)).toEqual({ reason: `expected a duration such as 5, 0.25, 500ms or 2m, got ${JSON.stringify(text)}` });
    },
  );

  test('refuses what a timer cannot wait for, and accepts the longest it can', () => {
    expect(parseDuration(`${MAX_DURATION_MS}ms`)).toEqual({ ms: MAX_DURATION_MS });
    expect(parseDuration(`${MAX_DURATION_MS + 1}ms`)).toEqual({ reason: `expected at most 596h (the longest a timer can wait), got "${MAX_DURATION_MS + 1}ms"` });
    expect(parseDuration('1000h')).toHaveProperty('reason');
  });
});

describe('formatDuration: seconds from one second up, milliseconds below', () => {
  test.each([
    [0, '0 ms'],
    [1, '1 ms'],
    [250, '250 ms'],
    [999, '999 ms'],
    [1000, '1 s'],
    [1500, '1.5 s'],
    [20 * s, '20 s'],
    [2 * m, '120 s'],
  ])('%d ms reads %s', (value, text) => {
    expect(formatDuration(value)).toBe(text);
  });
});
