/**
 * Issue 19: never silent on a terminal, never silently partial in a pipe. Waits name what they
 * wait for on a terminal (and only there), interrupted commands say what they did not do,
 * `| head` loses nothing, group options never vanish, gap lines come one per burst.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, LiveCli, cliEnv, collect, runCli } from '../helpers/cli.js';
import { hasMapped, until } from '../helpers/proc.js';
import { waitStopped } from '../helpers/stopped.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

const SCRIPT = '/usr/bin/script'; // util-linux: runs a command on a pseudo-terminal
const SH = '/bin/sh';
const haveScript = existsSync(SCRIPT);
if (!haveScript && process.env.CI === 'true') throw new Error(`${SCRIPT} is missing: the terminal tests cannot run (apt-get install bsdutils)`);
const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;
const mmapipc = [process.execPath, BIN].map(quote).join(' ');

async function ok(args: string[], input?: string | Buffer): Promise<string> {
  const result = await runCli(args, { input });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return result.stdout;
}

/** A shell pipeline with real pipes (Node's own child stdio would be sockets). */
function shell(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return collect(spawn(SH, ['-c', command], { env: cliEnv() }));
}

/** A ring of `slots` slots, full: its default group has no member, so senders wait. */
async function fullRing(name: string, slots = 2): Promise<string> {
  const file = dir.file(name);
  await ok(['send', '--file', file, '--slots', String(slots), ...Array.from({ length: slots }, (_, i) => `m${i}`)]);
  return file;
}

(haveScript ? describe : describe.skip)(`on a terminal (${SCRIPT})`, () => {
  test('a send waiting for room more than a second says what it waits for and who blocks it', async () => {
    const file = await fullRing('tty-wait.ring');
    const command = `${mmapipc} send --file ${quote(file)} --timeout 2 late`;
    const child = spawn(SCRIPT, ['--quiet', '--return', '--command', command, '/dev/null'], { env: cliEnv({ TERM: 'dumb' }) });
    const result = await collect(child);
    const screen = result.stdout.replace(/\r\n/g, '\n');
    expect(result.code).toBe(124);
    expect(screen).toContain(
      `mmapipc: ${file}: waiting for room (2/2 in the ring, 0 sent so far): blocked by group default, which has no members and holds 2 message(s) (receive with --group default, or mmapipc group rm default)\n`,
    );
    expect(screen.split('\n').filter((line) => line.includes('waiting for room'))).toHaveLength(1);
  });

  test('a receive waiting for a ring file that does not exist says so', async () => {
    const file = dir.file('tty-absent.ring');
    const command = `${mmapipc} receive --file ${quote(file)} --count 1 --timeout 1.5`;
    const result = await collect(spawn(SCRIPT, ['--quiet', '--return', '--command', command, '/dev/null'], { env: cliEnv({ TERM: 'dumb' }) }));
    expect(result.code).toBe(124);
    expect(result.stdout.replace(/\r\n/g, '\n')).toContain(
      `mmapipc: ${file}: waiting for the ring to appear (no file there yet; mmapipc send or mmapipc create makes it)\n`,
    );
  });
});

test('on a pipe the same wait prints nothing but its timeout; --verbose prints the waiting line', async () => {
  const file = await fullRing('pipe-wait.ring');
  const quiet = await runCli(['send', '--file', file, '--timeout', '1.5', 'late']);
  expect(quiet.code).toBe(124);
  expect(quiet.stderr).not.toContain('waiting for room');
  expect(quiet.stderr.split('\n')).toHaveLength(2); // one line and its newline
  const verbose = await runCli(['send', '--file', file, '--timeout', '1.5', '--verbose', 'late']);
  expect(verbose.code).toBe(124);
  expect(verbose.stderr).toContain(`mmapipc: ${file}: waiting for room (2/2 in the ring, 0 sent so far): blocked by group default`);
});

test('send --timeout names a stopped member of the group that holds senders back', async () => {
  const file = dir.file('stopped-member.ring');
  await ok(['create', '--file', file, '--slots', '2']);
  const member = new LiveCli(['receive', '--file', file, '--count', '5'], { stdin: 'ignore' });
  await until(() => hasMapped(member.child.pid!, file), 'the member has the ring mapped');
  try {
    member.child.kill('SIGSTOP');
    await waitStopped(member.child.pid!, 'the member is stopped');
    await ok(['send', '--file', file, 'a', 'b']);
    const blocked = await runCli(['send', '--file', file, '--timeout', '0.3', 'c']);
    expect(blocked.code).toBe(124);
    expect(blocked.stderr).toBe(
      `mmapipc: ${file}: ring stayed full (2/2) for 300 ms; message 1 was not sent (0 were); blocked by pid ${member.child.pid} (stopped), the member of group default, 2 message(s) behind\n`,
    );
  } finally {
    member.child.kill('SIGKILL');
    member.child.kill('SIGCONT');
    await member.exited;
  }
});

