import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { LiveCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { versionOneRing } from '../helpers/v1-ring.js';

const dir = tempDir();
afterAll(() => dir.remove());

test('rm removes an idle ring quietly when not on a terminal', async () => {
  const file = dir.file('idle.ring');
  expect((await runCli(['send', '--file', file, 'left behind'])).code).toBe(0);
  expect(await runCli(['rm', '--file', file])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  expect(existsSync(file)).toBe(false);
});

test('rm refuses while a receiver has the ring open, naming it; --force removes it anyway', async () => {
  const file = dir.file('busy.ring');
  expect((await runCli(['send', '--file', file, 'first'])).code).toBe(0);
  const receiver = new LiveCli(['receive', '--json', '--count', '2', '--file', file]);
  await receiver.waitForLine('"message":"first"'); // attached, now waiting for a second message
  try {
    const refused = await runCli(['rm', '--file', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `mmapipc: ${file}: is in use by pid ${receiver.child.pid} (receiver); stop them first, or pass --force to remove it anyway\n`,
    );
    expect(existsSync(file)).toBe(true);
    const forced = await runCli(['rm', '--force', '--file', file]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain(`removed while in use by pid ${receiver.child.pid} (receiver)`);
    expect(existsSync(file)).toBe(false);
  } finally {
    receiver.child.kill('SIGINT');
  }
  expect((await receiver.exited).code).toBe(130);
});

test('rm removes a ring whose only sender was killed: the lock died with it', async () => {
  const file = dir.file('orphan.ring');
  const sender = new LiveCli(['send', '--json', '--slots', '2', '--file', file, 'one', 'two', 'three']);
  await sender.waitForLine('"message":"two"'); // full: it waits to send "three"
  sender.child.kill('SIGKILL');
  await sender.exited;
  expect(await runCli(['rm', '--file', file])).toMatchObject({ code: 0, stderr: '' });
  expect(existsSync(file)).toBe(false);
});

test('rm removes a ring of format version 1 (which nothing else here will open)', async () => {
  const file = dir.file('version-1.ring');
  writeFileSync(file, versionOneRing(4, 16, ['left', 'by 0.1']), { mode: 0o600 });
  expect((await runCli(['receive', '--file', file, '--count', '1'])).code).toBe(3);
  expect(await runCli(['rm', '--file', file])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  expect(existsSync(file)).toBe(false);
});

test('rm never removes a file that is not a ring, not even with --force', async () => {
  const file = dir.file('notes.txt');
  writeFileSync(file, 'precious notes that are not a ring file at all\n');
  for (const args of [['rm', '--file', file], ['rm', '--force', '--file', file]]) {
    const result = await runCli(args);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`^mmapipc: ${file}: not a ring file .*use rm\\(1\\) if you mean it\\)\\n$`));
  }
  expect(readFileSync(file, 'utf8')).toContain('precious');
});

test('rm refuses a symbolic link (exit 4) and a missing file (exit 1)', async () => {
  const target = dir.file('target.ring');
  const link = dir.file('link.ring');
  expect((await runCli(['create', '--file', target])).code).toBe(0);
  symlinkSync(target, link);
  const linked = await runCli(['rm', '--file', link]);
  expect(linked.code).toBe(4);
  expect(linked.stderr).toContain('is a symbolic link');
  expect(existsSync(target)).toBe(true);
  const missing = await runCli(['rm', '--file', dir.file('missing.ring')]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe(`mmapipc: ${dir.file('missing.ring')}: no such ring file (open: ENOENT)\n`);
});
