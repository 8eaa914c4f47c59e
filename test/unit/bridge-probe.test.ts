/** How the bridge tells which engine answered (src/bridge/engine-probe.ts) and how it quotes log values. */
import { classifyGreeting } from '../../src/bridge/engine-probe.js';
import { logfmtValue } from '../../src/bridge/runtime.js';

describe('classifyGreeting', () => {
  test.each([
    ['INFO {"server_id":"x"}\r\n', { kind: 'nats' }],
    ['+PONG\r\n', { kind: 'redis' }],
    ['-NOAUTH Authentication required.\r\n', { kind: 'redis' }],
    ['-ERR unknown command\r\n', { kind: 'redis' }],
    ['HTTP/1.1 400 Bad Request\r\n\r\n', { kind: 'other', excerpt: 'HTTP/1.1 400 Bad Request' }],
    ['SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 and then some more text\r\n', { kind: 'other', excerpt: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 a...' }],
    ['\x16\x03\x01\x00', { kind: 'other', excerpt: '....' }],
  ])('%j is %j', (greeting, expected) => {
    expect(classifyGreeting(Buffer.from(greeting, 'latin1'))).toEqual(expected);
  });
});

describe('logfmtValue', () => {
  test.each([
    ['connected', 'connected'],
    ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    ['my key/with slash', '"my key/with slash"'],
    ['a=b', '"a=b"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['', '""'],
    [42, '42'],
    [null, 'null'],
    [{ a: 1 }, '"{\\"a\\":1}"'],
  ])('%j is written %s', (value, expected) => {
    expect(logfmtValue(value)).toBe(expected);
  });
});
