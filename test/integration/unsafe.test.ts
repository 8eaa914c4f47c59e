/**
 * Unsafe paths and safe creation, through the real binary: what is refused (with its one line
 * and exit code), the mode of new files, space reserved at creation, and the shared lock every
 * process holds while a ring is open.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../src/errors.js';
import { ringGeometry } from '../../src/layout/ring-layout.js';
import { DEFAULT_READY_TIMEOUT_MS } from '../../src/ring-file/open.js';
import { BIN, LiveCli, cliEnv, collect, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { requireCapability } from '../helpers/tools.js';

const dir = tempDir();
afterAll(() => dir.remove());

const LOCK_FIXTURE = fileURLToPath(new URL('../fixtures/hostile-lock.mjs', import.meta.url));
const NOT_REGULAR = 'is not a regular file (a device, FIFO or socket); refusing to map it';
const isRoot = requireCapability(process.geteuid?.() === 0, 'the tests that chown a ring or mount a small tmpfs', `they need root (euid ${process.geteuid?.()})`);

async function validRing(name: string): Promise<string> {
  const path = dir.file(name);
  expect(await runCli(['send', '--file', path, 'hello'])).toMatchObject({ code: 0, stderr: '' });
  return path;
}

async function expectRefused(path: string, code: number, reason: string): Promise<void> {
  const result = await runCli(['send', '--file', path, 'x']);
  expect(result).toMatchObject({ code, signal: null, stdout: '', stderr: `mmapipc: ${path}: ${reason}\n` });
}

describe('refuses unsafe paths', () => {
  test('a symbolic link to a ring, with exit 4', async () => {
    const target = await validRing('target.ring');
    const link = dir.file('link.ring');
    symlinkSync(target, link);
    await expectRefused(link, ExitCode.unsafeFile, 'is a symbolic link; refusing to follow it (it could point anywhere). Pass the real path');
  });

  test('a dangling symbolic link, with exit 4 and without creating its target', async () => {
    const link = dir.file('dangling.ring');
    symlinkSync(dir.file('nowhere.ring'), link);
    await expectRefused(link, ExitCode.unsafeFile, 'is a symbolic link; refusing to follow it (it could point anywhere). Pass the real path');
    expect(readdirSync(dir.path)).not.toContain('nowhere.ring');
  });

  test('a directory, with exit 3', async () => {
    const path = dir.file('a-directory');
    mkdirSync(path);
    await expectRefused(path, ExitCode.badRingFile, 'is a directory, not a ring file; pass --file with a file path');
  });

  test('a FIFO, with exit 4 and without blocking on it', async () => {
    const path = dir.file('fifo');
    execFileSync('mkfifo', [path]);
    await expectRefused(path, ExitCode.unsafeFile, NOT_REGULAR);
  });

  test('a character device (/dev/null), with exit 4', async () => {
    await expectRefused('/dev/null', ExitCode.unsafeFile, NOT_REGULAR);
  });

  test('a Unix socket, with exit 4', async () => {
    const path = dir.file('socket');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      await expectRefused(path, ExitCode.unsafeFile, 'is not a regular file (a socket or a device without a driver); refusing to map it');
    } finally {
      server.close();
    }
  });

  (isRoot ? test : test.skip)('a ring owned by another user whose group is not ours, with exit 4, even for root (needs root to chown)', async () => {
    const path = await validRing('foreign.ring');
    chownSync(path, 65534, 65534);
    // Names as getent(1) gives them, or the bare number when the system has none.
    const name = (db: string, kind: string) => {
      const found = execFileSync('sh', ['-c', `getent ${db} 65534 | cut -d: -f1`], { encoding: 'utf8' }).trim();
      return found ? `${found} (${kind} 65534)` : `${kind} 65534`;
    };
    await expectRefused(
      path,
      ExitCode.unsafeFile,
      `is owned by ${name('passwd', 'uid')} and group ${name('group', 'gid')}, mode 0600, and you (uid ${process.geteuid!()}) are not in that group; ` +
        "another user's ring is used only through a group of yours that may read and write it. Ask its owner to chgrp it to a group you are in and chmod g+rw, or use a ring of your own",
    );
  });

  test('a ring writable by other users, with exit 4', async () => {
    const path = await validRing('open-to-all.ring');
    chmodSync(path, 0o666);
    await expectRefused(path, ExitCode.unsafeFile, 'is writable by other users (mode 0666); anyone could inject messages. Run chmod o-w on it');
  });

  test('a path in a directory that does not exist, with exit 1', async () => {
    const path = dir.file('missing/q.ring');
    await expectRefused(path, ExitCode.failure, 'the directory does not exist (open: ENOENT)');
  });
});

describe('creates files safely', () => {
  function sendWithUmask(umask: string, args: string[]) {
    const child = spawn('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, BIN, ...args], { env: cliEnv(), stdio: 'pipe' });
    return collect(child);
  }

  test.each([
    ['022', [], 0o600],
    ['077', [], 0o600],
    ['022', ['--mode', '0660'], 0o660],
    ['077', ['--mode', '0660'], 0o660],
    ['000', ['--mode', '0640'], 0o640],
  ] as const)('under umask %s, %j makes a file of the exact mode', async (umask, extra, mode) => {
    const path = dir.file(`mode-${umask}-${extra.join('')}.ring`);
    expect(await sendWithUmask(umask, ['send', '--file', path, ...extra, 'x'])).toMatchObject({ code: 0, stderr: '' });
    expect((statSync(path).mode & 0o777).toString(8)).toBe(mode.toString(8));
  });

  test('--mode 0666 is refused by the parser with exit 2, and no file is made', async () => {
    const path = dir.file('mode-0666.ring');
    const result = await runCli(['send', '--file', path, '--mode', '0666', 'x']);
    expect(result).toMatchObject({
      code: ExitCode.usage,
      stderr:
        "mmapipc: option '--mode <octal>' argument '0666' is invalid. refusing mode 0666: a ring writable by others lets anyone inject messages (see 'mmapipc send --help')\n",
    });
    expect(readdirSync(dir.path)).not.toContain('mode-0666.ring');
  });

  describe('on a file system too small for the ring', () => {
    // The test mounts its own 1 MB tmpfs (as root); where it cannot, it is skipped with a notice,
    // and under CI=true the run fails instead.
    const small = dir.file('small-tmpfs');
    mkdirSync(small);
    const mounted = isRoot && requireCapability(tryMount(small), 'the ENOSPC test', `cannot mount a 1 MB tmpfs on ${small}`);
    afterAll(() => {
      if (mounted) execFileSync('umount', [small]);
    });

    (mounted ? test : test.skip)('creation fails at once with ENOSPC and leaves no file behind', async () => {
      const path = `${small}/big.ring`;
      const slots = 1000;
      const slotSize = 4096;
      const result = await runCli(['send', '--file', path, '--slots', String(slots), '--slot-size', String(slotSize), 'x']);
      const geometry = ringGeometry(slots, slotSize);
      if (typeof geometry === 'string') throw new Error(geometry);
      expect(result).toMatchObject({
        code: ExitCode.failure,
        signal: null,
        stderr: `mmapipc: ${path}: no space left on device for the ring's ${geometry.fileLength} bytes; free some space or pass a smaller --slots or --slot-size (posix_fallocate: ENOSPC)\n`,
      });
      expect(readdirSync(small)).toEqual([]);
      // A ring that fits is still made there.
      expect(await runCli(['send', '--file', path, 'x'])).toMatchObject({ code: 0, stderr: '' });
    });
  });
});

describe('the shared lock', () => {
  function lockProbe(path: string) {
    return collect(spawn(process.execPath, [LOCK_FIXTURE, 'probe', path], { stdio: 'pipe' }));
  }

  test('is held by a receiver while it has the ring open, so an exclusive lock fails until it exits', async () => {
    const path = await validRing('locked.ring');
    const receiver = new LiveCli(['receive', '--file', path, '--follow']);
    await receiver.waitForLine('hello'); // it has the ring open now
    expect(await lockProbe(path)).toMatchObject({ code: 0, stdout: 'busy\n' });
    receiver.child.kill('SIGTERM');
    expect(await receiver.exited).toMatchObject({ code: ExitCode.sigterm });
    expect(await lockProbe(path)).toMatchObject({ code: 0, stdout: 'free\n' });
  });

  test('an exclusive lock held elsewhere makes an opener wait, then give up with exit 3', async () => {
    const path = await validRing('held.ring');
    // Holds LOCK_EX until its stdin ends.
    const holder = spawn(process.execPath, [LOCK_FIXTURE, 'hold-ex', path], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => holder.once('close', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const started = performance.now();
    const result = await runCli(['send', '--file', path, 'x']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(DEFAULT_READY_TIMEOUT_MS);
    expect(result).toMatchObject({
      code: ExitCode.badRingFile,
      stderr: `mmapipc: ${path}: is locked by another process that is creating or removing it\n`,
    });
    holder.stdin.end();
    expect(await exited).toBe(0);
    expect(await runCli(['receive', '--file', path, '--count', '1'])).toMatchObject({ code: 0, stdout: 'hello\n' });
  });
});

test('the ring descriptor is not inherited by child processes (O_CLOEXEC), so the lock dies with its holder', async () => {
  const path = await validRing('cloexec.ring');
  const spawner = fileURLToPath(new URL('../fixtures/hostile-spawner.mjs', import.meta.url));
  const result = await collect(spawn(process.execPath, [spawner, path], { stdio: 'pipe' }));
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const childPid = Number(result.stdout.trim());
  try {
    expect(process.kill(childPid, 0)).toBe(true); // the child still runs
    expect(await collect(spawn(process.execPath, [LOCK_FIXTURE, 'probe', path], { stdio: 'pipe' }))).toMatchObject({ stdout: 'free\n' });
  } finally {
    process.kill(childPid, 'SIGKILL');
  }
});

/** Mounts a 1 MB tmpfs on `dir`; false when this machine does not let us. */
function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
