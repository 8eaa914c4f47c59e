/**
 * The published package: what `npm pack` puts in the tarball, and what installing that tarball
 * prints. Users of the tarball get the built dist/ and run no install-time build (so npm 11
 * prints no `npm warn install-scripts`); the tarball holds what they run, not the bench's
 * results and charts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('mmapipc-package-');
afterAll(() => dir.remove());

const npm = (args: string[], cwd = ROOT) => spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });

test('package.json builds in prepack and has no install-time script', () => {
  const scripts = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')).scripts as Record<string, string>;
  expect(scripts.prepack).toBe('npm run build');
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect({ hook, script: scripts[hook] }).toEqual({ hook, script: undefined });
});

test('the tarball holds bin, dist, the docs, README and LICENSE, and no bench results or charts', () => {
  // --ignore-scripts: dist/ was built by `npm test`; prepack would rebuild it under the other tests.
  const packed = npm(['pack', '--dry-run', '--json', '--ignore-scripts']);
  expect(packed.status).toBe(0);
  const files: string[] = JSON.parse(packed.stdout)[0].files.map((file: { path: string }) => file.path);
  expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'bin/mmapipc.js', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'docs/format.md', 'docs/stat.md']));
  expect(files.filter((path) => !/^(bin|dist|docs)\//.test(path)).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
  expect(files.filter((path) => /\.svg$|performance/.test(path))).toEqual([]);
  expect(readFileSync(`${ROOT}/LICENSE`, 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 mmapipc authors\n/);
});

test('installing the tarball into a fresh prefix warns about nothing, and the installed mmapipc runs', () => {
  const pack = npm(['pack', '--ignore-scripts', '--pack-destination', dir.path, '--silent']);
  expect(pack.status).toBe(0);
  const tarball = dir.file(pack.stdout.trim().split('\n').pop()!);
  const prefix = dir.file('prefix');
  const install = npm(['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], dir.path);
  const output = `${install.stdout}${install.stderr}`;
  process.stderr.write(`package.test.ts: npm install of ${tarball}: ${output.trim().split('\n').pop()}\n`);
  expect(install.status).toBe(0);
  expect(output.split('\n').filter((line) => /warn/i.test(line))).toEqual([]);
  const version = spawnSync(`${prefix}/bin/mmapipc`, ['--version'], { encoding: 'utf8' });
  expect({ status: version.status, stdout: version.stdout, stderr: version.stderr }).toEqual({ status: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
  // The installed copy runs a real command from its own dist/ (no build happened at install).
  const created = spawnSync(`${prefix}/bin/mmapipc`, ['create', '--file', dir.file('q.ring')], { encoding: 'utf8' });
  expect({ status: created.status, stderr: created.stderr }).toEqual({ status: 0, stderr: '' });
});
