/**
 * The bridge's failures as a user meets them: one line on stderr, `mmapipc: <thing>: <reason>`,
 * and a documented exit code. Real servers (a NATS server with a user and password, a Redis
 * server with a password), never the default ports.
 */
import { writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { ExitCode } from '../../src/errors.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { finished, killStragglers, startBridge, startPeer } from '../helpers/bridge.js';
import { hasMapped, until } from '../helpers/proc.js';
import { describeWith, NatsServer, RedisServer } from '../helpers/servers.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('mmapipc-bridge-errors-');
afterAll(() => dir.remove());
afterEach(killStragglers);

/**
 * The error is one line, the last on stderr (a bridge that got as far as starting logs before
 * it; warnings and notes, `mmapipc: ...warning: ...`, may come first).
 */
function expectOneLine(result: CliResult, code: number, pattern: RegExp): void {
  const lines = result.stderr.trimEnd().split('\n');
  expect({ code: result.code, error: lines[lines.length - 1] }).toMatchObject({ code, error: expect.stringMatching(pattern) });
  const errors = lines.filter((line) => line.startsWith('mmapipc: ') && !/^mmapipc: (\S+: )?(warning|note): /.test(line));
  expect(errors).toEqual([lines[lines.length - 1]]);
}

describe('bridge usage', () => {
  test('no engine, two engines, or a bad URL is a usage error (2)', async () => {
    const ring = dir.file('usage.ring');
    expectOneLine(await runCli(['bridge', 'export', '--file', ring, '--stream', 'S']), ExitCode.usage, /needs exactly one engine/);
    expectOneLine(await runCli(['bridge', 'export', '--file', ring, '--nats', 'nats://a', '--redis', 'redis://b', '--stream', 'S']), ExitCode.usage, /exactly one engine/);
    expectOneLine(await runCli(['bridge', 'export', '--file', ring, '--nats', 'http://[bad', '--stream', 'S']), ExitCode.usage, /expected a NATS URL/);
    expectOneLine(await runCli(['bridge', 'import', '--file', ring, '--redis', 'ftp://x', '--key', 'k']), ExitCode.usage, /expected a Redis URL/);
    expectOneLine(await runCli(['bridge', 'import', '--file', ring, '--nats', 'nats://127.0.0.1:9', '--key', 'k']), ExitCode.usage, /'--key' is for --redis/);
    expectOneLine(await runCli(['bridge', 'export', '--file', ring, '--nats', '--stream', 'S'], { env: { NATS_URL: '' } }), ExitCode.usage, /\$NATS_URL is not set/);
    expectOneLine(await runCli(['bridge', 'export', '--file', ring, '--nats', 'nats://h:1', '--stream', 'S', '--linger', 'soon']), ExitCode.usage, /duration in seconds/);
  });

  test('help states the guarantees and the exit codes', async () => {
    const help = (await runCli(['bridge', 'export', '--help'])).stdout;
    expect(help).toMatch(/nothing lost, nothing duplicated in the engine, ring order kept/);
    expect(help).toMatch(/duplicate window/);
    expect(help).toMatch(/at most the messages of one unfinished commit/);
    expect(help).toMatch(/8 engine unreachable/);
  });

  test('send and receive load no engine client (the bridge is loaded on demand)', () => {
    // Walk the static imports of the built CLI: no path may reach @nats-io or ioredis.
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, specifier] of source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
        expect(specifier).not.toMatch(/^(@nats-io\/|ioredis)/);
        if (specifier!.startsWith('.')) visit(new URL(specifier!, `file://${file}`).pathname);
      }
    };
    // main.js loads command modules on demand (program.ts): start from send's and receive's.
    visit(new URL('../../dist/cli/main.js', import.meta.url).pathname);
    visit(new URL('../../dist/cli/commands/send.js', import.meta.url).pathname);
    visit(new URL('../../dist/cli/commands/receive.js', import.meta.url).pathname);
    expect(seen.size).toBeGreaterThan(10);
  });
});

