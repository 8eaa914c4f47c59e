/**
 * Rings shared between users (docs/sharing.md), with throwaway users and groups made here: a ring
 * given to a group (--mode 0660 --file-group, or a setgid directory) works for every member of
 * that group; a ring another user may only read works for observers (stat, peek), which write
 * nothing; a ring of a user the caller shares no group with is refused, root included.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { ExitCode } from '../../src/errors.js';
import { LiveCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { ThrowawayUsers, describeWithUsers, runAs, type Account } from '../helpers/users.js';

const READ_WRITE_RULE =
  "another user's ring is used only through a group of yours that may read and write it. Ask its owner to chgrp it to a group you are in and chmod g+rw, or use a ring of your own";
const READ_RULE =
  "another user's ring is read only through a group of yours that may read it (g+r), or when others may read it (o+r). Ask its owner to chmod g+r or o+r, or use a ring of your own";

const lines = (text: string) => text.split('\n').filter((line) => line !== '');
const rootName = () => execFileSync('getent', ['passwd', '0'], { encoding: 'utf8' }).split(':')[0];

describeWithUsers('rings shared between users', () => {
  const users = new ThrowawayUsers();
  const dir = tempDir('mmapipc-users-');
  let crew: { name: string; gid: number };
  let member: Account;
  let member2: Account;
  let server3: Account;
  let stranger: Account;

  beforeAll(() => {
    chmodSync(dir.path, 0o1777); // every test user can make its own files here, as in /tmp
    crew = users.group('crew');
    member = users.user('mem', crew);
    member2 = users.user('mem2', crew);
    server3 = users.user('srv', crew);
    stranger = users.user('str', users.group('strg'));
  });
  afterAll(() => {
    dir.remove();
    users.remove();
  });

  test('a ring root creates with --mode 0660 --file-group is used by a member of that group: send, receive, groups, stat', async () => {
    const file = dir.file('crew.ring');
    const created = await runCli(['create', '--file', file, '--slots', '8', '--mode', '0660', '--file-group', crew.name]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(new RegExp(`mode 0660, group ${crew.name} \\(gid ${crew.gid}\\)\\n$`));
    expect(statSync(file)).toMatchObject({ uid: 0, gid: crew.gid });
    expect(statSync(file).mode & 0o777).toBe(0o660);

    expect(await runAs(member, ['group', 'create', 'theirs', '--file', file, '--from', 'earliest'])).toMatchObject({ code: 0, stderr: '' });
    expect(await runCli(['send', '--file', file, 'from-root-0', 'from-root-1'])).toMatchObject({ code: 0, stderr: '' });
    expect(await runAs(member, ['send', '--file', file, 'from-member-0', 'from-member-1'])).toMatchObject({ code: 0, stderr: '' });
    const theirs = await runAs(member, ['receive', '--file', file, '--group', 'theirs', '--count', '4', '--timeout', '10s']);
    const ours = await runCli(['receive', '--file', file, '--count', '4', '--timeout', '10s']);
    const all = ['from-root-0', 'from-root-1', 'from-member-0', 'from-member-1'];
    expect(theirs).toMatchObject({ code: 0, stderr: '' });
    expect(lines(theirs.stdout)).toEqual(all);
    expect(ours).toMatchObject({ code: 0, stderr: '' });
    expect(lines(ours.stdout)).toEqual(all);
    const stat = await runAs(member, ['stat', '--file', file, '--json']);
    expect(stat).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(stat.stdout)).toMatchObject({ sent: 4, groups: expect.arrayContaining([expect.objectContaining({ name: 'theirs', lag: 0 })]) });
    expect(await runAs(member, ['group', 'rm', 'theirs', '--file', file])).toMatchObject({ code: 0 });
  }, 60_000);

  test('a setgid directory gives a new ring its group, and the group can use it', async () => {
    const shared = dir.file('setgid');
    mkdirSync(shared);
    chownSync(shared, 0, crew.gid);
    chmodSync(shared, 0o2770);
    const file = `${shared}/q.ring`;
    expect(await runCli(['send', '--file', file, '--mode', '0660', 'made-by-root'])).toMatchObject({ code: 0, stderr: '' });
    expect(statSync(file)).toMatchObject({ uid: 0, gid: crew.gid });
    const received = await runAs(member, ['receive', '--file', file, '--group', 'default', '--count', '1', '--timeout', '10s']);
    expect(received).toMatchObject({ code: 0, stderr: '', stdout: 'made-by-root\n' });
  }, 60_000);

  test('a ring the group may only read (0640): stat, peek and group ls work for a member, writing nothing; send is refused in one line', async () => {
    const file = dir.file('readable.ring');
    expect((await runCli(['create', '--file', file, '--slots', '8', '--mode', '0640', '--file-group', crew.name])).code).toBe(0);
    expect((await runCli(['send', '--file', file, 'look-0', 'look-1'])).code).toBe(0);
    const before = readFileSync(file);
    const stat = await runAs(member, ['stat', '--file', file, '--json']);
    expect(stat).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(stat.stdout)).toMatchObject({ sent: 2, waiting: 2 });
    const peek = await runAs(member, ['peek', '--file', file]);
    expect(peek).toMatchObject({ code: 0, stderr: '' });
    expect(peek.stdout).toContain('look-0');
    expect(peek.stdout).toContain('look-1');
    const groups = await runAs(member, ['group', 'ls', '--file', file, '--json']);
    expect(groups).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(groups.stdout)).toMatchObject({ name: 'default', lossy: false, position: 0, lag: 2 });
    const send = await runAs(member, ['send', '--file', file, 'intruder']);
    expect(send).toMatchObject({
      code: ExitCode.unsafeFile,
      stdout: '',
      stderr: `mmapipc: ${file}: is owned by ${rootName()} (uid 0) and group ${crew.name} (gid ${crew.gid}), mode 0640, which does not give its group read and write (g+rw); ${READ_WRITE_RULE}\n`,
    });
    expect(readFileSync(file).equals(before)).toBe(true);
  }, 60_000);

  test('a ring others may read (0644) can be looked at by any user, and used by none of them', async () => {
    const file = dir.file('public.ring');
    expect((await runCli(['create', '--file', file, '--mode', '0644'])).code).toBe(0);
    expect((await runCli(['send', '--file', file, 'public'])).code).toBe(0);
    const stat = await runAs(stranger, ['stat', '--file', file, '--json']);
    expect(stat).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(stat.stdout)).toMatchObject({ sent: 1 });
    expect(await runAs(stranger, ['receive', '--file', file, '--count', '1', '--timeout', '1s'])).toMatchObject({ code: ExitCode.unsafeFile, stdout: '' });
  }, 60_000);

  test('a ring of a user one shares no group with is refused, to root as to anyone, in one line', async () => {
    const file = dir.file('private.ring');
    expect(await runAs(member, ['send', '--file', file, 'private'])).toMatchObject({ code: 0, stderr: '' });
    expect(statSync(file)).toMatchObject({ uid: member.uid, gid: crew.gid });
    const owner = `is owned by ${member.name} (uid ${member.uid}) and group ${crew.name} (gid ${crew.gid}), mode 0600, and you`;
    expect(await runCli(['send', '--file', file, 'x'])).toMatchObject({
      code: ExitCode.unsafeFile,
      stdout: '',
      stderr: `mmapipc: ${file}: ${owner} (uid 0) are not in that group; ${READ_WRITE_RULE}\n`,
    });
    expect(await runCli(['stat', '--file', file])).toMatchObject({
      code: ExitCode.unsafeFile,
      stdout: '',
      stderr: `mmapipc: ${file}: ${owner} (uid 0) are not in that group; ${READ_RULE}\n`,
    });
    // Shared with the group now, but the stranger is not in it.
    chmodSync(file, 0o660);
    expect(await runAs(stranger, ['receive', '--file', file, '--count', '1', '--timeout', '1s'])).toMatchObject({
      code: ExitCode.unsafeFile,
      stdout: '',
      stderr: `mmapipc: ${file}: is owned by ${member.name} (uid ${member.uid}) and group ${crew.name} (gid ${crew.gid}), mode 0660, and you (uid ${stranger.uid}) are not in that group; ${READ_WRITE_RULE}\n`,
    });
  }, 60_000);

  test('request/reply on a 0660 ring: two members of its group ask a third\'s server, each through the shared <ring>.replies/ (2770, the ring\'s group); a directory a stranger planted there is refused in one line', async () => {
    const file = dir.file('ask.ring');
    expect((await runCli(['create', '--file', file, '--slots', '16', '--mode', '0660', '--file-group', crew.name])).code).toBe(0);
    const server = new LiveCli(['serve', '--file', file, '--', 'tr', 'a-z', 'A-Z'], { wrap: ['runuser', '-u', server3.name, '--'] });
    try {
      await server.waitForErrorLine(/serving group/);
      const first = await runAs(member, ['request', '--file', file, '--timeout', '10s', 'from member']);
      expect(first).toMatchObject({ code: 0, stdout: 'FROM MEMBER', stderr: '' });
      const replies = `${file}.replies`;
      expect(statSync(replies)).toMatchObject({ uid: member.uid, gid: crew.gid });
      expect(statSync(replies).mode & 0o7777).toBe(0o2770);
      // The second member uses the directory the first one made (before: refused, not its own).
      const second = await runAs(member2, ['request', '--file', file, '--timeout', '10s', 'from member2']);
      expect(second).toMatchObject({ code: 0, stdout: 'FROM MEMBER2', stderr: '' });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const planted = dir.file('planted.ring');
    expect((await runCli(['create', '--file', planted, '--slots', '16', '--mode', '0660', '--file-group', crew.name])).code).toBe(0);
    mkdirSync(`${planted}.replies`);
    chownSync(`${planted}.replies`, stranger.uid, stranger.gid);
    chmodSync(`${planted}.replies`, 0o777);
    const plantedServer = new LiveCli(['serve', '--file', planted, '--', 'cat'], { wrap: ['runuser', '-u', server3.name, '--'] });
    let refused;
    try {
      await plantedServer.waitForErrorLine(/serving group/);
      refused = await runAs(member, ['request', '--file', planted, '--timeout', '5s', 'x']);
    } finally {
      plantedServer.child.kill('SIGTERM');
      await plantedServer.exited;
    }
    expect(refused.code).toBe(ExitCode.unsafeFile);
    expect(lines(refused.stderr)).toEqual([`mmapipc: ${planted}.replies: is writable by other users (mode 0777); refusing to keep reply rings there. Remove it, or chmod o-w it`]);
  }, 60_000);

  test('--file-group names a group the caller is not in: exit 2 in one line, and no file is left', async () => {
    const file = dir.file('not-mine.ring');
    const refused = await runAs(stranger, ['create', '--file', file, '--file-group', crew.name]);
    expect(refused).toMatchObject({
      code: ExitCode.usage,
      stdout: '',
      stderr: `mmapipc: ${file}: cannot give the new ring to group ${crew.name} (gid ${crew.gid}): you are not a member of it (fchown: EPERM); pick one of your groups (id -Gn)\n`,
    });
    expect(existsSync(file)).toBe(false);
    const unknown = await runCli(['create', '--file', file, '--file-group', 'no-such-group-mmapipc']);
    expect(unknown.code).toBe(ExitCode.usage);
    expect(lines(unknown.stderr)).toHaveLength(1);
    expect(unknown.stderr).toContain("no group named 'no-such-group-mmapipc' in /etc/group");
    expect(existsSync(file)).toBe(false);
  }, 60_000);
});
