/**
 * Bridges beside a shared ring (docs/sharing.md, docs/bridge.md), with throwaway users and a real
 * redis-server on a loopback port: `<ring>.bridge/` takes the ring's group and mode, so a member
 * of the ring's group takes over an import where another member's stopped, from its cursor; a
 * directory another user planted is refused in one line; and `bridge stat` tells a running
 * bridge in another PID namespace from a stopped one by its lock, not by /proc.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { ExitCode } from '../../src/errors.js';
import { killStragglers } from '../helpers/bridge.js';
import { runCli } from '../helpers/cli.js';
import { PidNamespace, namespaceUnavailable } from '../helpers/pid-namespace.js';
import { RedisServer, findBinary } from '../helpers/servers.js';
import { tempDir } from '../helpers/temp.js';
import { describeWhen } from '../helpers/tools.js';
import { ThrowawayUsers, runAs, usersUnavailable, type Account } from '../helpers/users.js';

const lines = (text: string) => text.split('\n').filter((line) => line !== '');
const payloads = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m-${String(from + i).padStart(3, '0')}`);
const redisMissing = () => (findBinary('redis-server') === undefined ? 'redis-server is not installed (apt-get install -y redis-server)' : undefined);
const modeOf = (path: string) => statSync(path).mode & 0o7777;

describeWhen('bridges beside a ring shared with a group', 'throwaway users and a redis-server', usersUnavailable() ?? redisMissing(), () => {
  const users = new ThrowawayUsers();
  const dir = tempDir('mmapipc-bridge-share-');
  let redis: RedisServer;
  let url: string;
  let crew: { name: string; gid: number };
  let alice: Account;
  let bob: Account;
  let stranger: Account;

  /** Root's own ring, exported --once into `key`: the engine then holds `messages`, in order. */
  async function feed(key: string, messages: string[]): Promise<void> {
    const source = dir.file(`${key}-source.ring`);
    expect(await runCli(['send', '--file', source, '--slots', '256', ...messages])).toMatchObject({ code: 0, stderr: '' });
    const exported = await runCli(['bridge', 'export', '--file', source, '--redis', url, '--key', key, '--create-stream', '--once', '--json']);
    expect(exported).toMatchObject({ code: 0 });
  }

  beforeAll(async () => {
    chmodSync(dir.path, 0o1777); // every test user can make its own files here, as in /tmp
    crew = users.group('bcrew');
    alice = users.user('bal', crew);
    bob = users.user('bbo', crew);
    stranger = users.user('bst', users.group('bstg'));
    redis = await RedisServer.start({ tcp: true }); // other users reach it on a port, not root's socket
    url = `redis://127.0.0.1:${redis.port}/0`;
  });
  afterEach(killStragglers);
  afterAll(async () => {
    await redis?.dispose();
    dir.remove();
    users.remove();
  });

  test("a member of the ring's group takes over an import another member ran, from its cursor: every message once, in order", async () => {
    const ring = dir.file('shared.ring');
    const state = `${ring}.bridge`;
    expect(await runAs(alice, ['create', '--file', ring, '--slots', '256', '--mode', '0660', '--file-group', crew.name])).toMatchObject({ code: 0 });
    await feed('take', payloads(0, 100));

    const first = await runAs(alice, ['bridge', 'import', '--file', ring, '--redis', url, '--key', 'take', '--once']);
    expect(first).toMatchObject({ code: 0 });
    expect(lstatSync(state)).toMatchObject({ uid: alice.uid, gid: crew.gid });
    expect(modeOf(state)).toBe(0o2770);
    for (const file of ['import-redis-take.lock', 'import-redis-take.cursor.json', 'import-redis-take.status.json']) {
      expect(statSync(`${state}/${file}`)).toMatchObject({ uid: alice.uid, gid: crew.gid });
      expect(modeOf(`${state}/${file}`)).toBe(0o660);
    }
    expect(JSON.parse(readFileSync(`${state}/import-redis-take.cursor.json`, 'utf8'))).toMatchObject({ position: expect.any(String), lost: 0 });

    await feed('take', payloads(100, 200));
    const second = await runAs(bob, ['bridge', 'import', '--file', ring, '--redis', url, '--key', 'take', '--once']);
    expect(second).toMatchObject({ code: 0 });
    // Replaced by bob, still the ring's group's to read and write.
    expect(statSync(`${state}/import-redis-take.cursor.json`)).toMatchObject({ uid: bob.uid, gid: crew.gid });
    expect(modeOf(`${state}/import-redis-take.cursor.json`)).toBe(0o660);

    const stat = await runAs(bob, ['stat', '--file', ring, '--json']);
    expect(JSON.parse(stat.stdout)).toMatchObject({ sent: 200, waiting: 200 });
    const received = await runAs(bob, ['receive', '--file', ring, '--count', '200', '--timeout', '10s']);
    expect(received).toMatchObject({ code: 0, stderr: '' });
    expect(lines(received.stdout)).toEqual(payloads(0, 200));

    const bridges = await runAs(alice, ['bridge', 'stat', '--file', ring, '--json']);
    expect(bridges).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(bridges.stdout)).toEqual([expect.objectContaining({ name: 'import-redis-take', running: false, state: 'stopped', messages: 100 })]);
  }, 90_000);

  test('a bridge directory planted by a user outside the ring\'s group is refused in one line (exit 4), and so is a symlink; the ring is untouched', async () => {
    const ring = dir.file('planted.ring');
    const state = `${ring}.bridge`;
    expect(await runAs(alice, ['create', '--file', ring, '--slots', '16', '--mode', '0660', '--file-group', crew.name])).toMatchObject({ code: 0 });
    execFileSync('runuser', ['-u', stranger.name, '--', 'mkdir', '-m', '0755', state]);
    const before = readFileSync(ring);

    for (const account of [alice, bob]) {
      const refused = await runAs(account, ['bridge', 'import', '--file', ring, '--redis', url, '--key', 'planted', '--once']);
      expect(refused).toMatchObject({
        code: ExitCode.unsafeFile,
        stdout: '',
        stderr: `mmapipc: ${state}: is owned by ${stranger.name} (uid ${stranger.uid}), who is neither you, the ring's owner (${alice.name} (uid ${alice.uid})) nor a member of the group that shares the ring; another user may have planted it. Remove it, then start again\n`,
      });
    }
    expect(readdirSync(state)).toEqual([]);
    expect(readFileSync(ring).equals(before)).toBe(true);

    const linked = dir.file('linked.ring');
    expect(await runAs(alice, ['create', '--file', linked, '--slots', '16', '--mode', '0660', '--file-group', crew.name])).toMatchObject({ code: 0 });
    symlinkSync(state, `${linked}.bridge`);
    const viaLink = await runAs(bob, ['bridge', 'import', '--file', linked, '--redis', url, '--key', 'planted', '--once']);
    expect(viaLink).toMatchObject({
      code: ExitCode.unsafeFile,
      stdout: '',
      stderr: `mmapipc: ${linked}.bridge: is a symbolic link; refusing to keep bridge state there. Remove it\n`,
    });
    expect(readdirSync(state)).toEqual([]);
  }, 60_000);
});

