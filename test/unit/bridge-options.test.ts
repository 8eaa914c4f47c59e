/** Bridge option parsing: durations in seconds, engine URLs and credentials, option combinations. */
import { parseSeconds } from '../../src/bridge/duration.js';
import { parseNatsTarget, parseRedisTarget, redactUrl } from '../../src/bridge/engine-url.js';
import { resolveSettings } from '../../src/bridge/options.js';

describe('bridge options', () => {
  test.each([
    ['0.01', 10],
    ['2', 2000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
  ])('duration %s is %d ms (a bare number is seconds)', (text, ms) => expect(parseSeconds(text)).toBe(ms));

  test('a duration without a number is refused', () => expect(() => parseSeconds('soon')).toThrow(/duration in seconds/));

  test('NATS URLs: credentials are taken out of the displayed address', () => {
    expect(parseNatsTarget('nats://u:p%40ss@10.0.0.2:4222', undefined)).toMatchObject({ servers: ['nats://10.0.0.2:4222'], user: 'u', pass: 'p@ss', display: 'nats://10.0.0.2:4222' });
    expect(parseNatsTarget('10.0.0.2:4222,10.0.0.3:4222', undefined).servers).toEqual(['nats://10.0.0.2:4222', 'nats://10.0.0.3:4222']);
    expect(() => parseNatsTarget('http://x', undefined)).toThrow(/expected a NATS URL/);
  });

  test('Redis URLs: TCP, TLS, Unix sockets', () => {
    expect(parseRedisTarget('redis://:pw@h:6380/2', undefined)).toMatchObject({ host: 'h', port: 6380, password: 'pw', db: 2, tls: false, display: 'redis://h:6380/2' });
    expect(parseRedisTarget('rediss://h', undefined)).toMatchObject({ port: 6379, tls: true });
    expect(parseRedisTarget('unix:///run/r.sock?password=pw', undefined)).toMatchObject({ path: '/run/r.sock', password: 'pw' });
    expect(parseRedisTarget('/run/r.sock', undefined)).toMatchObject({ path: '/run/r.sock' });
    expect(redactUrl('redis://u:secret@h/0 unix:///s?password=secret')).not.toMatch(/secret/);
  });

  test('settings: defaults, and options refused for the other engine or direction', () => {
    expect(resolveSettings('export', { nats: 'nats://h:1', stream: 'S' }, {})).toMatchObject({ name: 'export-nats-S', batch: 500, maxInflight: 4, lingerMs: 0, origin: true });
    expect(() => resolveSettings('export', { redis: 'redis://h', stream: 'S' }, {})).toThrow(/'--stream' is for --nats/);
    expect(() => resolveSettings('import', { nats: 'nats://h:1', stream: 'S', shared: true }, {})).toThrow(/is for bridge export/);
    expect(() => resolveSettings('import', { nats: 'nats://h:1', stream: 'S', fromStart: true, new: true }, {})).toThrow(/at most one/);
    expect(resolveSettings('import', { redis: true, key: 'k', startId: '5-1' }, { REDIS_URL: 'redis://h' }).start).toEqual({ kind: 'id', id: '5-1' });
  });
});