describe('an interrupted command says what it did not do', () => {
  test('arguments: "2 of 4 sent", exit 130', async () => {
    const file = dir.file('int-args.ring');
    const sender = new LiveCli(['send', '--file', file, '--slots', '2', '--verbose', 'a', 'b', 'c', 'd'], { stdin: 'ignore' });
    await sender.waitForLine(/^sent: b /);
    await until(() => hasMapped(sender.child.pid!, file), 'the sender has the ring mapped');
    sender.child.kill('SIGINT');
    expect(await sender.exited).toEqual({ code: 130, signal: null });
    expect(sender.stderr).toBe(`mmapipc: ${file}: interrupted: 2 of 4 sent\n`);
  });

  test('stdin: "100 sent, the rest of stdin not read", exit 143', async () => {
    const file = dir.file('int-stdin.ring');
    const sender = new LiveCli(['send', '--file', file, '--verbose', '--json'], { stdin: 'pipe' });
    sender.child.stdin!.write(Array.from({ length: 1000 }, (_, i) => `${i + 1}\n`).join(''));
    await until(() => sender.stderr.includes('waiting for room'), 'the sender says it waits for room');
    sender.child.kill('SIGTERM');
    expect(await sender.exited).toEqual({ code: 143, signal: null });
    expect(sender.lines).toHaveLength(100);
    expect(sender.stderr.split('\n').slice(-2)).toEqual([`mmapipc: ${file}: interrupted: 100 sent, the rest of stdin not read`, '']);
  });
});

test('send --json | head -1: every message is still sent, exit 0 (the report is not its job)', async () => {
  const file = dir.file('json-head.ring');
  const result = await shell(`{ seq 20 | ${mmapipc} send --file ${quote(file)} --json; echo "send exited $?" >&2; } | head -1`);
  expect(result.stdout).toBe('{"sequence":0,"message":"1","bytes":1,"buffer":1,"capacity":100}\n');
  expect(result.stderr).toBe('send exited 0\n');
  const all = await runCli(['receive', '--file', file, '--count', '21', '--timeout', '0']);
  expect(all.stdout).toBe(Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join(''));
});

test('receive --follow | head -1 takes one message: the other 9 stay for the next receiver, in order', async () => {
  const file = dir.file('follow-head.ring');
  await ok(['send', '--file', file, ...Array.from({ length: 10 }, (_, i) => `message ${i + 1}`)]);
  const first = await shell(`${mmapipc} receive --file ${quote(file)} --follow | head -1`);
  expect(first).toMatchObject({ code: 0, stdout: 'message 1\n', stderr: '' });
  const rest = await runCli(['receive', '--file', file, '--count', '10', '--timeout', '0', '--json']);
  expect(rest.code).toBe(124); // only 9 were left
  expect(rest.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { message: string }).message)).toEqual(
    Array.from({ length: 9 }, (_, i) => `message ${i + 2}`),
  );
});

test('receive --count 3 into a pipe writes exactly 3 and leaves the rest', async () => {
  const file = dir.file('count-pipe.ring');
  await ok(['send', '--file', file, 'a', 'b', 'c', 'd', 'e']);
  expect(await shell(`${mmapipc} receive --file ${quote(file)} --count 3 | cat`)).toMatchObject({ code: 0, stdout: 'a\nb\nc\n' });
  expect(await ok(['receive', '--file', file, '--count', '2'])).toBe('d\ne\n');
});

describe('group create on an existing group', () => {
  test('the same settings are a no-op; --lossy on a lossless group and --from are errors (exit 7) naming the command that does it', async () => {
    const file = dir.file('group-conflict.ring');
    await ok(['create', '--file', file]);
    expect(await ok(['group', 'create', 'audit', '--file', file])).toBe('group audit: lossless, starts at 0\n');
    expect(await ok(['group', 'create', 'audit', '--file', file])).toBe('group audit: lossless, starts at 0\n');
    expect(await runCli(['group', 'create', 'audit', '--lossy', '--file', file])).toMatchObject({
      code: 7,
      stdout: '',
      stderr: `mmapipc: ${file}: group audit exists and is lossless; --lossy does not change it: mmapipc group set audit --lossy\n`,
    });
    expect(await runCli(['group', 'create', 'audit', '--from', 'earliest', '--file', file])).toMatchObject({
      code: 7,
      stderr: `mmapipc: ${file}: group audit exists (at position 0); --from applies only when creating: mmapipc group reset audit --to earliest\n`,
    });
    const list = await ok(['group', 'ls', '--json', '--file', file]);
    expect(list).toContain('"name":"audit","lossy":false');
  });
});

test('a lossy receiver lapped many times in one burst reports it in one or two lines, with exact counts', async () => {
  const file = dir.file('gaps.ring');
  const total = 20_000;
  await ok(['create', '--file', file, '--slots', '16']);
  await ok(['group', 'set', 'default', '--lossy', '--file', file]);
  await ok(['group', 'create', 'live', '--lossy', '--file', file]);
  const receiver = new LiveCli(['receive', '--file', file, '--group', 'live', '--follow', '--interval', '2ms'], { stdin: 'ignore' });
  await until(() => hasMapped(receiver.child.pid!, file), 'the receiver has the ring mapped');
  await ok(['send', '--file', file], Array.from({ length: total }, (_, i) => `${i}\n`).join(''));
  const gapLines = () => receiver.stderr.split('\n').filter((line) => line.includes(' missed '));
  const missed = () => gapLines().reduce((sum, line) => sum + Number(/missed (\d+) message/.exec(line)![1]), 0);
  await until(() => receiver.lines.length + missed() === total, 'every message delivered or counted missed');
  receiver.child.kill('SIGTERM');
  await receiver.exited;
  expect(receiver.lines[receiver.lines.length - 1]).toBe(String(total - 1));
  expect(gapLines().length).toBeGreaterThanOrEqual(1);
  expect(gapLines().length).toBeLessThanOrEqual(2);
  expect(gapLines()[0]).toMatch(new RegExp(`^mmapipc: ${file}: group live missed \\d+ message\\(s\\) (from sequence \\d+|in \\d+ gaps between sequence \\d+ and \\d+) \\(senders overwrote them before it read them\\)$`));
});
