/**
 * One-shot commands load only what they need: a `send` to an existing ring loads none of the
 * other commands' code, no classic-layout code and no chalk when nothing is coloured. Checked by
 * recording every module the real process loads (test/fixtures/record-loads.mjs).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BIN, cliEnv, collect, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const RECORD_LOADS = fileURLToPath(new URL('../fixtures/record-loads.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const dir = tempDir();
afterAll(() => dir.remove());

/** Runs the CLI; returns what it loaded: dist/ files relative to dist/, packages by name. */
async function loadedBy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const log = dir.file(`loads-${args[0] ?? 'none'}-${Math.random().toString(36).slice(2)}.log`);
  const child = spawn(process.execPath, ['--import', RECORD_LOADS, BIN, ...args], { env: cliEnv({ ...env, MMAPIPC_LOAD_LOG: log }), stdio: 'pipe' });
  const result = await collect(child);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file:'))
    .map((url) => fileURLToPath(url))
    .map((path) => (path.startsWith(DIST) ? path.slice(DIST.length) : (/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? path)));
}

const commandFiles = readdirSync(`${DIST}cli/commands`).filter((name) => name.endsWith('.js'));

test('send to an existing ring loads send and the ring, nothing of the other commands, classic, bench or chalk', async () => {
  const ring = dir.file('send.ring');
  expect(await runCli(['create', '--file', ring])).toMatchObject({ code: 0, stderr: '' });
  const loaded = await loadedBy(['send', '--file', ring, 'x']);
  expect(loaded).toEqual(expect.arrayContaining(['cli/commands/send.js', 'ring-file/ring-file.js', 'commander', 'ffi-rs']));
  expect(loaded.filter((file) => file.startsWith('cli/commands/'))).toEqual(['cli/commands/send.js']);
  expect(loaded.filter((file) => /^(bench|counter|counter-run)\/|^cli\/classic\/(send|receive|inspect)\.js$|^classic\/classic-(file|ring)\.js$/.test(file))).toEqual([]);
  expect(loaded).not.toContain('chalk');
});

test('chalk is loaded when colour is asked for', async () => {
  const ring = dir.file('colour.ring');
  expect(await loadedBy(['send', '--file', ring, '--verbose', 'x'], { FORCE_COLOR: '1' })).toContain('chalk');
});

test('top-level help loads every command module, so it lists them all', async () => {
  const loaded = await loadedBy(['--help']);
  expect(commandFiles.filter((file) => !loaded.includes(`cli/commands/${file}`))).toEqual([]);
});
