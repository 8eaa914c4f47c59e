/**
 * A bridge that fails to start leaves its ring exactly as it was, and a bridge's state belongs
 * to one ring (issue 16, items 3 and 4). Real servers on random ports in temporary directories:
 * a NATS server with a user and password, a Redis server with a password on a Unix socket and a
 * loopback TCP port.
 */
import { chmodSync, existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { ExitCode } from '../../src/errors.js';
import { RING_ID_LENGTH, RING_ID_OFFSET } from '../../src/layout/ring-layout.js';
import { finished, killStragglers, startBridge, startPeer } from '../helpers/bridge.js';
import { waitStopped } from '../helpers/stopped.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { describeWith, freePort, NatsServer, RedisServer } from '../helpers/servers.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('mmapipc-bridge-start-');
afterEach(killStragglers);
afterAll(() => dir.remove());

const WAITING = ['waiting-0', 'waiting-1', 'waiting two'];

/** A ring of 100 slots whose `default` group holds WAITING; returns its `group ls --json`. */
async function ringWithWaiting(path: string, slotSize = 64): Promise<string> {
  expect((await runCli(['create', '--file', path, '--slots', '100', '--slot-size', String(slotSize)])).code).toBe(0);
  expect((await runCli(['send', '--file', path, ...WAITING])).code).toBe(0);
  return (await runCli(['group', 'ls', '--json', '--file', path])).stdout;
}

function lastLine(result: CliResult): string {
  const lines = result.stderr.trimEnd().split('\n');
  return lines[lines.length - 1]!;
}

/** The ring's id as its header holds it (hex). */
function ringId(path: string): string {
  return readFileSync(path).toString('hex', RING_ID_OFFSET, RING_ID_OFFSET + RING_ID_LENGTH);
}

async function received(path: string, count: number): Promise<string[]> {
  const result = await runCli(['receive', '--file', path, '--count', String(count), '--timeout', '5']);
  expect(result.code).toBe(0);
  return result.stdout.split('\n').slice(0, -1);
}

describeWith('nats-server', 'a failed bridge start', () => {
  describeWith('redis-server', 'with NATS and Redis', () => {
    let nats: NatsServer;
    let redis: RedisServer;
    beforeAll(async () => {
      [nats, redis] = await Promise.all([NatsServer.start({ user: 'bridge', pass: 'secret' }), RedisServer.start({ password: 'secret', tcp: true })]);
      expect(await finished(startPeer(['nats-stream', nats.urlWith('bridge', 'secret'), 'add', JSON.stringify({ name: 'SMALL', subjects: ['small'], max_msg_size: 128 })]), 'stream')).toBe('ok');
      expect(await finished(startPeer(['nats-stream', nats.urlWith('bridge', 'secret'), 'add', JSON.stringify({ name: 'FOREIGN', subjects: ['foreign'] })]), 'stream')).toBe('ok');
      expect(await finished(startPeer(['publish-nats', nats.urlWith('bridge', 'secret'), 'FOREIGN', 'foreign', '0', '1']), 'publisher')).toBe('published 1');
    });
    afterAll(async () => {
      await Promise.all([nats?.dispose(), redis?.dispose()]);
    });

    test('leaves groups, positions and messages exactly as they were, whatever failed', async () => {
      const closedPort = await freePort();
      const natsEnv = { NATS_URL: nats.urlWith('bridge', 'secret') };
      const redisEnv = { REDIS_URL: `${redis.url}?password=secret` };
      const cases: Array<{ what: string; args: string[]; env?: NodeJS.ProcessEnv; code: number; error: string; slotSize?: number }> = [
        { what: 'unreachable NATS', args: ['--nats', `nats://127.0.0.1:${closedPort}`, '--stream', 'S'], code: ExitCode.engineUnavailable, error: `nats://127.0.0.1:${closedPort}: cannot connect: connect ECONNREFUSED 127.0.0.1:${closedPort}` },
        { what: 'unreachable Redis', args: ['--redis', dir.file('no.sock'), '--key', 'k'], code: ExitCode.engineUnavailable, error: `unix://${dir.file('no.sock')}: cannot connect: connect ENOENT ${dir.file('no.sock')}` },
        { what: 'NATS at a Redis port', args: ['--nats', `nats://127.0.0.1:${redis.port}`, '--stream', 'S'], code: ExitCode.engineUnavailable, error: `nats://127.0.0.1:${redis.port}: not a NATS server (it answered like Redis); check the address given to --nats` },
        { what: 'Redis at a NATS port', args: ['--redis', `redis://127.0.0.1:${nats.port}`, '--key', 'k'], code: ExitCode.engineUnavailable, error: `redis://127.0.0.1:${nats.port}/0: not a Redis server (it answered like NATS); check the address given to --redis` },
        { what: 'wrong NATS password', args: ['--nats', '--stream', 'S'], env: { NATS_URL: nats.urlWith('bridge', 'wrong') }, code: ExitCode.engineUnavailable, error: `nats://127.0.0.1:${nats.port}: the server refused the credentials (Authorization Violation); set them in NATS_URL (nats://USER:PASSWORD@host:port), or pass --creds FILE` },
        { what: 'wrong Redis password', args: ['--redis', '--key', 'k'], env: { REDIS_URL: `${redis.url}?password=wrong` }, code: ExitCode.engineUnavailable, error: `unix://${redis.socket}: the server refused the credentials (WRONGPASS invalid username-password pair or user is disabled.); set the password in REDIS_URL (redis://:PASSWORD@host:port), or pass --creds FILE` },
        { what: 'a ring too large for the stream', args: ['--nats', '--stream', 'SMALL'], env: natsEnv, slotSize: 256, code: ExitCode.messageTooLarge, error: `nats://127.0.0.1:${nats.port}: the ring's 256-byte messages take up to ` },
        { what: 'a missing NATS stream', args: ['--nats', '--stream', 'MISSING'], env: natsEnv, code: ExitCode.engineConfig, error: `nats://127.0.0.1:${nats.port}: stream 'MISSING' does not exist; create it, or pass --create-stream` },
        { what: 'a missing Redis key', args: ['--redis', '--key', 'missing'], env: redisEnv, code: ExitCode.engineConfig, error: `unix://${redis.socket}: key 'missing' does not exist; create the stream, or pass --create-stream (the first message creates it)` },
        { what: 'a stream another writer uses', args: ['--nats', '--stream', 'FOREIGN'], env: natsEnv, code: ExitCode.engineConfig, error: `nats://127.0.0.1:${nats.port}: stream 'FOREIGN' has another writer` },
      ];
      for (const [index, failure] of cases.entries()) {
        const ring = dir.file(`failed-${index}.ring`);
        const before = await ringWithWaiting(ring, failure.slotSize);
        const result = await runCli(['bridge', 'export', '--file', ring, ...failure.args], { env: failure.env ?? {} });
        expect({ what: failure.what, code: result.code, error: lastLine(result).slice(0, `mmapipc: ${failure.error}`.length) }).toEqual({
          what: failure.what,
          code: failure.code,
          error: `mmapipc: ${failure.error}`,
        });
        expect({ what: failure.what, groups: (await runCli(['group', 'ls', '--json', '--file', ring])).stdout }).toEqual({ what: failure.what, groups: before });
        // Nothing holds the senders back but `default`: 97 more fill the ring exactly, and every message is there.
        const more = Array.from({ length: 97 }, (_, i) => `more-${i}`);
        expect((await runCli(['send', '--file', ring, '--timeout', '5', ...more])).code).toBe(0);
        expect(await received(ring, 100)).toEqual([...WAITING, ...more]);
      }
    }, 120_000);

    test('a start that fails after joining the ring removes the group it created, and only that', async () => {
      const url = nats.urlWith('bridge', 'secret');
      for (const [index, existing] of [false, true].entries()) {
        const stream = `LATER${index}`;
        const ring = dir.file(`later-${index}.ring`);
        await ringWithWaiting(ring);
        if (existing) expect((await runCli(['group', 'create', `bridge-export-nats-${stream}`, '--from', 'earliest', '--file', ring])).code).toBe(0);
        const before = (await runCli(['group', 'ls', '--json', '--file', ring])).stdout;
        expect(await finished(startPeer(['nats-stream', url, 'add', JSON.stringify({ name: stream, subjects: [stream] })]), 'stream')).toBe('ok');
        // Stopped once it has joined the ring, before the loop asks the stream what it holds.
        const bridge = startBridge(['export', '--file', ring, '--nats', '--stream', stream], { NATS_URL: url, MMAPIPC_BRIDGE_FAULT: 'export-attached' });
        await waitStopped(bridge.pid, 'the export');
        expect((await runCli(['group', 'ls', '--file', ring])).stdout).toMatch(new RegExp(`^bridge-export-nats-${stream}\t`, 'm'));
        // Meanwhile another writer uses the stream: the loop's first question finds it, and the start fails.
        expect(await finished(startPeer(['publish-nats', url, stream, stream, '0', '1']), 'publisher')).toBe('published 1');
        bridge.kill('SIGCONT');
        const exit = await bridge.exited;
        expect({ existing, code: exit.code, error: bridge.stderr.trimEnd().split('\n').pop()!.slice(0, 200) }).toEqual({
          existing,
          code: ExitCode.engineConfig,
          error: expect.stringContaining(`nats://127.0.0.1:${nats.port}: stream '${stream}' has another writer`),
        });
        expect({ existing, groups: (await runCli(['group', 'ls', '--json', '--file', ring])).stdout }).toEqual({ existing, groups: before });
        expect(await received(ring, 3)).toEqual(WAITING);
      }
    });

    test('a failed start on a ring that does not exist creates neither the ring nor its bridge directory', async () => {
      const ring = dir.file('never.ring');
      const exported = await runCli(['bridge', 'export', '--file', ring, '--nats', '--stream', 'MISSING'], { env: { NATS_URL: nats.urlWith('bridge', 'secret') } });
      expect(exported.code).toBe(ExitCode.engineConfig);
      const imported = await runCli(['bridge', 'import', '--file', ring, '--redis', '--key', 'missing'], { env: { REDIS_URL: `${redis.url}?password=secret` } });
      expect(imported.code).toBe(ExitCode.engineConfig);
      expect([existsSync(ring), existsSync(`${ring}.bridge`)]).toEqual([false, false]);
    });

    test("the export replaces an idle, empty default; it keeps a default that holds messages, and says so", async () => {
      const env = { NATS_URL: nats.urlWith('bridge', 'secret') };
      const empty = dir.file('empty.ring');
      expect((await runCli(['create', '--file', empty, '--slots', '100'])).code).toBe(0);
      const replaced = await runCli(['bridge', 'export', '--file', empty, '--nats', '--stream', 'EMPTY', '--create-stream', '--once', '--name', 'e'], { env });
      expect(replaced.code).toBe(0);
      expect(replaced.stderr).not.toMatch(/note/);
      expect(JSON.parse(`[${(await runCli(['group', 'ls', '--json', '--file', empty])).stdout.trim().split('\n').join(',')}]`).map((group: { name: string }) => group.name)).toEqual(['bridge-e']);

      const busy = dir.file('busy.ring');
      await ringWithWaiting(busy);
      const kept = await runCli(['bridge', 'export', '--file', busy, '--nats', '--stream', 'BUSY', '--create-stream', '--once', '--name', 'b'], { env });
      expect(kept.code).toBe(0);
      expect(kept.stderr.split('\n')).toContain(
        `mmapipc: ${busy}: note: kept group 'default' (3 message(s) wait for it and no receiver takes them); the export reads as its own group 'bridge-b'; senders wait for it once the ring is full: receive them, or run mmapipc group rm default --file ${busy}`,
      );
      expect(kept.stderr).toMatch(/stopped reason=once messages=3 /);
      expect(await received(busy, 3)).toEqual(WAITING);
    });
  });
});

describeWith('redis-server', 'bridge state belongs to one ring', () => {
  let redis: RedisServer;
  const KEY = 'entries';
  const ENTRIES = ['one', 'two', 'three', 'four', 'five'];
  beforeAll(async () => {
    redis = await RedisServer.start();
    for (const entry of ENTRIES) await finished(startPeer(['redis-command', redis.socket, 'XADD', KEY, '*', 'data', entry]), 'XADD');
  });
  afterAll(async () => redis?.dispose());

  const importOnce = (ring: string, ...more: string[]) => runCli(['bridge', 'import', '--file', ring, '--redis', redis.url, '--key', KEY, '--once', ...more]);

  test('rm removes <ring>.bridge; a re-created ring imports everything again; bridge stat on the removed ring exits 1', async () => {
    const ring = dir.file('again.ring');
    const first = await importOnce(ring);
    expect(first.stderr).toMatch(/stopped reason=once messages=5 /);
    expect(await received(ring, 5)).toEqual(ENTRIES);
    expect(readdirSync(`${ring}.bridge`).sort()).toEqual(['import-redis-entries.cursor.json', 'import-redis-entries.lock', 'import-redis-entries.status.json']);

    expect((await runCli(['rm', '--file', ring])).code).toBe(0);
    expect(existsSync(`${ring}.bridge`)).toBe(false);
    const stat = await runCli(['bridge', 'stat', '--file', ring]);
    expect({ code: stat.code, stderr: stat.stderr, stdout: stat.stdout }).toEqual({ code: 1, stderr: `mmapipc: ${ring}: no such ring file\n`, stdout: '' });

    expect((await runCli(['create', '--file', ring])).code).toBe(0);
    const again = await importOnce(ring);
    expect(again.stderr).toMatch(/stopped reason=once messages=5 /);
    expect(await received(ring, 5)).toEqual(ENTRIES);
  });

  test('rm --force removes it too', async () => {
    const ring = dir.file('forced.ring');
    expect((await importOnce(ring)).code).toBe(0);
    expect((await runCli(['rm', '--file', ring, '--force'])).code).toBe(0);
    expect(existsSync(`${ring}.bridge`)).toBe(false);
  });

  test('a cursor of a ring that is gone is refused, and the ring is not created', async () => {
    const ring = dir.file('gone.ring');
    expect((await importOnce(ring)).code).toBe(0);
    const oldId = ringId(ring);
    unlinkSync(ring);
    const stat = await runCli(['bridge', 'stat', '--file', ring]);
    expect({ code: stat.code, stderr: stat.stderr }).toEqual({ code: 1, stderr: `mmapipc: ${ring}: no such ring file; ${ring}.bridge is bridge state left from a removed ring: remove it\n` });
    const gone = await importOnce(ring);
    expect({ code: gone.code, stderr: gone.stderr }).toEqual({
      code: ExitCode.failure,
      stderr: `mmapipc: ${ring}.bridge/import-redis-entries.cursor.json: belongs to ring ${oldId}, which is gone from ${ring}; pass --reset-state to start over (as --from-start, --new or --start-... say), or remove the file\n`,
    });
    expect(existsSync(ring)).toBe(false);
  });

  test('a cursor of a ring removed without rm is refused on the ring created there since; --reset-state starts over', async () => {
    const ring = dir.file('stale.ring');
    expect((await importOnce(ring)).code).toBe(0);
    const oldId = ringId(ring);
    unlinkSync(ring);
    expect((await runCli(['create', '--file', ring])).code).toBe(0);
    const newId = ringId(ring);
    const listed = await runCli(['bridge', 'stat', '--file', ring]);
    expect({ code: listed.code, stdout: listed.stdout, stderr: listed.stderr }).toEqual({
      code: 0,
      stdout: `no bridges on ${ring}\n`,
      stderr: `mmapipc: ${ring}.bridge: note: 1 bridge status(es) left from an earlier ring at this path, not shown; they go when those bridges run again (or remove their .status.json files)\n`,
    });
    const refused = await importOnce(ring);
    const cursor = `${ring}.bridge/import-redis-entries.cursor.json`;
    const reason = `belongs to ring ${oldId}, not to the ring now at ${ring} (${newId}: created again since); pass --reset-state to start over (as --from-start, --new or --start-... say), or remove the file`;
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: ExitCode.failure, stderr: `mmapipc: ${cursor}: ${reason}\n` });
    // The refusal is now the last error of this ring's bridge.
    expect((await runCli(['bridge', 'stat', '--file', ring])).stdout).toContain(`ms ago: ${reason}\n`);
    const reset = await importOnce(ring, '--reset-state');
    expect(reset.stderr).toMatch(/stopped reason=once messages=5 /);
    expect(await received(ring, 5)).toEqual(ENTRIES);
  });

  test('a cursor from before cursors named their ring is refused', async () => {
    const ring = dir.file('legacy.ring');
    expect((await importOnce(ring)).code).toBe(0);
    const cursor = `${ring}.bridge/import-redis-entries.cursor.json`;
    writeFileSync(cursor, `${JSON.stringify({ version: 1, name: 'import-redis-entries', engine: 'redis', stream: KEY, position: '0-0', lost: 0, updatedAt: new Date().toISOString() })}\n`);
    chmodSync(cursor, 0o600);
    const refused = await importOnce(ring);
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({
      code: ExitCode.failure,
      stderr: `mmapipc: ${cursor}: was written by an older mmapipc and does not say which ring it belongs to; pass --reset-state to start over (as --from-start, --new or --start-... say), or remove the file\n`,
    });
  });
});
