/**
 * The one rule for missing tools (test/helpers/tools.ts): a notice and a skip on a developer's
 * machine, a failure under CI=true. Run in a child with a PATH that has no such tool.
 */
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/temp.js';

const TOOLS = fileURLToPath(new URL('../helpers/tools.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

// A PATH holding node and nothing else (fish lives in /usr/bin, beside node, on most machines).
const bin = tempDir('mmapipc-path-');
symlinkSync(process.execPath, bin.file('node'));
afterAll(() => bin.remove());

function probe(ci: boolean) {
  const code = `import { requireTool } from ${JSON.stringify(TOOLS)};
    console.log(String(requireTool('fish', 'the fish completion tests')));`;
  const env = { ...process.env, PATH: bin.path, CI: ci ? 'true' : '' };
  return spawnSync(TSX, ['-e', code], { env, encoding: 'utf8' });
}

test('outside CI a missing tool prints one line naming it and the package, and the caller skips', () => {
  const result = probe(false);
  expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
    status: 0,
    stdout: 'undefined\n',
    stderr: 'skipping: fish is not installed, so the fish completion tests cannot run (apt-get install -y fish; .ci/run installs it)\n',
  });
});

test('under CI=true a missing tool fails, with the same words', () => {
  const result = probe(true);
  expect(result.status).not.toBe(0);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('Error: fish is not installed, so the fish completion tests cannot run (apt-get install -y fish; .ci/run installs it)');
});