describeWith('nats-server', 'bridge errors with NATS', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await NatsServer.start({ user: 'bridge', pass: 'secret' });
  });
  afterAll(async () => nats?.dispose());

  test('a refused connection is exit 8', async () => {
    const result = await runCli(['bridge', 'export', '--file', dir.file('refused.ring'), '--nats', 'nats://127.0.0.1:9', '--stream', 'S']);
    expectOneLine(result, ExitCode.engineUnavailable, /nats:\/\/127\.0\.0\.1:9: cannot connect/);
  });

  test('wrong credentials are exit 8, and the password is never printed', async () => {
    const result = await runCli(['bridge', 'import', '--file', dir.file('creds.ring'), '--nats', nats.urlWith('bridge', 'wrong'), '--stream', 'S']);
    expectOneLine(result, ExitCode.engineUnavailable, /refused the credentials/);
    expect(result.stderr).not.toMatch(/wrong/);
  });

  test('credentials from NATS_URL or --creds; a missing stream without --create-stream is exit 9', async () => {
    const ring = dir.file('missing.ring');
    expectOneLine(
      await runCli(['bridge', 'export', '--file', ring, '--nats', '--stream', 'NOPE'], { env: { NATS_URL: nats.urlWith('bridge', 'secret') } }),
      ExitCode.engineConfig,
      /stream 'NOPE' does not exist; create it, or pass --create-stream/,
    );
    const creds = dir.file('creds.txt');
    writeFileSync(creds, 'bridge:secret\n');
    expectOneLine(await runCli(['bridge', 'import', '--file', ring, '--nats', nats.url, '--creds', creds, '--stream', 'NOPE']), ExitCode.engineConfig, /does not exist/);
  });

  test('a ring whose slots exceed the server limit is refused at start (5); --dry-run prints the plan and exits 0', async () => {
    const url = nats.urlWith('bridge', 'secret');
    expect(await finished(startPeer(['nats-stream', url, 'add', JSON.stringify({ name: 'BIG', subjects: ['big'], max_msg_size: 128 })]), 'stream')).toBe('ok');
    const result = await runCli(['bridge', 'export', '--file', dir.file('big.ring'), '--slot-size', '256', '--nats', url, '--stream', 'BIG']);
    expectOneLine(result, ExitCode.messageTooLarge, /256-byte messages take up to \d+ bytes with their headers; the stream 'BIG' takes 128/);
    const plan = await runCli(['bridge', 'export', '--file', dir.file('plan.ring'), '--nats', url, '--stream', 'PLAN', '--create-stream', '--dry-run', '--json']);
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ dryRun: true, direction: 'export', mode: 'chain', streamExists: false });
  });

  test('a message too large for the ring stops the import with exit 5, naming its sequence, the cursor before it', async () => {
    const url = nats.urlWith('bridge', 'secret');
    expect(await finished(startPeer(['nats-stream', url, 'add', JSON.stringify({ name: 'LARGE', subjects: ['large'] })]), 'stream')).toBe('ok');
    // message(3) (stream sequence 4) is 111 bytes: too large for a ring of 2 slots of 40 bytes (2 × 72 − 32 − 40 = 72 bytes, docs/format.md §2); 0-2 fit, each with its origin beside it
    expect(await finished(startPeer(['publish-nats', url, 'LARGE', 'large', '0', '6']), 'publisher')).toBe('published 6');
    const ring = dir.file('small.ring');
    expect((await runCli(['create', '--file', ring, '--slots', '2', '--slot-size', '40'])).code).toBe(0);
    // So small a ring holds no more than one of them at a time: a lossy default group never holds the import back.
    expect((await runCli(['group', 'set', 'default', '--lossy', '--file', ring])).code).toBe(0);
    const result = await runCli(['bridge', 'import', '--file', ring, '--nats', url, '--stream', 'LARGE', '--once']);
    expectOneLine(result, ExitCode.messageTooLarge, /stream 'LARGE' message 4 takes 111 bytes, more than the 72 bytes this ring takes/);
    expect(JSON.parse(readFileSync(`${ring}.bridge/import-nats-LARGE.cursor.json`, 'utf8')).position).toBe('3');
  });

  test('a chained export refuses a stream another writer uses (8)', async () => {
    const url = nats.urlWith('bridge', 'secret');
    expect(await finished(startPeer(['nats-stream', url, 'add', JSON.stringify({ name: 'OTHER', subjects: ['other'] })]), 'stream')).toBe('ok');
    expect(await finished(startPeer(['publish-nats', url, 'OTHER', 'other', '0', '1']), 'publisher')).toBe('published 1');
    const result = await runCli(['bridge', 'export', '--file', dir.file('other.ring'), '--nats', url, '--stream', 'OTHER']);
    expectOneLine(result, ExitCode.engineConfig, /has another writer .* use a stream of its own, or --shared/);
  });

  test('SIGTERM drains and exits 0; bridge stat shows the bridge, then that it stopped', async () => {
    const ring = dir.file('stat.ring');
    const bridge = startBridge(['export', '--file', ring, '--nats', nats.urlWith('bridge', 'secret'), '--stream', 'STAT', '--create-stream']);
    await bridge.waitForLine(/"state":"connected"/, 20_000, 'connected');
    const running = JSON.parse((await runCli(['bridge', 'stat', '--json', '--file', ring])).stdout) as Array<Record<string, unknown>>;
    expect(running).toMatchObject([{ name: 'export-nats-STAT', direction: 'export', engine: 'nats', stream: 'STAT', running: true, state: 'connected' }]);
    expect(JSON.stringify(running)).not.toMatch(/secret/);
    bridge.kill('SIGTERM');
    await finished(bridge, 'export');
    const lines = (await runCli(['bridge', 'stat', '--file', ring])).stdout;
    expect(lines).toMatch(/export-nats-STAT: export ring → nats/);
    expect(lines).toMatch(/state stopped \(not running/);
  });

  test('another receiver on the ring does not stop an export: the export is a consumer group of its own', async () => {
    const ring = dir.file('busy.ring');
    const receiver = startPeer(['receive-ring', ring, '0'], 'pipe');
    await until(() => hasMapped(receiver.pid, ring), 'the receiver attached');
    const result = await runCli(['bridge', 'export', '--file', ring, '--nats', nats.urlWith('bridge', 'secret'), '--stream', 'BUSY', '--create-stream', '--once']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/another receiver/) });
    const groups = (await runCli(['group', 'ls', '--file', ring, '--json'])).stdout;
    expect(groups).toMatch(/"name":"bridge-/);
    receiver.kill('SIGKILL');
  });
});

describeWith('redis-server', 'bridge errors with Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start({ password: 'secret' });
  });
  afterAll(async () => redis?.dispose());

  test('a missing socket is exit 8; wrong credentials are exit 8', async () => {
    expectOneLine(await runCli(['bridge', 'export', '--file', dir.file('r1.ring'), '--redis', dir.file('none.sock'), '--key', 'k']), ExitCode.engineUnavailable, /cannot connect: .*ENOENT/);
    const result = await runCli(['bridge', 'export', '--file', dir.file('r2.ring'), '--redis', redis.urlWith('wrong'), '--key', 'k']);
    expectOneLine(result, ExitCode.engineUnavailable, /refused the credentials/);
    expect(result.stderr).not.toMatch(/wrong/);
  });

  test('a missing key without --create-stream is exit 9', async () => {
    expectOneLine(await runCli(['bridge', 'export', '--file', dir.file('r3.ring'), '--redis', redis.urlWith('secret'), '--key', 'nope']), ExitCode.engineConfig, /key 'nope' does not exist/);
    expectOneLine(await runCli(['bridge', 'import', '--file', dir.file('r3.ring'), '--redis', redis.urlWith('secret'), '--key', 'nope']), ExitCode.engineConfig, /key 'nope' does not exist/);
  });
});
