/**
 * What a start loads, recorded from the real process (test/fixtures/record-loads.cjs): a
 * `--version` nothing but its package.json; a one-shot `send` the bundled CLI and ffi-rs's native
 * binding (not ffi-rs's loader), none of Node's modules that only other paths need (crypto,
 * streams, sockets, child processes, the ES module loader), and no chalk unless colour is shown.
 * Timing is the bench's (src/bench/cli-figures.ts), never a test's.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BIN, cliEnv, collect, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const RECORD_LOADS = fileURLToPath(new URL('../fixtures/record-loads.cjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempDir();
afterAll(() => dir.remove());

interface Loads {
  /** Files required, relative to the repository (node_modules/<package>/... for packages). */
  readonly files: string[];
  /** Node's own modules, by their internal id (crypto, net, internal/process/report, ...). */
  readonly node: string[];
}

async function loadedBy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Loads> {
  const log = dir.file(`loads-${args[0]}-${Math.random().toString(36).slice(2)}.log`);
  const child = spawn(process.execPath, ['--require', RECORD_LOADS, BIN, ...args], { env: cliEnv({ ...env, MMAPIPC_LOAD_LOG: log }), stdio: 'pipe' });
  const result = await collect(child);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return {
    files: lines.filter((line) => line.startsWith('file ')).map((line) => line.slice('file '.length).replace(ROOT, '')),
    node: lines.filter((line) => line.startsWith('node ')).map((line) => line.slice('node '.length)),
  };
}

/** Node's modules that loading them costs a start and a one-shot send does not need. */
const NOT_FOR_A_SEND = ['crypto', 'tty', 'net', 'stream', 'child_process', 'readline', 'v8', 'perf_hooks', 'internal/process/report', 'internal/modules/esm/loader'];

test('--version reads package.json and loads nothing of the program, ffi-rs or commander', async () => {
  const loaded = await loadedBy(['--version']);
  expect(loaded.files).toEqual(['bin/mmapipc.js', 'package.json']);
  expect(loaded.node.filter((id) => NOT_FOR_A_SEND.includes(id))).toEqual([]);
});

test('send to an existing ring loads the bundled CLI and the ffi-rs binding directly, and none of what other paths need', async () => {
  const ring = dir.file('send.ring');
  expect(await runCli(['create', '--file', ring])).toMatchObject({ code: 0, stderr: '' });
  const loaded = await loadedBy(['send', '--file', ring, 'x']);
  const binding = `node_modules/@yuuang/ffi-rs-linux-${process.arch}-gnu/ffi-rs.linux-${process.arch}-gnu.node`;
  expect(loaded.files).toEqual(['bin/mmapipc.js', 'dist/bundle/cli.cjs', binding]);
  expect(loaded.node.filter((id) => NOT_FOR_A_SEND.includes(id))).toEqual([]);
  expect(await runCli(['receive', '--file', ring, '--count', '1'])).toMatchObject({ code: 0, stdout: 'x\n' });
});

test('chalk (which loads node:tty) is loaded when colour is asked for', async () => {
  const ring = dir.file('colour.ring');
  const loaded = await loadedBy(['send', '--file', ring, '--verbose', 'x'], { FORCE_COLOR: '1' });
  expect(loaded.node).toContain('tty');
});

test('top-level help lists every command', async () => {
  const help = await runCli(['--help']);
  expect(help.code).toBe(0);
  const listed = [...help.stdout.matchAll(/^ {2}([a-z-]+)\b/gm)].map((match) => match[1]);
  expect(listed).toEqual(expect.arrayContaining(['send', 'receive', 'demo', 'bench', 'stat', 'peek', 'create', 'rm', 'completion', 'counter', 'group', 'bridge']));
});

test("the package's import (its own name) is the bundled library, and it works", async () => {
  const ring = dir.file('library.ring');
  const script = `
    import { RingFile } from 'mmapipc';
    const ring = RingFile.create(${JSON.stringify(ring)}, { slots: 8, slotSize: 16, role: 'sender' });
    ring.trySend(Buffer.from('from the library'));
    ring.close();
    console.log(import.meta.resolve('mmapipc'));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: cliEnv(), stdio: 'pipe' });
  const result = await collect(child);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(result.stdout).toBe(`file://${ROOT}dist/bundle/mmapipc.js\n`);
  expect(await runCli(['receive', '--file', ring, '--count', '1'])).toMatchObject({ code: 0, stdout: 'from the library\n' });
});
