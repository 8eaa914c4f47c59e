/**
 * The bridge's messages in our own words (issue 19, item 6): the wrong kind of server named at
 * once, whole authentication errors on one line, warnings for a password in a URL and for a
 * credentials file others can read, and log values quoted logfmt-style. Real servers on random
 * ports in temporary directories.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { ExitCode } from '../../src/errors.js';
import { killStragglers } from '../helpers/bridge.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { describeWith, NatsServer, RedisServer } from '../helpers/servers.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('mmapipc-bridge-messages-');
afterEach(killStragglers);
afterAll(() => dir.remove());

/** Well under the 5 s the NATS client waited before it said "timeout". */
const QUICK_MS = 4000;

function stderrLines(result: CliResult): string[] {
  return result.stderr.trimEnd().split('\n');
}

async function timed(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & { ms: number }> {
  const began = performance.now();
  const result = await runCli(args, { env });
  return { ...result, ms: performance.now() - began };
}

const PASSWORD_WARNING = (engine: 'nats' | 'redis', secret: 'a password' | 'a token') =>
  `mmapipc: warning: the --${engine} URL holds ${secret}, which every user of this host can see in ps; put the URL in ${engine.toUpperCase()}_URL and give --${engine} without a value, or pass --creds FILE`;

describeWith('nats-server', 'bridge messages', () => {
  describeWith('redis-server', 'with NATS and Redis', () => {
    let nats: NatsServer;
    let redis: RedisServer;
    let open: NatsServer;
    beforeAll(async () => {
      [nats, redis, open] = await Promise.all([NatsServer.start({ user: 'bridge', pass: 'secret' }), RedisServer.start({ password: 'secret', tcp: true }), NatsServer.start()]);
    });
    afterAll(async () => Promise.all([nats?.dispose(), redis?.dispose(), open?.dispose()]));

    test('--redis at a NATS port and --nats at a Redis port: "not a ... server", exit 8, at once', async () => {
      const ring = dir.file('wrong.ring');
      const redisAtNats = await timed(['bridge', 'import', '--file', ring, '--redis', `redis://127.0.0.1:${nats.port}/0`, '--key', 'k']);
      expect({ code: redisAtNats.code, stderr: redisAtNats.stderr }).toEqual({
        code: ExitCode.engineUnavailable,
        stderr: `mmapipc: redis://127.0.0.1:${nats.port}/0: not a Redis server (it answered like NATS); check the address given to --redis\n`,
      });
      const natsAtRedis = await timed(['bridge', 'export', '--file', ring, '--nats', `nats://127.0.0.1:${redis.port}`, '--stream', 'S']);
      expect({ code: natsAtRedis.code, stderr: natsAtRedis.stderr }).toEqual({
        code: ExitCode.engineUnavailable,
        stderr: `mmapipc: nats://127.0.0.1:${redis.port}: not a NATS server (it answered like Redis); check the address given to --nats\n`,
      });
      expect([redisAtNats.ms, natsAtRedis.ms].every((ms) => ms < QUICK_MS)).toBe(true);
    });

    test('authentication errors are whole, on one line, and say what to do', async () => {
      const ring = dir.file('auth.ring');
      const none = await runCli(['bridge', 'export', '--file', ring, '--nats', nats.url, '--stream', 'S']);
      expect({ code: none.code, stderr: none.stderr }).toEqual({
        code: ExitCode.engineUnavailable,
        stderr: `mmapipc: ${nats.url}: the server wants credentials and none were given (Authorization Violation); set them in NATS_URL (nats://USER:PASSWORD@host:port), or pass --creds FILE\n`,
      });
      const noPassword = await runCli(['bridge', 'export', '--file', ring, '--redis', redis.url, '--key', 'k']);
      expect(noPassword.code).toBe(ExitCode.engineUnavailable);
      // The server's own sentence, whole (it is long: HELLO ... at the same time).
      expect(noPassword.stderr).toMatch(
        new RegExp(
          `^mmapipc: unix://${redis.socket}: the server wants a password and none was given \\(NOAUTH [^\\n]* at the same time\\); set the password in REDIS_URL \\(redis://:PASSWORD@host:port\\), or pass --creds FILE\\n$`,
        ),
      );
      const wrong = await runCli(['bridge', 'export', '--file', ring, '--redis', '--key', 'k'], { env: { REDIS_URL: redis.urlWith('wrong') } });
      expect({ code: wrong.code, stderr: wrong.stderr }).toEqual({
        code: ExitCode.engineUnavailable,
        stderr: `mmapipc: unix://${redis.socket}: the server refused the credentials (WRONGPASS invalid username-password pair or user is disabled.); set the password in REDIS_URL (redis://:PASSWORD@host:port), or pass --creds FILE\n`,
      });
    });

    test('a secret in a URL on the command line is warned about, pointing at the environment variable; none from the environment', async () => {
      const ring = dir.file('ps.ring');
      const natsPassword = await runCli(['bridge', 'export', '--file', ring, '--nats', nats.urlWith('bridge', 'secret'), '--stream', 'NOPE']);
      expect({ code: natsPassword.code, first: stderrLines(natsPassword)[0] }).toEqual({ code: ExitCode.engineConfig, first: PASSWORD_WARNING('nats', 'a password') });
      const natsToken = await runCli(['bridge', 'export', '--file', ring, '--nats', `nats://tok@127.0.0.1:${open.port}`, '--stream', 'NOPE']);
      expect(stderrLines(natsToken)[0]).toBe(PASSWORD_WARNING('nats', 'a token'));
      const redisQuery = await runCli(['bridge', 'export', '--file', ring, '--redis', redis.urlWith('secret'), '--key', 'nope']);
      expect({ code: redisQuery.code, first: stderrLines(redisQuery)[0] }).toEqual({ code: ExitCode.engineConfig, first: PASSWORD_WARNING('redis', 'a password') });
      const redisUrl = await runCli(['bridge', 'export', '--file', ring, '--redis', `redis://:secret@127.0.0.1:${redis.port}/0`, '--key', 'nope']);
      expect(stderrLines(redisUrl)[0]).toBe(PASSWORD_WARNING('redis', 'a password'));
      const fromEnv = await runCli(['bridge', 'export', '--file', ring, '--nats', '--stream', 'NOPE'], { env: { NATS_URL: nats.urlWith('bridge', 'secret') } });
      expect({ code: fromEnv.code, stderr: fromEnv.stderr }).toEqual({ code: ExitCode.engineConfig, stderr: `mmapipc: ${nats.url}: stream 'NOPE' does not exist; create it, or pass --create-stream\n` });
      const userOnly = await runCli(['bridge', 'export', '--file', ring, '--redis', `redis://someone@127.0.0.1:${redis.port}/0`, '--key', 'nope']);
      expect(userOnly.stderr).not.toMatch(/warning/);
    });

    test('a credentials file others can read is warned about; one only its owner reads is not', async () => {
      const ring = dir.file('creds.ring');
      const creds = dir.file('creds.txt');
      writeFileSync(creds, 'bridge:secret\n');
      const run = () => runCli(['bridge', 'export', '--file', ring, '--nats', nats.url, '--creds', creds, '--stream', 'NOPE']);
      const expected: Array<[number, string | undefined]> = [
        [0o644, `mmapipc: ${creds}: warning: the credentials file is readable by its group and everyone (mode 0644); chmod 600 it`],
        [0o640, `mmapipc: ${creds}: warning: the credentials file is readable by its group (mode 0640); chmod 600 it`],
        [0o604, `mmapipc: ${creds}: warning: the credentials file is readable by everyone (mode 0604); chmod 600 it`],
        [0o600, undefined],
      ];
      for (const [mode, warning] of expected) {
        chmodSync(creds, mode);
        const result = await run();
        // The credentials work either way: the stream is what is missing.
        const lines = stderrLines(result);
        expect({ mode, code: result.code, lines }).toEqual({
          mode,
          code: ExitCode.engineConfig,
          lines: [...(warning ? [warning] : []), `mmapipc: ${nats.url}: stream 'NOPE' does not exist; create it, or pass --create-stream`],
        });
      }
    });

    test('log values with spaces, = or quotes are quoted logfmt-style; plain words are not', async () => {
      const ring = dir.file('log.ring');
      expect((await runCli(['create', '--file', ring])).code).toBe(0);
      const key = 'my key/with slash=1 "q"';
      const result = await runCli(['bridge', 'export', '--file', ring, '--redis', '--key', key, '--create-stream', '--once', '--name', 'logfmt'], { env: { REDIS_URL: redis.urlWith('secret') } });
      expect(result.code).toBe(0);
      expect(stderrLines(result)).toEqual([
        `mmapipc bridge logfmt: started direction=export ring=${ring} url=unix://${redis.socket} key="my key/with slash=1 \\"q\\"" companion="my key/with slash=1 \\"q\\":mmapipc-export" keyExists=false length=0`,
        'mmapipc bridge logfmt: state state=connected',
        'mmapipc bridge logfmt: stopped reason=once messages=0 bytes=0 duplicatesSuppressed=0 loopSkipped=0 lostByRetention=0 resyncs=0 reconnects=0',
      ]);
    });
  });
});
