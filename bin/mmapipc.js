#!/usr/bin/env node
// Runs the compiled CLI (built into dist/ by `npm install` / `npm ci`).
// `--version` is answered before anything else loads: scripts call it to probe for the tool.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync, writeSync } = await import('node:fs');
  writeSync(1, `${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { run } = await import('../dist/cli/main.js');
  await run();
}