describeWhen('bridge stat across PID namespaces', 'a PID namespace and a redis-server', namespaceUnavailable() ?? redisMissing(), () => {
  const dir = tempDir('mmapipc-bridge-ns-');
  let redis: RedisServer;
  let namespace: PidNamespace;

  beforeAll(async () => {
    redis = await RedisServer.start();
    namespace = await PidNamespace.start();
  });
  afterAll(async () => {
    await namespace?.stop();
    await redis?.dispose();
    dir.remove();
  });

  async function bridgeStat(ring: string): Promise<Array<Record<string, unknown>>> {
    const result = await runCli(['bridge', 'stat', '--file', ring, '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(result.stdout) as Array<Record<string, unknown>>;
  }

  test.each(['SIGTERM', 'SIGKILL'] as const)('a bridge running in another PID namespace is shown running, with its pid marked; after %s it is shown stopped', async (signal) => {
    const ring = dir.file(`ns-${signal}.ring`);
    expect(await runCli(['create', '--file', ring, '--slots', '16'])).toMatchObject({ code: 0 });
    const inside = await namespace.start(['bridge', 'export', '--file', ring, '--redis', redis.url, '--key', `ns-${signal}`, '--create-stream', '--json']);
    await inside.cli.waitForLine(/"state":"connected"/);

    const [running] = await bridgeStat(ring);
    expect(running).toMatchObject({ name: `export-redis-ns-${signal}`, running: true, state: 'connected', pidNamespace: 'other' });
    expect(running!.pid).not.toBe(inside.outerPid);
    const text = await runCli(['bridge', 'stat', '--file', ring]);
    expect(lines(text.stdout)[1]).toMatch(new RegExp(`^  state connected \\(pid ${running!.pid}, another pid namespace, updated `));

    inside.signal(signal);
    const exit = await inside.cli.exited;
    if (signal === 'SIGTERM') expect(exit).toMatchObject({ code: 0 });
    else expect(exit.code).not.toBe(0); // nsenter passes the kill on
    const [stopped] = await bridgeStat(ring);
    expect(stopped).toMatchObject({ running: false, state: 'stopped' });
    expect(lines((await runCli(['bridge', 'stat', '--file', ring])).stdout)[1]).toMatch(/^ {2}state stopped \(not running; last seen /);
  }, 60_000);
});
